"""What on-call humans do in PagerDuty's web UI, as test helpers that fire the same webhooks:
acknowledge, resolve, escalate, reassign, delegate, reopen, the ack timeout (unacknowledge),
priority, notes, replies to responder requests, and triggering an incident by hand.

Users may be named by id, email or first name (``"alice"``); services by id or name.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from . import incidents, shapes
from .incidents import WEB
from .records import JSON, Agent, Incident
from .state import Account, ApiError

UI_CLIENT: JSON = {"name": "PagerDuty"}


class HumansMixin:
    account: Account
    _lock: threading.RLock

    def _deliver(self) -> None:  # provided by the emulator
        raise NotImplementedError

    @contextmanager
    def _acting(self) -> Iterator[Account]:
        """Holds the lock for a change, delivers its webhooks after releasing it, and turns
        PagerDuty's refusal (e.g. "Incident Already Resolved") into ValueError."""
        try:
            with self._lock:
                yield self.account
        except ApiError as exc:
            raise ValueError(exc.message) from exc
        finally:
            self._deliver()

    def _find(self, acct: Account, incident_id: str) -> Incident:
        inc = acct.incidents.get(incident_id)
        if inc is None:
            raise KeyError(f"no incident {incident_id!r}")
        return inc

    def _user(self, acct: Account, user: str | None) -> Agent:
        return None if user is None else ("user", acct.require_user(user).id)

    def acknowledge(self, incident_id: str, user_id: str) -> JSON:
        with self._acting() as acct:
            inc = self._find(acct, incident_id)
            incidents.acknowledge(acct, inc, self._user(acct, user_id), WEB, UI_CLIENT)
            return shapes.incident_json(acct, inc)

    def resolve(self, incident_id: str, user_id: str | None = None) -> JSON:
        """``user_id=None``: resolved by PagerDuty itself (e.g. the service's auto-resolve)."""
        with self._acting() as acct:
            inc = self._find(acct, incident_id)
            client = UI_CLIENT if user_id else None
            incidents.resolve(acct, inc, self._user(acct, user_id), WEB, client)
            return shapes.incident_json(acct, inc)

    def escalate(
        self, incident_id: str, level: int | None = None, *, user_id: str | None = None
    ) -> JSON:
        """To ``level`` (default: the next one) of the incident's escalation policy."""
        with self._acting() as acct:
            inc = self._find(acct, incident_id)
            target = inc.escalation_level + 1 if level is None else level
            incidents.escalate(acct, inc, target, self._user(acct, user_id), WEB, UI_CLIENT)
            return shapes.incident_json(acct, inc)

    def reassign(
        self, incident_id: str, user_ids: str | Iterable[str], *, by: str | None = None
    ) -> JSON:
        with self._acting() as acct:
            inc = self._find(acct, incident_id)
            names = [user_ids] if isinstance(user_ids, str) else list(user_ids)
            users = [acct.require_user(u).id for u in names]
            incidents.reassign(acct, inc, users, self._user(acct, by), WEB, UI_CLIENT)
            return shapes.incident_json(acct, inc)

    def delegate(
        self, incident_id: str, escalation_policy_id: str, *, by: str | None = None
    ) -> JSON:
        with self._acting() as acct:
            inc = self._find(acct, incident_id)
            if escalation_policy_id not in acct.policies:
                raise KeyError(f"no escalation policy {escalation_policy_id!r}")
            agent = self._user(acct, by)
            incidents.delegate(acct, inc, escalation_policy_id, agent, WEB, UI_CLIENT)
            return shapes.incident_json(acct, inc)

    def reopen(self, incident_id: str, user_id: str) -> JSON:
        with self._acting() as acct:
            inc = self._find(acct, incident_id)
            incidents.reopen(acct, inc, self._user(acct, user_id), UI_CLIENT)
            return shapes.incident_json(acct, inc)

    def unacknowledge(self, incident_id: str) -> JSON:
        """The acknowledgement timed out: the incident is triggered again (agent: none)."""
        with self._acting() as acct:
            inc = self._find(acct, incident_id)
            incidents.unacknowledge(acct, inc)
            return shapes.incident_json(acct, inc)

    def set_priority(
        self, incident_id: str, priority: str | None, *, by: str | None = None
    ) -> JSON:
        """``priority``: a name (``"P1"``) or id; None clears it."""
        with self._acting() as acct:
            inc = self._find(acct, incident_id)
            found = acct.priority_named(priority) if priority is not None else None
            if priority is not None and found is None:
                raise KeyError(f"no priority {priority!r}")
            pid = found.id if found else None
            incidents.set_priority(acct, inc, pid, self._user(acct, by), UI_CLIENT)
            return shapes.incident_json(acct, inc)

    def add_note(self, incident_id: str, user_id: str, content: str) -> JSON:
        with self._acting() as acct:
            inc = self._find(acct, incident_id)
            uid = acct.require_user(user_id).id
            return shapes.note_json(acct, incidents.add_note(acct, inc, uid, content, UI_CLIENT))

    def reply_to_responder_request(
        self, incident_id: str, user_id: str, *, accept: bool = True
    ) -> JSON:
        """The requested responder joins (or declines): ``incident.responder.replied``."""
        with self._acting() as acct:
            inc = self._find(acct, incident_id)
            incidents.reply_responder(acct, inc, acct.require_user(user_id).id, accept)
            return shapes.incident_json(acct, inc)

    def trigger_incident(
        self,
        service: str,
        title: str,
        *,
        by: str | None = None,
        urgency: str = "high",
        incident_key: str | None = None,
    ) -> JSON:
        """Someone creates an incident in the web UI (no ``From`` header, no dedup check)."""
        with self._acting() as acct:
            found = acct.service_named(service)
            if found is None:
                raise KeyError(f"no service {service!r}")
            inc = incidents.create(
                acct,
                service_id=found.id,
                title=title,
                agent=self._user(acct, by),
                channel=WEB,
                urgency=urgency,
                incident_key=incident_key,
                origin="web",
                client=UI_CLIENT,
            )
            return shapes.incident_json(acct, inc)

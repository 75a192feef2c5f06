"""``OpsgenieEmulator``: a loopback Opsgenie (Jira Service Management Operations) for tests and
local runs — the Alert API v2, Who-is-on-call, a seeded account, the outgoing Webhook integration
to the bot, and the on-call humans acting in the app."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from ..common.facade import LifecycleMixin
from .server import ApiServer, Fault, OpsgenieCall
from .state import JSON, Account, Action, Alert, apply_action
from .webhooks import Delivery, Integration, deliver

CONTROL_ACTIONS = ("Acknowledge", "UnAcknowledge", "Close", "AddNote", "AssignOwnership")


class OpsgenieEmulator(LifecycleMixin[OpsgenieCall]):
    """``httpx.Client(base_url=emu.url, headers={"Authorization": f"GenieKey {emu.api_key}"})``
    talks to it. Seeded: alice, bob, carol, dan (``<first name>@example.com``), teams
    ``checkout`` and ``database``, schedules ``checkout_schedule`` (bob on call) and
    ``database_schedule`` (dan)."""

    _api: ApiServer

    def __init__(
        self,
        api_key: str = "og-test-key",
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        seed: bool = True,
        rate_limits: bool = False,
        latency: float = 0.0,
    ) -> None:
        self._lock = threading.RLock()
        self._clock: Callable[[], float] = time.time
        self.account = Account(lambda: self._clock())
        if seed:
            self.account.seed()
        self.api_key = api_key
        self.integrations: list[Integration] = []
        self.deliveries: list[Delivery] = []
        self._delivering = threading.Lock()
        self._api = ApiServer(
            acct=self.account,
            lock=self._lock,
            api_key=api_key,
            host=host,
            port=port,
            after_change=self._deliver,
            control=self._control,
        )
        self._api.rate_limits = rate_limits
        self._api.latency = latency

    def use_clock(self, now: Callable[[], float]) -> None:
        """Opsgenie's clock (epoch seconds), shared with a test's scripted clock."""
        self._clock = now

    # -------------------------------------------------------------- settings
    def set_rate_limit(self, domain: str, *, per_minute: float, burst: int | None = None) -> None:
        """``domain``: ``alert``, ``schedule-oncalls`` or ``configuration`` (per API key)."""
        self._api.limiter.set_limit(domain, per_minute=per_minute, burst=burst)

    def fail(
        self,
        route: str,
        *,
        status: int = 500,
        times: int = 1,
        delay: float = 0.0,
        body: str | None = None,
        apply: bool = False,
    ) -> None:
        """Queues failures for ``route`` (``"POST /v2/alerts"``…); see :class:`Fault`."""
        self._api.faults.add(Fault(route, status, delay, body, apply), times)

    def hold_requests(self, hold: bool = True) -> None:
        """While held, accepted requests (202) are not processed until :meth:`process`."""
        with self._lock:
            self.account.hold = hold

    def process(self) -> int:
        with self._lock:
            done = self.account.process()
        self._deliver()
        return done

    def add_webhook(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        actions: set[str] | None = None,
    ) -> Integration:
        """An outgoing Webhook integration posting to ``url`` with ``headers`` (custom headers,
        e.g. ``{"Authorization": "Bearer <OPSGENIE_WEBHOOK_TOKEN>"}``)."""
        integration = Integration(
            url, dict(headers or {}), frozenset(actions) if actions is not None else None
        )
        with self._lock:
            self.integrations.append(integration)
        return integration

    # ---------------------------------------------------------- call record
    def calls_to(self, route: str) -> list[OpsgenieCall]:
        return self._calls_where(lambda c: c.route == route)

    # ------------------------------------------------------------ the alerts
    def alert(self, identifier: str, kind: str = "alias") -> Alert | None:
        with self._lock:
            return self.account.alert(identifier, kind)

    def alerts(self) -> list[Alert]:
        with self._lock:
            return sorted(self.account.alerts.values(), key=lambda a: a.created_at)

    # ------------------------------------------- the humans, in Opsgenie's app
    def acknowledge(self, alias: str, user: str, *, at: float | None = None) -> Alert:
        return self.act("Acknowledge", alias, user, at=at)

    def unacknowledge(self, alias: str, user: str, *, at: float | None = None) -> Alert:
        return self.act("UnAcknowledge", alias, user, at=at)

    def close(self, alias: str, user: str, *, at: float | None = None) -> Alert:
        return self.act("Close", alias, user, at=at)

    def add_note(self, alias: str, user: str, note: str, *, at: float | None = None) -> Alert:
        return self.act("AddNote", alias, user, at=at, note=note)

    def assign(self, alias: str, user: str, owner: str, *, at: float | None = None) -> Alert:
        return self.act("AssignOwnership", alias, user, at=at, owner=owner)

    def act(
        self,
        action: str,
        alias: str,
        user: str,
        *,
        at: float | None = None,
        note: str | None = None,
        owner: str | None = None,
    ) -> Alert:
        """``user`` (a username) does ``action`` on the alert in the web app at ``at`` (epoch
        seconds; default: now); the webhook integrations are told before this returns."""
        with self._lock:
            alert = self.account.alert(alias, "alias")
            person = self.account.user(user)
            if alert is None or person is None:
                raise KeyError(f"no alert {alias!r} or no user {user!r}")
            when = at if at is not None else self._clock()
            apply_action(alert, action, {"note": note, "owner": owner, "user": user}, when)
            self.account.actions.append(
                Action(action, alert, person.username, person.id, when, "", "web", note, owner)
            )
        self._deliver()
        return alert

    def _control(self, action: str, body: Any) -> tuple[int, JSON]:
        """``POST /_control/<Action>`` with ``{"alias", "user", "at"?, "note"?, "owner"?}``."""
        if action not in CONTROL_ACTIONS or not isinstance(body, dict):
            return 400, {"message": f"POST /_control/<{'|'.join(CONTROL_ACTIONS)}> with JSON"}
        at = body.get("at")
        try:
            alert = self.act(
                action,
                str(body.get("alias") or ""),
                str(body.get("user") or ""),
                at=float(at) if isinstance(at, int | float) else None,
                note=str(body["note"]) if body.get("note") else None,
                owner=str(body["owner"]) if body.get("owner") else None,
            )
        except KeyError as exc:
            return 404, {"message": str(exc)}
        return 200, {"data": alert.shape()}

    def escalate(self, alias: str, escalation: str, notify: str) -> Alert:
        """An escalation rule fires: the ``Escalate`` payload (its own shape, no time field)."""
        with self._lock:
            alert = self.account.alert(alias, "alias")
            person = self.account.user(notify)
            if alert is None or person is None:
                raise KeyError(f"no alert {alias!r} or no user {notify!r}")
            extra = {
                "escalationId": f"esc-{escalation}",
                "escalationName": escalation,
                "escalationNotify": {
                    "name": person.username,
                    "id": person.id,
                    "type": "default",
                    "entity": "user",
                },
                "escalationTime": 0,
                "repeatCount": 0,
            }
            self.account.actions.append(
                Action("Escalate", alert, "", "", self._clock(), "", "", extra=extra)
            )
        self._deliver()
        return alert

    # ------------------------------------------------------------- webhooks
    def _deliver(self) -> None:
        """Posts the pending actions, in order, outside the state lock (the bot may call the
        API while it handles one)."""
        if not self._delivering.acquire(blocking=False):
            return  # the thread already delivering takes the new ones too
        try:
            while True:
                with self._lock:
                    pending, self.account.actions = self.account.actions, []
                    integrations = list(self.integrations)
                if not pending:
                    return
                for action in pending:
                    for integration in integrations:
                        done = deliver(action, integration)
                        if done is not None:
                            with self._lock:
                                self.deliveries.append(done)
        finally:
            self._delivering.release()

"""The shape every use case shares: claim the request id, decide, store, commit, deliver."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.catalog import Catalog
from bot.core.lifecycle import Opening, Refusal, Refused
from bot.core.milestones import Source
from bot.core.playbooks import Playbook, matching
from bot.flows import chat_effects as fx, timers
from bot.flows.outbox import OutboxRunner
from bot.flows.pagers import Pagers
from bot.flows.paging import lane as pager_lane, pages_at_once, plan_auto_page
from bot.flows.playbook_runs import auto_attach
from bot.flows.ports import Clock
from bot.flows.step_actions import Automation
from bot.flows.tracker_effects import lane as tracker_lane
from bot.store import fresh_incident as fresh, incidents as q, outbox, timers as timer_store
from bot.store.db import Database
from bot.store.models import OutboxRow  # the effects born leased, handed on to the runner
from bot.store.outbox import Effect
from bot.store.session import Session


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str = ""
    incident_id: int | None = None
    duplicate: bool = False
    refusal: Refusal | None = None  # when refused: what, why, who, what to do instead

    @classmethod
    def refused(cls, refusal: Refusal, incident_id: int | None = None) -> Outcome:
        """Not done, and why: `message` is the refusal's whole plain text."""
        return cls(False, refusal.text, incident_id, refusal=refusal)


class Opened(Protocol):
    """What setting off a new incident reads of it (the row the store makes for it, or its
    summary): its channel, its first timers, its page and its playbooks."""

    @property
    def id(self) -> int | None: ...  # None: not stored yet (`declared`)
    @property
    def title(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def private(self) -> bool: ...
    @property
    def drill(self) -> bool: ...
    @property
    def service(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def status_update_minutes(self) -> int | None: ...


class Duplicate(Exception):
    """The request id was seen before: a retry, replay or double submit changes nothing."""


Work = Callable[[Session, datetime], Outcome]


class UnitOfWork:
    def __init__(
        self,
        db: Database,
        catalog: Catalog,
        clock: Clock,
        runner: OutboxRunner | None,
        *,
        paging: Pagers | None = None,
        background: Callable[..., None] | None = None,
        playbooks: Mapping[str, Playbook] | None = None,
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.clock = clock
        self.runner = runner
        self.paging = paging or Pagers()
        # Where delivery runs: inline (chat listeners already run after their ack) or handed to
        # a pool (webhooks answer as soon as the change is committed).
        self.background = background
        self.playbooks: Mapping[str, Playbook] = playbooks or {}

    def run(
        self,
        request_key: str | None,
        work: Work,
        *,
        incident_id: int | None = None,
        alone: bool = False,
    ) -> Outcome:
        """One transaction: the request id (a retry, replay or double submit finds it taken and
        changes nothing), then `work` (given no request id, `work` may claim one itself, raising
        `Duplicate` when it is taken: `declared`). A `Refused` rolls it all back, the request id included, so
        the user can correct and resend. After the commit, the incident's chat lane is delivered.
        `alone`: `work` writes one statement, which needs no transaction around it
        (`Database.one_write`)."""
        now = self.clock.now()
        try:
            with self.db.one_write() if alone else self.db.transaction() as session:
                if request_key and not q.claim_request(session=session, key=request_key, now=now):
                    raise Duplicate
                outcome = work(session, now)
                lanes = frozenset(outbox.enqueued_lanes(session))
                born = outbox.born_claimed(session)
        except Refused as refused:
            return Outcome.refused(refused.refusal, incident_id)
        except Duplicate:
            return Outcome(True, "Already handled.", incident_id, duplicate=True)
        if outcome.ok and outcome.incident_id is not None and lanes:
            self.deliver(outcome.incident_id, lanes, born)
        return outcome

    def opened(
        self,
        session: Session,
        incident: Opened,
        now: datetime,
        *,
        alert_born: bool,
        roles: Mapping[str, str],
        labels: Mapping[str, str] | None = None,
    ) -> None:
        """What every new incident sets off, in its creating transaction: the channel (with the
        card), the announcement (never for private incidents or drills), the automatic page and
        the first timers. `roles`: who holds which, as the incident was made with them."""
        assert incident.id is not None
        outbox.enqueue_all(
            session=session,
            effects=self._first_effects(incident, incident.id),
            now=now,
            lease=self._born_lease(now),
        )
        timer_store.arm_fresh(
            session=session,
            incident_id=incident.id,
            timers=timers.first_timers(self.catalog, incident, now, roles),
            now=now,
        )
        self._set_off(session, incident, now, alert_born=alert_born, labels=labels)

    def declared(
        self,
        session: Session,
        opening: Opening,
        now: datetime,
        *,
        request_key: str | None,
        source: Source,
        created_by: str | None,
        drill: bool = False,
    ) -> Opened:
        """A declared incident, from its request id to what it sets off (as `opened`): on
        PostgreSQL its rows are one statement (store.fresh_incident), and when it sets off
        nothing more (`sets_off_more`) the whole declaration is that one statement. Raises
        `Duplicate` when the request id was seen before."""
        incident = self._insert_new(
            session,
            opening,
            now,
            key=request_key,
            source=source,
            created_by=created_by,
            drill=drill,
        )
        if incident is None:
            raise Duplicate
        if self.sets_off_more(severity=incident.severity, drill=drill):
            self._set_off(session, incident, now, alert_born=False, labels=None)
        return incident

    def alert_opened(
        self,
        session: Session,
        opening: Opening,
        now: datetime,
        *,
        alert_group: tuple[str | None, str, str],
        labels: Mapping[str, str],
    ) -> Opened:
        """An incident opened by an alert group (service, group key, open-group hash): its rows
        as a declaration's (one statement on PostgreSQL; the group's unique open key is checked
        by it), then what it sets off (as `opened`, with the group's labels)."""
        incident = self._insert_new(
            session,
            opening,
            now,
            key=None,
            source=Source.ALERT,
            created_by=None,
            drill=False,
            alert_group=alert_group,
        )
        assert incident is not None  # no request id to have been seen
        self._set_off(session, incident, now, alert_born=True, labels=labels)
        return incident

    def _insert_new(
        self,
        session: Session,
        opening: Opening,
        now: datetime,
        *,
        key: str | None,
        source: Source,
        created_by: str | None,
        drill: bool,
        alert_group: tuple[str | None, str, str] | None = None,
    ) -> Opened | None:
        """A new incident's rows with its channel, announcement and first timers (one
        statement on PostgreSQL); None when the request id `key` was seen before."""
        incident = q.new_incident(
            opening=opening,
            now=now,
            source=source,
            created_by=created_by,
            drill=drill,
            alert_group=alert_group,
        )
        inserted = fresh.insert_declared(
            session=session,
            key=key,
            incident=incident,
            opening=opening,
            now=now,
            effects=self._first_effects(incident, fresh.NEW_ID),
            first_timers=timers.first_timers(self.catalog, incident, now, opening.snapshot.roles),
            lease=self._born_lease(now),
        )
        return incident if inserted else None

    def sets_off_more(self, *, severity: str, drill: bool) -> bool:
        """Whether a declared incident of `severity` sets off more than its channel, its
        announcement and its first timers: a page, or a playbook that matches it. (Known
        before anything is written, so a declaration that does not can go alone.)"""
        if pages_at_once(self.catalog, self.paging, severity=severity, drill=drill):
            return True
        return bool(
            self.playbooks
            and matching(
                self.playbooks.values(),
                severity=severity,
                service=None,
                labels={},
                catalog=self.catalog,
            )
        )

    @staticmethod
    def _first_effects(incident: Opened, incident_id: int | str) -> list[Effect]:
        """The channel (with the card) and the announcement (never for private incidents or
        drills). `incident_id`: its id, or `fresh.NEW_ID` for the id it is about to get."""
        lane = fx.lane(incident_id)
        iid = incident_id if isinstance(incident_id, int) else None
        # the first name noted now: no write between the effect's claim and the chat's answer
        effects = [Effect(lane, fx.OPEN_CHANNEL, iid, fx.channel_asked(incident))]
        if not incident.private and not incident.drill:
            effects.append(Effect(lane, fx.ANNOUNCE, iid))
        return effects

    def _set_off(
        self,
        session: Session,
        incident: Opened,
        now: datetime,
        *,
        alert_born: bool,
        labels: Mapping[str, str] | None,
    ) -> None:
        """The automatic page and the playbooks a new incident matches."""
        plan_auto_page(
            session=session,
            incident=incident,
            catalog=self.catalog,
            pagers=self.paging,
            now=now,
            alert_born=alert_born,
        )
        if self.playbooks:
            auto_attach(
                session,
                incident,
                list(self.playbooks.values()),
                Automation(self.catalog, self.paging),
                now,
                labels or {},
            )

    def _born_lease(self, now: datetime) -> tuple[str, datetime] | None:
        """When this thread delivers right after the commit, a new lane's first effect is
        inserted already leased to it: the channel is asked for without a claim's round trips.
        (Delivery handed to a pool may start late: there the effect is claimed as usual.)"""
        if self.runner is None or self.background is not None:
            return None
        return self.runner.lease_owner(), now + self.runner.lease

    def deliver(
        self,
        incident_id: int,
        lanes: Collection[str] | None = None,
        born: Sequence[OutboxRow] = (),
    ) -> None:
        """Run the incident's lanes now: those in `lanes` (what a transaction enqueued on;
        the sweep takes any other), or all of them; `born`: effects inserted already leased
        to this thread, run first."""
        if self.background is not None:
            self.background(self._deliver, incident_id, lanes, born)
        else:
            self._deliver(incident_id, lanes, born)

    def _deliver(
        self, incident_id: int, lanes: Collection[str] | None, born: Sequence[OutboxRow]
    ) -> None:
        runner = self.runner
        if runner is None:
            return
        ran = {row.lane for row in born}  # each with the rest of its lane
        for row in born:
            runner.run_claimed(row)
        chat = fx.lane(incident_id)
        if (lanes is None or chat in lanes) and chat not in ran:
            runner.run_lane(chat)
        others = [
            o
            for o in (pager_lane(incident_id), tracker_lane(incident_id))
            if lanes is None or o in lanes
        ]
        for other in others:
            runner.run_lane(other)
        if others:  # what the pages and the tracker told the channel (their failures too)
            runner.run_lane(chat)

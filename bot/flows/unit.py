"""The shape every use case shares: claim the request id, decide, store, commit, deliver."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.core.catalog import Catalog
from bot.core.lifecycle import Refused
from bot.core.playbooks import Playbook
from bot.flows import chat_effects as fx, timers
from bot.flows.conversation_opening import first_name
from bot.flows.outbox import OutboxRunner
from bot.flows.pagers import Pagers
from bot.flows.paging import lane as pager_lane, plan_auto_page
from bot.flows.playbook_runs import auto_attach
from bot.flows.ports import Clock
from bot.flows.step_actions import Automation
from bot.flows.tracker_effects import lane as tracker_lane
from bot.store import incidents as q, outbox, timers as timer_store
from bot.store.db import Database
from bot.store.models import Incident, OutboxRow
from bot.store.outbox import Effect


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str = ""
    incident_id: int | None = None
    duplicate: bool = False


class _Duplicate(Exception):
    pass


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
        self, request_key: str | None, work: Work, *, incident_id: int | None = None
    ) -> Outcome:
        """One transaction: the request id (a retry, replay or double submit finds it taken and
        changes nothing), then `work`. A `Refused` rolls it all back, the request id included, so
        the user can correct and resend. After the commit, the incident's chat lane is delivered."""
        now = self.clock.now()
        try:
            with self.db.transaction() as session:
                if request_key and not q.claim_request(session=session, key=request_key, now=now):
                    raise _Duplicate
                outcome = work(session, now)
                lanes = frozenset(outbox.enqueued_lanes(session))
                born = outbox.born_claimed(session)
        except Refused as refused:
            return Outcome(False, refused.reason, incident_id)
        except _Duplicate:
            return Outcome(True, "Already handled.", incident_id, duplicate=True)
        if outcome.ok and outcome.incident_id is not None and lanes:
            self.deliver(outcome.incident_id, lanes, born)
        return outcome

    def opened(
        self,
        session: Session,
        incident: Incident,
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
        lane = fx.lane(incident.id)
        # the first name noted now: no write between the effect's claim and the chat's answer
        effects = [
            Effect(lane, fx.OPEN_CHANNEL, incident.id, {"trying": first_name(incident, None)})
        ]
        if not incident.private and not incident.drill:
            effects.append(Effect(lane, fx.ANNOUNCE, incident.id))
        outbox.enqueue_all(session=session, effects=effects, now=now, lease=self._born_lease(now))
        plan_auto_page(
            session=session,
            incident=incident,
            catalog=self.catalog,
            pagers=self.paging,
            now=now,
            alert_born=alert_born,
        )
        timer_store.arm_fresh(
            session=session,
            incident_id=incident.id,
            timers=timers.first_timers(self.catalog, incident, now, roles),
            now=now,
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

"""The shape every use case shares: claim the request id, decide, store, commit, deliver."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.core.catalog import Catalog
from bot.core.lifecycle import Refused
from bot.core.playbooks import Playbook
from bot.flows import slack_effects as fx
from bot.flows import timers
from bot.flows.outbox import OutboxRunner
from bot.flows.paging import PagingDefaults, plan_auto_page
from bot.flows.paging import lane as pager_lane
from bot.flows.playbook_runs import auto_attach
from bot.flows.ports import Clock
from bot.flows.slack_channel import first_name
from bot.flows.step_actions import Automation
from bot.store import incidents as q
from bot.store import outbox
from bot.store.db import Database
from bot.store.models import Incident


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
        paging: PagingDefaults | None = None,
        background: Callable[..., None] | None = None,
        playbooks: Mapping[str, Playbook] | None = None,
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.clock = clock
        self.runner = runner
        self.paging = paging or PagingDefaults()
        # Where delivery runs: inline (Slack listeners already run after their ack) or handed to
        # a pool (webhooks answer as soon as the change is committed).
        self.background = background
        self.playbooks: Mapping[str, Playbook] = playbooks or {}

    def run(
        self, request_key: str | None, work: Work, *, incident_id: int | None = None
    ) -> Outcome:
        """One transaction: the request id (a retry, replay or double submit finds it taken and
        changes nothing), then `work`. A `Refused` rolls it all back, the request id included, so
        the user can correct and resend. After the commit, the incident's Slack lane is delivered."""
        now = self.clock.now()
        try:
            with self.db.transaction() as session:
                if request_key and not q.claim_request(session=session, key=request_key, now=now):
                    raise _Duplicate
                outcome = work(session, now)
        except Refused as refused:
            return Outcome(False, refused.reason, incident_id)
        except _Duplicate:
            return Outcome(True, "Already handled.", incident_id, duplicate=True)
        if outcome.ok and outcome.incident_id is not None:
            self.deliver(outcome.incident_id)
        return outcome

    def opened(
        self,
        session: Session,
        incident: Incident,
        now: datetime,
        *,
        alert_born: bool,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        """What every new incident sets off, in its creating transaction: the channel (with the
        card), the announcement (never for private incidents or drills), and the automatic page."""
        assert incident.id is not None
        lane = fx.lane(incident.id)
        outbox.enqueue(
            session=session,
            lane=lane,
            kind=fx.OPEN_CHANNEL,
            now=now,
            incident_id=incident.id,
            # the first name noted now: no write between the effect's claim and the chat's answer
            payload={"trying": first_name(incident, None)},
        )
        if not incident.private and not incident.drill:
            outbox.enqueue(
                session=session, lane=lane, kind=fx.ANNOUNCE, now=now, incident_id=incident.id
            )
        plan_auto_page(
            session=session,
            incident=incident,
            catalog=self.catalog,
            defaults=self.paging,
            now=now,
            alert_born=alert_born,
        )
        timers.arm_for(session, self.catalog, incident, now, fresh=True)
        timers.watch_open(session, incident.id, now, fresh=True)
        if self.playbooks:
            auto_attach(
                session,
                incident,
                list(self.playbooks.values()),
                Automation(self.catalog, self.paging),
                now,
                labels or {},
            )

    def deliver(self, incident_id: int) -> None:
        if self.background is not None:
            self.background(self._deliver, incident_id)
        else:
            self._deliver(incident_id)

    def _deliver(self, incident_id: int) -> None:
        if self.runner is not None:
            self.runner.run_lane(fx.lane(incident_id))
            self.runner.run_lane(pager_lane(incident_id))
            self.runner.run_lane(f"jira:{incident_id}")
            self.runner.run_lane(fx.lane(incident_id))  # what the pages told the channel

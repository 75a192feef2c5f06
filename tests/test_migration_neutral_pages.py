"""0014: pages say which pager they went to, and the outbox speaks of `pager.*` effects in
`pager:` lanes. A database written by the code before it (every page PagerDuty's, with its
`pd_incident_id`, and `pagerduty.*` effects still pending in `pagerduty:` lanes) keeps every
page and effect across the upgrade, and a pending effect written before it is delivered after."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from bot.core.catalog import PagerTarget, default_catalog
from bot.flows.outbox import OutboxRunner
from bot.flows.pager_effects import PagerEffects
from bot.flows.pagers import Pagers
from bot.flows.ports import CannotPage, OnCall, Opened, PagePlan, PageRef, PageRequest
from bot.store.db import Database
from tests.flows.fakes import StepClock

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


class RecordingPager:
    kind = "pagerduty"
    name = "PagerDuty"

    def __init__(self) -> None:
        self.opened: list[PageRequest] = []
        self.acknowledged: list[PageRef] = []

    def plan(
        self, target: PagerTarget, *, alert_born: bool, has_page: bool
    ) -> PagePlan | CannotPage:
        return PagePlan("incident", target.service_id or "PSVC1")

    def open(self, request: PageRequest) -> Opened:
        self.opened.append(request)
        return Opened("PNEW1", "https://pd.example/incidents/PNEW1")

    def add_responders(self, page: PageRef, plan: PagePlan, message: str) -> None: ...
    def acknowledge(self, page: PageRef) -> None:
        self.acknowledged.append(page)

    def resolve(self, page: PageRef) -> None: ...
    def oncalls(self, target: PagerTarget) -> list[OnCall]:
        return []

    def person_email(self, user_id: str) -> str | None:
        return None


def _fill_as_0012_did(db: Database) -> int:
    """An incident paged three ways as the code before 0014 stored it, with its effects."""
    with db.engine.begin() as c:
        incident = c.execute(
            text(
                "INSERT INTO incident (title, description, severity, status, private, drill,"
                " source, imported, created_at, updated_at) VALUES ('Checkout down', '', 'SEV1',"
                " 'investigating', false, false, 'alert', false, :at, :at) RETURNING id"
            ),
            {"at": AT},
        ).scalar_one()
        pages = {}
        for kind, key, target, status, pd_id in (
            ("event", f"incidentbot-{incident}", "r" * 32, "triggered", "PEVENT1"),
            ("responders", f"incidentbot-{incident}-db-1", "PEP1", "triggered", "PEVENT1"),
            ("incident", f"incidentbot-{incident}-search-2", "PSVC2", "pending", None),
        ):
            pages[kind] = c.execute(
                text(
                    "INSERT INTO page (incident_id, kind, key, service, target, status,"
                    " pd_incident_id, created_at, updated_at) VALUES (:incident, :kind, :key,"
                    " 'checkout', :target, :status, :pd, :at, :at) RETURNING id"
                ),
                {
                    "incident": incident,
                    "kind": kind,
                    "key": key,
                    "target": target,
                    "status": status,
                    "pd": pd_id,
                    "at": AT,
                },
            ).scalar_one()
        for kind, page, done in (
            ("pagerduty.trigger_event", pages["event"], True),
            ("pagerduty.request_responders", pages["responders"], True),
            ("pagerduty.create_incident", pages["incident"], False),
            ("pagerduty.acknowledge", None, False),
        ):
            c.execute(
                text(
                    "INSERT INTO outbox (incident_id, lane, kind, payload, created_at,"
                    " next_attempt_at, attempts, done_at, failed) VALUES (:incident, :lane,"
                    " :kind, :payload, :at, :at, 0, :done, false)"
                ),
                {
                    "incident": incident,
                    "lane": f"pagerduty:{incident}",
                    "kind": kind,
                    "payload": json.dumps({"page_id": page} if page else {}),
                    "at": AT,
                    "done": AT if done else None,
                },
            )
    return int(incident)


def _rows(db: Database, sql: str) -> list[tuple[Any, ...]]:
    with db.engine.connect() as c:
        return [tuple(row) for row in c.execute(text(sql))]


def test_pages_and_pending_pager_effects_survive_the_upgrade_and_are_delivered(
    db: Database,
) -> None:
    db.downgrade("0012")
    incident = _fill_as_0012_did(db)
    before_pages = _rows(db, "SELECT id, kind, key, target, status, pd_incident_id FROM page")
    db.upgrade()

    pages = _rows(db, "SELECT id, kind, key, target, status, pager_incident_id, pager FROM page")
    assert pages == [(*p, "pagerduty") for p in before_pages]
    assert _rows(db, "SELECT lane, kind, done_at IS NULL FROM outbox ORDER BY id") == [
        (f"pager:{incident}", "pager.open", False),
        (f"pager:{incident}", "pager.add_responders", False),
        (f"pager:{incident}", "pager.open", True),
        (f"pager:{incident}", "pager.acknowledge", True),
    ]

    pager, clock = RecordingPager(), StepClock(AT)
    pagers = Pagers(by_kind={"pagerduty": pager})
    effects = PagerEffects(db, pagers, default_catalog(), clock, public_url=None)
    runner = OutboxRunner(db, clock, effects.handlers)
    runner.run_lane(f"pager:{incident}")

    (request,) = pager.opened  # the page written before the upgrade, with its own key
    assert request.key == f"incidentbot-{incident}-search-2"
    assert request.plan == PagePlan("incident", "PSVC2")
    # and the acknowledgement still pending from before reached both pages PagerDuty has
    assert [(p.kind, p.pager_id) for p in pager.acknowledged] == [
        ("event", "PEVENT1"),
        ("incident", "PNEW1"),
    ]
    assert _rows(db, "SELECT status, pager_incident_id FROM page WHERE target = 'PSVC2'") == [
        ("acknowledged", "PNEW1")
    ]
    assert _rows(
        db, "SELECT count(*) FROM outbox WHERE lane LIKE 'pager:%' AND done_at IS NULL"
    ) == [(0,)]


def test_the_downgrade_puts_back_the_vendor_kinds_lanes_and_column(db: Database) -> None:
    db.downgrade("0012")
    incident = _fill_as_0012_did(db)
    before = _rows(db, "SELECT lane, kind, payload FROM outbox ORDER BY id")
    before_pages = _rows(db, "SELECT id, kind, pd_incident_id FROM page ORDER BY id")
    db.upgrade()
    db.downgrade("0012")
    assert _rows(db, "SELECT lane, kind, payload FROM outbox ORDER BY id") == before
    assert _rows(db, "SELECT id, kind, pd_incident_id FROM page ORDER BY id") == before_pages
    assert incident > 0

"""The review pages over Starlette's TestClient, on a database seeded directly (fast), with a
fake Slack directory whose channel members the tests choose."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot import wiring
from bot.core.catalog import Catalog, catalog_from_mapping
from bot.core.milestones import Milestone
from bot.flows.postmortem import Draft, Drafter, facts_of
from bot.sandbox import ScriptedClock
from bot.settings import Settings
from bot.store import incident_reads
from bot.store.db import Database
from bot.store.models import (
    Incident,
    MilestoneRow,
    PageRow,
    PlaybookRun,
    PlaybookStep,
    RoleAssignment,
    TimelineRow,
)
from bot.web.review import ReviewSite

TOKEN = "web-test-token-0123456789"
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
ADMIN = "UADMIN01"
MEMBER = "UMEMBER1"
OUTSIDER = "UOUTSID1"
TEMPLATES = Path(__file__).resolve().parents[2] / "postmortem_templates"


@dataclass
class FakeDirectory:
    channels: dict[str, list[str]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def members(self, channel_id: str) -> list[str]:
        self.calls.append(channel_id)
        return list(self.channels.get(channel_id, []))

    def user_name(self, user_id: str) -> str | None:
        return self.names.get(user_id)


def add_incident(
    db: Database,
    *,
    title: str,
    severity: str = "SEV2",
    status: str = "closed",
    start: datetime,
    minutes: dict[Milestone, float] | None = None,
    private: bool = False,
    drill: bool = False,
    service: str | None = "checkout-api",
    channel_id: str | None = None,
    commander: str | None = None,
    entries: list[tuple[float, str, str]] | None = None,
) -> int:
    """An incident with milestones at `start + minutes`, as the flows would have stored it."""
    offsets = (
        minutes
        if minutes is not None
        else {
            Milestone.IMPACT_STARTED: 0,
            Milestone.DETECTED: 5,
            Milestone.DECLARED: 6,
            Milestone.ACKNOWLEDGED: 10,
            Milestone.MITIGATED: 40,
            Milestone.RESOLVED: 60,
            Milestone.CLOSED: 120,
        }
    )
    with db.transaction() as session:
        incident = Incident(
            title=title,
            severity=severity,
            status=status,
            private=private,
            drill=drill,
            source="chat",
            service=service,
            conversation_id=channel_id,
            conversation_name=f"inc-{channel_id.lower()}" if channel_id else None,
            chat_surface="slack" if channel_id else None,
            created_at=start + timedelta(minutes=offsets.get(Milestone.DECLARED, 0)),
            updated_at=start,
        )
        session.add(incident)
        session.flush()
        iid = int(incident.id or 0)
        for m, off in offsets.items():
            at = start + timedelta(minutes=off)
            session.add(
                MilestoneRow(
                    incident_id=iid,
                    kind=m.value,
                    at=at,
                    source="chat",
                    set_by=commander,
                    updated_at=at,
                )
            )
        if commander:
            session.add(
                RoleAssignment(
                    incident_id=iid, role="commander", user_id=commander, assigned_at=start
                )
            )
        for off, kind, text in entries or []:
            at = start + timedelta(minutes=off)
            session.add(
                TimelineRow(
                    incident_id=iid,
                    at=at,
                    kind=kind,
                    text=text,
                    actor=commander,
                    source="chat",
                    data={},
                    created_at=at,
                )
            )
    return iid


def add_step(
    db: Database,
    incident_id: int,
    *,
    title: str,
    state: str,
    at: datetime | None,
    reason: str | None = None,
    result: str | None = None,
    attached: datetime,
) -> None:
    with db.transaction() as session:
        run = PlaybookRun(
            incident_id=incident_id,
            playbook=f"pb-{title[:10]}",
            title="Playbook",
            attached_at=attached,
        )
        session.add(run)
        session.flush()
        session.add(
            PlaybookStep(
                run_id=int(run.id or 0),
                step="s1",
                position=0,
                title=title,
                owner_role="commander",
                state=state,
                at=at,
                skip_reason=reason,
                result=result,
            )
        )


def add_page(
    db: Database,
    incident_id: int,
    *,
    service: str,
    status: str,
    at: datetime,
    pager: str = "pagerduty",
    acknowledged_at: datetime | None = None,
) -> None:
    with db.transaction() as session:
        session.add(
            PageRow(
                incident_id=incident_id,
                pager=pager,
                acknowledged_at=acknowledged_at,
                kind="incident",
                key=f"k-{incident_id}-{service}",
                service=service,
                target="P1",
                status=status,
                created_at=at,
                updated_at=at,
            )
        )


@dataclass
class Web:
    db: Database
    clock: ScriptedClock
    directory: FakeDirectory
    site: ReviewSite
    app: Starlette
    catalog: Catalog

    def client(self, **kwargs: Any) -> TestClient:
        return TestClient(self.app, base_url="http://review.test", follow_redirects=False, **kwargs)

    def admin(self) -> TestClient:
        c = self.client()
        r = c.post("/login", data={"token": TOKEN, "next": "/"})
        assert r.status_code == 303, r.text
        return c

    def slack_user(self, user: str, incident_id: int = 1) -> TestClient:
        c = self.client()
        link = self.site.review_link(user, incident_id)
        r = c.get(link)
        assert r.status_code == 303, r.text
        return c


@pytest.fixture
def web(db: Database) -> Iterator[Web]:
    clock = ScriptedClock(NOW)
    catalog = catalog_from_mapping({"admins": [ADMIN]})
    directory = FakeDirectory(names={MEMBER: "mia", ADMIN: "ada", OUTSIDER: "otto"})
    drafter = Drafter(catalog, TEMPLATES)

    def drafts(incident_id: int) -> Draft:
        with db.read() as session:
            incident = incident_reads.get_summary(session=session, incident_id=incident_id)
            assert incident is not None
            facts = facts_of(session, incident, public_url="http://review.test")
        return drafter.render(facts, clock.now())

    site = ReviewSite(
        db=db,
        catalog=catalog,
        clock=clock,
        chat=directory,
        drafts=drafts,
        api_token=TOKEN,
        public_url="http://review.test",
    )
    app = Starlette(routes=site.routes())
    yield Web(db, clock, directory, site, app, catalog)


Replica = Callable[..., wiring.Bot]


@pytest.fixture
def replicas(db: Database) -> Iterator[tuple[Replica, ScriptedClock]]:
    """`replica(**settings)`: the bot `serve` runs (bot.wiring; its web app is `.web`) with
    API_TOKEN=TOKEN and `settings`, on the test database through an engine of its own, as another
    process would be; every replica shares the scripted clock (10 s past a whole minute)."""
    clock = ScriptedClock(NOW + timedelta(seconds=10))
    built: list[wiring.Bot] = []

    def replica(**settings: Any) -> wiring.Bot:
        config = Settings(_env_file=None, database_url=db.url, api_token=TOKEN, **settings)
        bot = wiring.build(config, clock=clock, db=Database(db.url), pacing=False)
        built.append(bot)
        return bot

    yield replica, clock
    for bot in built:
        bot.close()


def client_at(app: Starlette, address: str, **kwargs: Any) -> TestClient:
    """A client whose requests come from `address` (the socket peer the server sees)."""
    return TestClient(
        app,
        base_url="http://review.test",
        follow_redirects=False,
        client=(address, 40000),
        **kwargs,
    )

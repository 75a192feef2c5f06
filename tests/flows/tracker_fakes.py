"""What the tracker export's flows tests share: a tracker and a desk that are no vendor we know
(recording what they were asked to make), the runner's row, a closed incident, and the export
run through the outbox."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.core.catalog import Catalog
from bot.flows import tracker_effects
from bot.flows.outbox import OutboxRunner
from bot.flows.pagers import Pagers
from bot.flows.people import People
from bot.flows.ports import TrackerIssue
from bot.flows.postmortem import Drafter
from bot.flows.tracker_effects import TrackerEffects
from bot.store import followups as followup_store
from bot.store.db import Database
from tests.flows.fakes import FakeChat, StepClock

TEMPLATES = Path(__file__).resolve().parents[2] / "postmortem_templates"
AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class Tracky:
    """A tracker that records what it was asked to make, numbering issues per project."""

    project: str = "OPS"
    name: str = "Tracky"
    fix: str = "TRACKY_BOARD"
    made: list[dict[str, Any]] = field(default_factory=list)

    def find(self, *, label: str) -> TrackerIssue | None:
        return None

    def create(self, *, project: str, **fields: Any) -> TrackerIssue:
        self.made.append({"project": project, **fields})
        key = f"{project}-{sum(m['project'] == project for m in self.made)}"
        return TrackerIssue(key, f"https://tracky.test/{key}")

    def update(self, key: str, **_: object) -> None: ...
    def link(self, *, link_type: str, inward: str, outward: str) -> None: ...
    def remote_link(self, key: str, **_: object) -> None: ...


@dataclass
class Desky:
    name: str = "Desky"
    fix: str = "DESKY_QUEUE"
    raised: list[dict[str, Any]] = field(default_factory=list)

    def create_request(self, **fields: Any) -> TrackerIssue:
        self.raised.append(fields)
        return TrackerIssue(
            f"PIR-{len(self.raised)}", f"https://tracky.test/PIR-{len(self.raised)}"
        )


@dataclass
class Row:
    """The export's outbox row, as the runner hands it to `still_trying` and `gave_up`."""

    incident_id: int
    id: int = 1
    lane: str = ""
    kind: str = tracker_effects.EXPORT
    payload: dict[str, Any] = field(default_factory=dict)


def closed_incident(
    db: Database, service: str | None = None, *, followups: Mapping[str, str | None] | None = None
) -> int:
    """A closed incident of `service`, with `followups` (what needs doing → its owner)."""
    with db.engine.begin() as c:
        incident = int(
            c.execute(
                text(
                    "INSERT INTO incident (title, description, severity, status, private, drill,"
                    " source, imported, service, created_at, updated_at) VALUES ('Slow', '',"
                    " 'SEV2', 'closed', false, false, 'chat', false, :service, :at, :at)"
                    " RETURNING id"
                ),
                {"at": AT, "service": service},
            ).scalar_one()
        )
    with db.transaction() as session:
        for what, owner in (followups or {}).items():
            followup_store.record_followup(
                session=session, incident_id=incident, text=what, owner=owner, now=AT, source="chat"
            )
    return incident


def tracker_effects_for(db: Database, catalog: Catalog, **options: Any) -> TrackerEffects:
    """The export's handlers over `catalog`, with Tracky and a FakeChat unless `tracker=` and
    `chat=` say otherwise."""
    chat, clock = options.pop("chat", None) or FakeChat(), StepClock(AT)
    return TrackerEffects(
        db,
        options.pop("tracker", Tracky()),
        Drafter(catalog, TEMPLATES),
        chat,
        catalog,
        clock,
        public_url=None,
        people=People(db, chat, Pagers(), clock),
        **options,
    )


def export(db: Database, fx: TrackerEffects, incident: int) -> None:
    with db.transaction() as session:
        tracker_effects.enqueue_export(session, incident, AT)
    assert OutboxRunner(db, StepClock(AT), fx.handlers).run_lane(tracker_effects.lane(incident))

"""A follow-up's issue is assigned to its owner by email, found through People: the person
table first, the chat surface asked once per person (and the answer kept), so an export of
many follow-ups by one owner does not ask the chat for each."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from bot.core.catalog import default_catalog
from bot.flows import tracker_effects
from bot.flows.outbox import OutboxRunner
from bot.flows.pagers import Pagers
from bot.flows.people import People
from bot.flows.ports import TrackerIssue
from bot.flows.postmortem import Drafter
from bot.flows.tracker_effects import TrackerEffects
from bot.store import people as people_store
from bot.store.db import Database
from tests.flows.fakes import FakeChat, StepClock

TEMPLATES = Path(__file__).resolve().parents[2] / "postmortem_templates"
AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BOB, CAROL = "U0BOB", "U0CAROL"  # the chat knows Bob's email, not Carol's


class Assigning:
    """A tracker that keeps whom each follow-up's issue went to."""

    project, name, fix = "OPS", "Tracker", "the tracker's settings"

    def __init__(self) -> None:
        self.assignees: dict[str, str | None] = {}

    def find(self, *, label: str) -> TrackerIssue | None:
        return None

    def create(
        self,
        *,
        project: str,
        summary: str,
        labels: Sequence[str],
        assignee_email: str | None = None,
        **_: object,
    ) -> TrackerIssue:
        if "postmortem-followup" in labels:
            self.assignees[summary] = assignee_email
        key = f"{project}-{len(self.assignees) + 100}"
        return TrackerIssue(key, f"https://tracker.test/{key}")

    def update(self, key: str, **_: object) -> None: ...
    def link(self, *, link_type: str, inward: str, outward: str) -> None: ...
    def remote_link(self, key: str, **_: object) -> None: ...


def closed_incident_with_followups(db: Database, owners: dict[str, str]) -> int:
    with db.engine.begin() as c:
        incident = c.execute(
            text(
                "INSERT INTO incident (title, description, severity, status, private, drill,"
                " source, imported, created_at, updated_at) VALUES ('Slow', '', 'SEV2',"
                " 'closed', false, false, 'chat', false, :at, :at) RETURNING id"
            ),
            {"at": AT},
        ).scalar_one()
        for what, owner in owners.items():
            c.execute(
                text(
                    "INSERT INTO followup (incident_id, text, owner, state, created_at, source,"
                    " updated_at) VALUES (:incident, :text, :owner, 'open', :at, 'chat', :at)"
                ),
                {"incident": incident, "text": what, "owner": owner, "at": AT},
            )
    return int(incident)


def known_person(db: Database, chat_handle: str, email: str) -> None:
    with db.transaction() as session:
        person = people_store.record_person(session=session, email=email, name=None, now=AT)
        people_store.record_handle(
            session=session,
            person_id=person.id,
            system=people_store.CHAT,
            handle=chat_handle,
            now=AT,
        )


def export(db: Database, chat: FakeChat, tracker: Assigning, incident: int) -> None:
    catalog, clock = default_catalog(), StepClock(AT)
    effects = TrackerEffects(
        db,
        tracker,
        Drafter(catalog, TEMPLATES),
        chat,
        catalog,
        clock,
        public_url=None,
        people=People(db, chat, Pagers(), clock),
    )
    with db.transaction() as session:
        tracker_effects.enqueue_export(session, incident, AT)
    assert OutboxRunner(db, clock, effects.handlers).run_lane(tracker_effects.lane(incident))


def test_one_owners_email_is_asked_of_the_chat_once_and_a_known_ones_never(
    db: Database,
) -> None:
    known_person(db, CAROL, "carol@example.com")
    incident = closed_incident_with_followups(
        db,
        {"Add a canary": BOB, "Alert on saturation": BOB, "Write the runbook": CAROL},
    )
    chat, tracker = FakeChat(), Assigning()
    export(db, chat, tracker, incident)
    assert tracker.assignees == {
        "Add a canary": "bob@example.com",
        "Alert on saturation": "bob@example.com",
        "Write the runbook": "carol@example.com",
    }
    assert [args for name, args in chat.calls if name == "user_email"] == [(BOB,)]

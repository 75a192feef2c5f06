"""A follow-up's issue is assigned to its owner by email, found through People: the person
table first, the chat surface asked once per person (and the answer kept), so an export of
many follow-ups by one owner does not ask the chat for each."""

from __future__ import annotations

from bot.core.catalog import default_catalog
from bot.store import people as people_store
from bot.store.db import Database
from tests.flows.fakes import FakeChat
from tests.flows.tracker_fakes import AT, Tracky, closed_incident, export, tracker_effects_for

BOB, CAROL = "U0BOB", "U0CAROL"  # the chat knows Bob's email, not Carol's


def assignees(tracker: Tracky) -> dict[str, str | None]:
    """Whom each follow-up's issue went to."""
    return {
        m["summary"]: m.get("assignee_email")
        for m in tracker.made
        if "postmortem-followup" in m["labels"]
    }


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


def test_one_owners_email_is_asked_of_the_chat_once_and_a_known_ones_never(
    db: Database,
) -> None:
    known_person(db, CAROL, "carol@example.com")
    incident = closed_incident(
        db,
        followups={"Add a canary": BOB, "Alert on saturation": BOB, "Write the runbook": CAROL},
    )
    chat, tracker = FakeChat(), Tracky()
    export(db, tracker_effects_for(db, default_catalog(), chat=chat, tracker=tracker), incident)
    assert assignees(tracker) == {
        "Add a canary": "bob@example.com",
        "Alert on saturation": "bob@example.com",
        "Write the runbook": "carol@example.com",
    }
    assert [args for name, args in chat.calls if name == "user_email"] == [(BOB,)]

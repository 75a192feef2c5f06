"""Where an incident stands on the chat surface, as its effects read and record it: the
conversation, the card and the topic, the announcement, the playbooks' checklists and the pinned
messages fetched — as plain values, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

from bot.core.milestones import Source
from bot.core.playbooks import Playbook, Step
from bot.core.timeline import Entry, EntryKind
from bot.store import chat_state, incident_reads, pins, playbook_runs as runs
from bot.store.db import Database
from tests.store.conftest import T0


def test_the_conversation_is_recorded_and_answered_with_the_incident(
    db: Database, incident_id: int
) -> None:
    with db.read() as session:
        assert chat_state.chat_incident(session=session, incident_id=incident_id + 1) is None
        before = chat_state.chat_incident(session=session, incident_id=incident_id)
    assert before is not None and before.card_message_id is None and before.topic is None
    with db.one_write() as session:
        opened = chat_state.record_conversation(
            session=session,
            incident_id=incident_id,
            conversation_id="C-new",
            conversation_name="inc-checkout-down",
            chat_surface="slack",
        )
    assert opened == replace(
        before, conversation_id="C-new", conversation_name="inc-checkout-down", chat_surface="slack"
    )
    with db.one_write() as session:
        gone = chat_state.record_conversation(
            session=session,
            incident_id=incident_id + 1,
            conversation_id="C-x",
            conversation_name="x",
            chat_surface="slack",
        )
    assert gone is None


def test_the_card_the_topic_and_the_announcement_are_recorded_as_they_land(
    db: Database, incident_id: int
) -> None:
    with db.one_write() as session:
        chat_state.record_in_conversation(
            session=session,
            incident_id=incident_id,
            topic="SEV2 · investigating",
            card_message_id="1.1",
        )
    with db.one_write() as session:  # a refresh changes the topic only: the card stays
        chat_state.record_in_conversation(
            session=session, incident_id=incident_id, topic="SEV1 · investigating"
        )
    with db.one_write() as session:
        chat_state.record_in_conversation(session=session, incident_id=incident_id)  # nothing new
        chat_state.record_announced(
            session=session,
            incident_id=incident_id,
            conversation_id="CFEED",
            message_id="2.2",
            chat_surface="slack",
        )
    with db.read() as session:
        shown = chat_state.chat_incident(session=session, incident_id=incident_id)
        summary = incident_reads.get_summary(session=session, incident_id=incident_id)
    assert shown is not None and summary is not None
    assert (shown.topic, shown.card_message_id) == ("SEV1 · investigating", "1.1")
    assert (shown.announce_conversation_id, shown.announce_message_id) == ("CFEED", "2.2")
    assert shown.chat_surface == "slack"
    assert shown.title == summary.title and shown.conversation_id == summary.conversation_id


def test_each_playbooks_checklist_is_read_in_order_and_its_message_recorded(
    db: Database, incident_id: int
) -> None:
    with db.transaction() as session:
        first, _ = runs.record_attached(
            session=session,
            incident_id=incident_id,
            playbook=Playbook(
                name="db", description="Database down. More.", steps=(Step(id="a", title="A"),)
            ),
            attached_by=None,
            now=T0,
        )
        second, _ = runs.record_attached(
            session=session,
            incident_id=incident_id,
            playbook=Playbook(
                name="cdn", description="CDN errors", steps=(Step(id="b", title="B"),)
            ),
            attached_by="U1",
            now=T0,
        )
    with db.one_write() as session:
        runs.record_checklist_posted(session=session, run_id=second.id, message_id="3.3")
        runs.record_checklist_posted(session=session, run_id=second.id + 100, message_id="4.4")
    with db.read() as session:
        assert runs.checklists(session=session, incident_id=incident_id) == [
            runs.Checklist(first.id, "db", "Database down", None),
            runs.Checklist(second.id, "cdn", "CDN errors", "3.3"),
        ]
        assert runs.checklists(session=session, incident_id=incident_id + 1) == []


def test_a_pinned_message_is_filled_in_unless_it_was_unpinned_first(
    db: Database, incident_id: int
) -> None:
    pinned = Entry(EntryKind.PIN, T0, "(pinned message)", "U1", Source.CHAT, {"pinned_by": ["U1"]})
    with db.transaction() as session:
        entry_id = pins.record_pin(
            session=session, incident_id=incident_id, entry=pinned, key="pin:C:1", now=T0
        )
    with db.transaction() as session:
        assert pins.record_message(
            session=session,
            entry_id=entry_id,
            text="rolled back",
            author="U2",
            permalink="https://p/1",
        )
    with db.read() as session:
        (item,) = incident_reads.timeline(session=session, incident_id=incident_id)
    assert item.text == "rolled back"
    assert item.data == {
        "pinned_by": ["U1"],
        "author": "U2",
        "permalink": "https://p/1",
        "fetched": True,
    }
    with db.transaction() as session:
        pins.remove_pin(session=session, entry_id=entry_id)
    with db.transaction() as session:
        assert not pins.record_message(
            session=session, entry_id=entry_id, text="late", author=None, permalink=None
        )

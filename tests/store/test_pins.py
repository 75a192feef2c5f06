"""Pinned messages on the timeline, and the post-mortem's own reads — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from bot.core.alerts import Alert
from bot.core.milestones import Source
from bot.core.timeline import Entry, EntryKind
from bot.store import alerts, incident_reads, pins, postmortems
from bot.store.db import Database
from tests.store.conftest import T0

PINNED = Entry(EntryKind.PIN, T0, "(pinned message)", "U1", Source.CHAT, {"pinned_by": ["U1"]})


def test_a_pin_is_one_entry_per_message_with_who_pinned_it(db: Database, incident_id: int) -> None:
    with db.transaction() as session:
        assert pins.pinned_entry(session=session, incident_id=incident_id, key="pin:C:1") is None
        entry_id = pins.record_pin(
            session=session, incident_id=incident_id, entry=PINNED, key="pin:C:1", now=T0
        )
    with db.transaction() as session:
        pinned = pins.pinned_entry(session=session, incident_id=incident_id, key="pin:C:1")
        assert pinned == pins.PinnedEntry(entry_id, ("U1",))
        pins.record_pinners(session=session, entry_id=entry_id, pinned_by=["U1", "U2"])
    with db.read() as session:
        pinned = pins.pinned_entry(session=session, incident_id=incident_id, key="pin:C:1")
        assert pinned is not None and pinned.pinned_by == ("U1", "U2")
        (item,) = incident_reads.timeline(session=session, incident_id=incident_id)
        assert item.data["pinned_by"] == ["U1", "U2"] and item.text == "(pinned message)"
    with db.transaction() as session:
        pins.remove_pin(session=session, entry_id=entry_id)
        pins.remove_pin(session=session, entry_id=entry_id)  # gone already: nothing to do
    with db.read() as session:
        assert pins.pinned_entry(session=session, incident_id=incident_id, key="pin:C:1") is None


def test_the_postmortem_reads_alert_spans_and_records_its_issue(
    db: Database, incident_id: int
) -> None:
    later = T0 + timedelta(minutes=10)
    fired = [
        Alert("fp-2", "firing", {"alertname": "Latency"}, {}, later, None),
        Alert("fp-1", "resolved", {"alertname": "Errors"}, {}, T0, later),
    ]
    with db.transaction() as session:
        alerts.upsert_alerts(
            session=session, incident_id=incident_id, source="alertmanager", alerts=fired, now=T0
        )
        postmortems.record_postmortem_issue(
            session=session, incident_id=incident_id, key="PM-1", url="https://t/PM-1"
        )
    with db.read() as session:
        spans = postmortems.alert_spans(session=session, incident_id=incident_id)
        summary = incident_reads.get_summary(session=session, incident_id=incident_id)
    assert spans == [
        postmortems.AlertSpan("Errors", "alertmanager", T0, later),
        postmortems.AlertSpan("Latency", "alertmanager", later, None),
    ]
    assert summary is not None and (summary.postmortem_key, summary.postmortem_url) == (
        "PM-1",
        "https://t/PM-1",
    )

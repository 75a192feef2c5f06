"""Alerts are stored by fingerprint: a repeat changes nothing, whatever the fingerprint holds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.core.alerts import Alert
from bot.store.alerts import upsert_alerts
from bot.store.db import Database
from bot.store.models import AlertRow

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def alert(fingerprint: str, status: str = "firing") -> Alert:
    return Alert(
        fingerprint=fingerprint,
        status=status,
        labels={"alertname": "Checkout5xx"},
        annotations={},
        starts_at=T0,
        ends_at=None,
        links={},
    )


def test_a_fingerprint_with_a_nul_is_found_again(db: Database, incident_id: int) -> None:
    """The database keeps U+FFFD for a NUL; the second delivery must match the first."""
    for expected in (["new"], [], ["resolved"]):
        status = "resolved" if expected == ["resolved"] else "firing"
        with db.transaction() as session:
            changes = upsert_alerts(
                session=session,
                incident_id=incident_id,
                source="grafana",
                alerts=[alert("ab\x00c", status)],
                now=T0,
            )
        assert [c.change for c in changes] == expected


def stored(db: Database, incident_id: int) -> dict[str, tuple[str, dict[str, str], datetime]]:
    with db.read() as session:
        rows = session.exec(select(AlertRow).where(AlertRow.incident_id == incident_id)).all()
    return {r.fingerprint: (r.status, r.annotations, r.last_seen_at) for r in rows}


def deliver(db: Database, incident_id: int, now: datetime, *alerts: Alert) -> list[str]:
    with db.transaction() as session:
        changes = upsert_alerts(
            session=session, incident_id=incident_id, source="alertmanager", alerts=alerts, now=now
        )
    return [f"{c.alert.fingerprint} {c.change}" for c in changes]


def test_one_delivery_inserts_new_alerts_updates_changed_ones_and_only_touches_the_rest(
    db: Database, incident_id: int
) -> None:
    later, latest = T0 + timedelta(minutes=1), T0 + timedelta(minutes=2)
    assert deliver(db, incident_id, T0, alert("a"), alert("b")) == ["a new", "b new"]
    annotated = replace(alert("a"), annotations={"runbook_url": "https://runbooks/a"})
    ended = replace(alert("b", "resolved"), ends_at=later)
    assert deliver(db, incident_id, later, annotated, ended, alert("c")) == [
        "b resolved",
        "c new",
    ]
    rows = stored(db, incident_id)
    # nothing that matters changed for `a`: only seen again, its annotations as they were
    assert rows["a"] == ("firing", {}, later)
    assert rows["b"][0] == "resolved"
    assert deliver(db, incident_id, latest, alert("b"), replace(annotated, status="resolved")) == [
        "b refired",
        "a resolved",
    ]
    assert stored(db, incident_id)["a"] == (
        "resolved",
        {"runbook_url": "https://runbooks/a"},
        latest,
    )
    assert stored(db, incident_id)["c"][2] == later  # not in the delivery: untouched


def test_a_fingerprint_sent_twice_in_one_delivery_counts_once_as_its_last_alert_says(
    db: Database, incident_id: int
) -> None:
    assert deliver(db, incident_id, T0, alert("a"), alert("a", "resolved")) == ["a resolved"]
    assert stored(db, incident_id)["a"][0] == "resolved"


def test_labels_and_annotations_with_a_nul_are_stored_as_sent(
    db: Database, incident_id: int
) -> None:
    odd = replace(alert("a"), labels={"pod": "x\x00y"}, annotations={"summary": "s\x00t"})
    assert deliver(db, incident_id, T0, odd, alert("b")) == ["a new", "b new"]
    assert stored(db, incident_id)["a"][1] == {"summary": "s\x00t"}
    assert deliver(db, incident_id, T0, odd, alert("b", "resolved")) == ["b resolved"]

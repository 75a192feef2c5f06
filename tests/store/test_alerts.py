"""Alerts are stored by fingerprint: a repeat changes nothing, whatever the fingerprint holds."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.alerts import Alert
from bot.store.alerts import upsert_alerts
from bot.store.db import Database
from bot.store.models import Incident

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


def test_a_fingerprint_with_a_nul_is_found_again(db: Database) -> None:
    """The database keeps U+FFFD for a NUL; the second delivery must match the first."""
    with db.transaction() as session:
        incident = Incident(
            title="t",
            severity="SEV2",
            status="investigating",
            source="alert",
            created_at=T0,
            updated_at=T0,
        )
        session.add(incident)
        session.flush()
        assert incident.id is not None
        incident_id = incident.id
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

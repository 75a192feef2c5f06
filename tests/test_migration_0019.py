"""0019: which chat surface an incident's message references are on, on a database filled as
0018 left it (Slack was the only surface then)."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from bot.store import incident_reads
from bot.store.db import Database

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _before(db: Database) -> str:
    """The revision 0019 follows."""
    found = ScriptDirectory.from_config(db.alembic_config()).get_revision("0019")
    assert found is not None and isinstance(found.down_revision, str)
    return found.down_revision


def _incident(db: Database, title: str, **references: str) -> int:
    columns = "".join(f", {name}" for name in references)
    values = "".join(f", :{name}" for name in references)
    with db.engine.begin() as connection:
        return int(
            connection.execute(
                text(
                    "INSERT INTO incident (title, description, severity, status, private, drill,"
                    f" source, imported, created_at, updated_at{columns}) VALUES (:title, '',"
                    f" 'SEV2', 'investigating', false, false, 'chat', false, :at, :at{values})"
                    " RETURNING id"
                ),
                {"title": title, "at": AT, **references},
            ).scalar_one()
        )


def _fill_as_before(db: Database) -> dict[str, int]:
    """As 0018 left it: an incident in its conversation (card, announcement and a playbook's
    checklist), one only announced (its conversation could not be made), and one with neither."""
    db.downgrade(_before(db))
    incidents = {
        "in its conversation": _incident(
            db,
            "Slow",
            conversation_id="C0001",
            conversation_name="inc-20261201-slow",
            card_message_id="1764579600.000100",
            announce_conversation_id="CFEED",
            announce_message_id="1764579600.000200",
        ),
        "only announced": _incident(
            db,
            "No channel",
            announce_conversation_id="CFEED",
            announce_message_id="1764579600.000300",
        ),
        "nowhere": _incident(db, "Not yet"),
    }
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO playbook_run (incident_id, playbook, title, attached_at,"
                " checklist_message_id) VALUES (:incident, 'db', 'Database', :at,"
                " '1764579600.000400')"
            ),
            {"incident": incidents["in its conversation"], "at": AT},
        )
    return incidents


def test_incidents_with_a_conversation_are_on_slack_the_others_on_none_yet(db: Database) -> None:
    incidents = _fill_as_before(db)
    db.upgrade()
    with db.read() as session:
        surfaces = {}
        for what, incident_id in incidents.items():
            summary = incident_reads.get_summary(session=session, incident_id=incident_id)
            assert summary is not None
            surfaces[what] = summary.chat_surface
    assert surfaces == {"in its conversation": "slack", "only announced": "slack", "nowhere": None}


def test_the_downgrade_drops_the_column_and_keeps_everything_else(db: Database) -> None:
    """With rows pointing at the incidents (a playbook run): the column goes in place, the
    table is not rebuilt."""
    incidents = _fill_as_before(db)
    db.upgrade()
    db.downgrade(_before(db))
    with db.engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("incident")}
        kept = connection.execute(
            text(
                "SELECT conversation_id, card_message_id, announce_message_id FROM incident"
                " WHERE id = :id"
            ),
            {"id": incidents["in its conversation"]},
        ).one()
        checklist = connection.execute(
            text("SELECT checklist_message_id FROM playbook_run")
        ).scalar_one()
    assert "chat_surface" not in columns
    assert (tuple(kept), checklist) == (
        ("C0001", "1764579600.000100", "1764579600.000200"),
        "1764579600.000400",
    )
    db.upgrade()

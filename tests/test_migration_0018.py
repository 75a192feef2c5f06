"""0018: the incident's message references under neutral names, on a database filled before it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from bot.core.catalog import default_catalog
from bot.flows.views import card_view
from bot.store import incident_reads, incidents as q
from bot.store.db import Database
from bot.store.models import PlaybookRun

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
STORED = ("C0001", "inc-20261201-slow", "1764579600.000100", "CFEED", "1764579600.000200")


def _before(db: Database) -> str:
    """The revision 0018 follows."""
    found = ScriptDirectory.from_config(db.alembic_config()).get_revision("0018")
    assert found is not None and isinstance(found.down_revision, str)
    return found.down_revision


def _fill_as_before(db: Database) -> tuple[int, int]:
    """An incident with its channel, card and announcement, one without (imported), and a
    playbook run with its checklist, as the code before 0018 stored them."""
    db.downgrade(_before(db))
    with db.engine.begin() as connection:
        incident = connection.execute(
            text(
                "INSERT INTO incident (title, description, severity, status, private, drill,"
                " source, imported, channel_id, channel_name, card_ts, announce_channel,"
                " announce_ts, created_at, updated_at) VALUES ('Slow', '', 'SEV2',"
                " 'investigating', false, false, 'chat', false, :c, :n, :card, :feed, :ann,"
                " :at, :at) RETURNING id"
            ),
            dict(zip(("c", "n", "card", "feed", "ann"), STORED, strict=True), at=AT),
        ).scalar_one()
        connection.execute(
            text(
                "INSERT INTO incident (title, description, severity, status, private, drill,"
                " source, imported, created_at, updated_at) VALUES ('Imported', '', 'SEV3',"
                " 'closed', false, false, 'manual', true, :at, :at)"
            ),
            {"at": AT},
        )
        run = connection.execute(
            text(
                "INSERT INTO playbook_run (incident_id, playbook, title, attached_at, message_ts)"
                " VALUES (:incident, 'db', 'Database', :at, '1764579600.000300') RETURNING id"
            ),
            {"incident": incident, "at": AT},
        ).scalar_one()
    return int(incident), int(run)


def _insert_in_conversation(db: Database, column: str) -> None:
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO incident (title, description, severity, status, private, drill,"
                f" source, imported, {column}, created_at, updated_at) VALUES ('Again', '',"
                " 'SEV2', 'investigating', false, false, 'chat', false, 'C0001', :at, :at)"
            ),
            {"at": AT},
        )


def test_the_message_references_keep_their_values_under_the_new_names(db: Database) -> None:
    incident_id, run_id = _fill_as_before(db)
    db.upgrade()
    with db.read() as session:
        incident = q.get_incident(session=session, incident_id=incident_id)
        assert incident is not None
        assert (
            incident.conversation_id,
            incident.conversation_name,
            incident.card_message_id,
            incident.announce_conversation_id,
            incident.announce_message_id,
        ) == STORED
        found = q.incident_by_conversation(session=session, conversation_id="C0001")
        assert found is not None and found.id == incident_id
        summary = incident_reads.get_summary(session=session, incident_id=incident_id)
        assert summary is not None
        assert (summary.conversation_id, summary.conversation_name) == STORED[:2]
        card = card_view(
            session=session, incident=incident, catalog=default_catalog(), public_url=None
        )
        assert (card.conversation_id, card.conversation_name) == STORED[:2]
        run = session.get(PlaybookRun, run_id)
        assert run is not None and run.checklist_message_id == "1764579600.000300"


def test_one_conversation_still_belongs_to_one_incident(db: Database) -> None:
    _fill_as_before(db)
    db.upgrade()
    with pytest.raises(IntegrityError):
        _insert_in_conversation(db, "conversation_id")
    with db.engine.connect() as connection:
        found = {
            u["name"]: u["column_names"]
            for u in inspect(connection).get_unique_constraints("incident")
            if u["column_names"] == ["conversation_id"]
        }
    # PostgreSQL named the old one `incident_channel_id_key`; SQLite names none
    name = "uq_incident_conversation_id" if db.engine.dialect.name == "postgresql" else None
    assert found == {name: ["conversation_id"]}


def test_the_downgrade_gives_the_old_names_their_values_back(db: Database) -> None:
    incident_id, run_id = _fill_as_before(db)
    db.upgrade()
    db.downgrade(_before(db))
    with db.engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT channel_id, channel_name, card_ts, announce_channel, announce_ts"
                " FROM incident WHERE id = :id"
            ),
            {"id": incident_id},
        ).one()
        checklist = connection.execute(
            text("SELECT message_ts FROM playbook_run WHERE id = :id"), {"id": run_id}
        ).scalar_one()
    assert (tuple(row), checklist) == (STORED, "1764579600.000300")
    with pytest.raises(IntegrityError):
        _insert_in_conversation(db, "channel_id")
    db.upgrade()

"""Migrations build exactly the schema the models describe, both ways, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text
from sqlmodel import select

from bot.core.milestones import Milestone, Source
from bot.store import incidents as q
from bot.store.db import Database
from bot.store.models import Incident


def test_models_and_migrations_agree(db: Database) -> None:
    with db.engine.begin() as connection:
        cfg = db.alembic_config()
        cfg.attributes["connection"] = connection
        command.check(cfg)  # raises if autogenerate would find a difference
    assert db.current_revision() == db.head_revision()


def test_downgrade_to_nothing_and_back(db: Database) -> None:
    db.downgrade("base")
    assert db.current_revision() is None
    db.upgrade()
    db.require_current_schema()


def test_sources_stored_under_vendor_names_are_renamed_both_ways(db: Database) -> None:
    """0012: a database written before it says `slack` / `pagerduty` where the domain now says
    `chat` / `pager`; the upgrade moves every such value, the downgrade moves it back, and the
    other sources are left as they are."""
    db.downgrade("0011")
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with db.engine.begin() as connection:
        incident = connection.execute(
            text(
                "INSERT INTO incident (title, description, severity, status, private, drill,"
                " source, imported, created_at, updated_at) VALUES ('Slow', '', 'SEV2',"
                " 'investigating', false, false, 'slack', false, :at, :at) RETURNING id"
            ),
            {"at": at},
        ).scalar_one()
        for kind, source in (
            (Milestone.DECLARED, "slack"),
            (Milestone.ACKNOWLEDGED, "pagerduty"),
            (Milestone.DETECTED, "alert"),
        ):
            connection.execute(
                text(
                    "INSERT INTO milestone (incident_id, kind, at, source, updated_at)"
                    " VALUES (:incident, :kind, :at, :source, :at)"
                ),
                {"incident": incident, "kind": kind.value, "at": at, "source": source},
            )
            connection.execute(
                text(
                    "INSERT INTO timeline_entry (incident_id, at, kind, text, source, data,"
                    " created_at) VALUES (:incident, :at, :kind, 'x', :source, '{}', :at)"
                ),
                {"incident": incident, "kind": kind.value, "at": at, "source": source},
            )
        for source in ("slack", "shortcut", "playbook"):
            connection.execute(
                text(
                    "INSERT INTO followup (incident_id, text, state, created_at, source,"
                    " updated_at) VALUES (:incident, 'Add an alert', 'open', :at, :source, :at)"
                ),
                {"incident": incident, "at": at, "source": source},
            )

    def sources() -> dict[str, list[str]]:
        with db.engine.connect() as connection:
            return {
                table: sorted(connection.execute(text(f"SELECT source FROM {table}")).scalars())
                for table in ("incident", "milestone", "timeline_entry", "followup")
            }

    before = {
        "incident": ["slack"],
        "milestone": ["alert", "pagerduty", "slack"],
        "timeline_entry": ["alert", "pagerduty", "slack"],
        "followup": ["playbook", "shortcut", "slack"],
    }
    assert sources() == before
    db.upgrade()
    assert sources() == {
        "incident": [Source.CHAT.value],
        "milestone": sorted([Source.ALERT.value, Source.PAGER.value, Source.CHAT.value]),
        "timeline_entry": sorted([Source.ALERT.value, Source.PAGER.value, Source.CHAT.value]),
        "followup": ["chat", "playbook", "shortcut"],
    }
    with db.read() as session:
        (row,) = session.exec(select(Incident)).all()
        assert {s.source for s in q.milestones(session=session, incident_id=row.id).values()} == {
            Source.CHAT,
            Source.PAGER,
            Source.ALERT,
        }
    db.downgrade("0011")
    assert sources() == before

"""Migrations build exactly the schema the models describe, both ways, on both databases."""

from __future__ import annotations

from alembic import command

from bot.store.db import Database


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

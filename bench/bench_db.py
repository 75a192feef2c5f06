"""The benches' databases: a SQLite file in a temp folder, or a PostgreSQL database of the bench's
own (`--pg-db`, env BENCH_PG_DB, default `bench`; server BENCH_PG_SERVER), created if missing and
emptied before each run. Never the test suite's `test` database."""

from __future__ import annotations

import argparse
import os

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.store.db import Database

PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432")
PG_DB = os.environ.get("BENCH_PG_DB", "bench")
KINDS = ("sqlite", "postgres")


def add_arguments(parser: argparse.ArgumentParser, default: str) -> None:
    parser.add_argument("--db", choices=[*KINDS, "both"], default=default)
    parser.add_argument(
        "--pg-db",
        default=PG_DB,
        help="PostgreSQL database for the bot (created if missing, emptied first; env BENCH_PG_DB)",
    )


def kinds(choice: str) -> list[str]:
    return list(KINDS) if choice == "both" else [choice]


def fresh(kind: str, workdir: str, pg_db: str, name: str = "bench") -> str:
    """The DATABASE_URL of an empty database of `kind` (the schema is `incidentbot db upgrade`'s job)."""
    if kind == "sqlite":
        return f"sqlite:///{workdir}/{name}.db"
    if pg_db == "test":
        raise SystemExit("the `test` database belongs to the test suite; pick another --pg-db")
    url = f"{PG_SERVER}/{pg_db}"
    admin = Database(make_url(url).set(database="postgres").render_as_string(hide_password=False))
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": pg_db}
        ).first():
            conn.execute(text(f'CREATE DATABASE "{pg_db}"'))
    admin.dispose()
    db = Database(url)
    with db.engine.begin() as conn:  # whatever tables a branch's migrations made, gone
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.dispose()
    return url


def count(url: str, sql: str) -> int:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            return int(conn.execute(text(sql)).scalar_one())
    finally:
        db.dispose()

"""0017: people become identities. A database written by the code before it holds chat user ids
only (roles, who assigned them, milestones, timeline entries, follow-ups, steps); the upgrade
makes one person per distinct id with its chat handle (no email or name: the database never had
them), the first pager acknowledgement that names one of them by email fills the email in, and
the downgrade drops the people and leaves everything else as it was."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from bot.core.catalog import PagerTarget
from bot.flows.pagers import Pagers
from bot.flows.people import People
from bot.store import people as store
from bot.store.db import Database
from tests.flows.fakes import FakeChat, FakePager, StepClock

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _fill_as_0015_did(db: Database) -> int:
    """An incident declared by Alice, Bob made commander by her, a pager acknowledgement matched
    to Carol, a follow-up owned by Dana, an alert's entry with no person."""
    with db.engine.begin() as c:
        incident = c.execute(
            text(
                "INSERT INTO incident (title, description, severity, status, private, drill,"
                " source, imported, created_by, created_at, updated_at) VALUES ('Checkout down',"
                " '', 'SEV1', 'investigating', false, false, 'chat', false, 'U0ALICE', :at, :at)"
                " RETURNING id"
            ),
            {"at": AT},
        ).scalar_one()
        c.execute(
            text(
                "INSERT INTO role_assignment (incident_id, role, user_id, assigned_by,"
                " assigned_at) VALUES (:i, 'commander', 'U0BOB', 'U0ALICE', :at)"
            ),
            {"i": incident, "at": AT},
        )
        c.execute(
            text(
                "INSERT INTO milestone (incident_id, kind, at, source, set_by, updated_at)"
                " VALUES (:i, 'acknowledged_at', :at, 'pager', 'U0CAROL', :at)"
            ),
            {"i": incident, "at": AT},
        )
        for actor, source in (("U0CAROL", "pager"), (None, "alert"), ("U0ALICE", "chat")):
            c.execute(
                text(
                    "INSERT INTO timeline_entry (incident_id, at, kind, text, actor, source,"
                    " data, created_at) VALUES (:i, :at, 'note', 'x', :actor, :source, '{}', :at)"
                ),
                {"i": incident, "at": AT, "actor": actor, "source": source},
            )
        c.execute(
            text(
                "INSERT INTO followup (incident_id, text, owner, state, source, created_at, updated_at)"
                " VALUES (:i, 'Add a canary', 'U0DAN', 'open', 'chat', :at, :at)"
            ),
            {"i": incident, "at": AT},
        )
    return int(incident)


def _rows(db: Database, sql: str) -> list[tuple[Any, ...]]:
    with db.engine.connect() as c:
        return [tuple(row) for row in c.execute(text(sql))]


def test_the_chat_ids_the_database_holds_become_people_and_an_email_finds_them(
    db: Database,
) -> None:
    db.downgrade("0015")
    _fill_as_0015_did(db)
    before = _rows(db, "SELECT incident_id, role, user_id, assigned_by FROM role_assignment")
    db.upgrade()
    people = _rows(
        db,
        "SELECT h.system, h.handle, p.email, p.name FROM person_handle h"
        " JOIN person p ON p.id = h.person_id ORDER BY h.handle",
    )
    assert people == [
        ("chat", user, None, None) for user in ("U0ALICE", "U0BOB", "U0CAROL", "U0DAN")
    ]
    assert _rows(db, "SELECT count(*) FROM person") == [(4,)]
    assert _rows(db, "SELECT incident_id, role, user_id, assigned_by FROM role_assignment") == (
        before
    )

    # Bob acknowledges in a pager that says his email: the back-filled Bob gets it
    pagers = Pagers(
        by_kind={"first": FakePager("first", "First")}, targets={"first": PagerTarget()}
    )
    chat = FakeChat()
    someone = People(db, chat, pagers, StepClock()).from_pager(
        "first", user_id="p-bob", email="bob@example.com"
    )
    with db.read() as session:
        bob = store.by_handle(session=session, system="chat", handle="U0BOB")
    assert bob is not None and (someone.person_id, someone.chat) == (bob.id, "U0BOB")
    assert bob.email == "bob@example.com"
    assert _rows(db, "SELECT count(*) FROM person") == [(4,)]

    db.downgrade("0015")
    assert _rows(db, "SELECT incident_id, role, user_id, assigned_by FROM role_assignment") == (
        before
    )
    db.upgrade()

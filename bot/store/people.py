"""People: one identity per person across the chat surface and the pagers, matched by email.

A person (`person`) has an email (lowercased; None while only a handle is known) and a name,
and a handle per system (`person_handle`: `chat` for the chat surface's user id, `pager:<kind>`
for a pager's user id or username). Keyword-only `session=`: the caller's unit of work owns the
transaction. Writes are safe against a concurrent writer of the same person: an insert that
finds the email or the handle taken does nothing, and the row that won is read back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from bot.store.models import PersonHandle, PersonRow

CHAT = "chat"
EMAIL_MAX = 320  # person.email


def pager_system(kind: str) -> str:
    """The system a pager's handles are kept under: `pager:<kind>`."""
    return f"pager:{kind}"


@dataclass(frozen=True)
class Person:
    id: int
    email: str | None
    name: str | None


def normal_email(email: str) -> str:
    return email.strip().lower()


def _person(row: PersonRow) -> Person:
    assert row.id is not None
    return Person(row.id, row.email, row.name)


def _insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def by_handle(*, session: Session, system: str, handle: str) -> Person | None:
    row = session.exec(
        select(PersonRow)
        .join(PersonHandle, col(PersonHandle.person_id) == col(PersonRow.id))
        .where(PersonHandle.system == system, PersonHandle.handle == handle)
    ).first()
    return _person(row) if row is not None else None


def by_email(*, session: Session, email: str) -> Person | None:
    row = session.exec(select(PersonRow).where(PersonRow.email == normal_email(email))).first()
    return _person(row) if row is not None else None


def handle_of(*, session: Session, person_id: int, system: str) -> str | None:
    """The person's handle on `system` (the first recorded, if several)."""
    return session.exec(
        select(PersonHandle.handle)
        .where(PersonHandle.person_id == person_id, PersonHandle.system == system)
        .order_by(col(PersonHandle.id))
    ).first()


def record_person(*, session: Session, email: str, name: str | None, now: datetime) -> Person:
    """The person with `email`, recorded now if nobody has it yet (their name too, if known)."""
    email = normal_email(email)
    session.execute(
        _insert(session, PersonRow)
        .values(email=email, name=name, created_at=now)
        .on_conflict_do_nothing(index_elements=["email"])
    )
    found = by_email(session=session, email=email)
    assert found is not None
    if name and not found.name:
        row = session.get(PersonRow, found.id)
        assert row is not None
        row.name = name
        session.add(row)
        found = Person(found.id, found.email, name)
    return found


def record_email(*, session: Session, person_id: int, email: str) -> Person:
    """A person known by a handle only (no email yet) turns out to have `email`."""
    row = session.get(PersonRow, person_id)
    assert row is not None
    row.email = normal_email(email)
    session.add(row)
    session.flush()
    return _person(row)


def record_handle(
    *, session: Session, person_id: int, system: str, handle: str, now: datetime
) -> bool:
    """`handle` on `system` is this person's; False when it already belonged to someone."""
    done = session.execute(
        _insert(session, PersonHandle)
        .values(person_id=person_id, system=system, handle=handle, created_at=now)
        .on_conflict_do_nothing(index_elements=["system", "handle"])
        .returning(col(PersonHandle.id))
    ).first()
    return done is not None

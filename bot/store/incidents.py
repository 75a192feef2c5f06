"""Queries on incidents, milestones, roles and the timeline. Keyword-only `session=`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, select as core_select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from bot.core.lifecycle import Decision, Opening, Snapshot
from bot.core.milestones import Milestone, Source, Stamp
from bot.store.models import Incident, MilestoneRow, ProcessedRequest, RoleAssignment, TimelineRow
from bot.store.timeline_entries import (  # the timeline's rows, where incidents' callers look
    Rows,
    add_entries as add_entries,
    entry_rows as entry_rows,
    insert_entries as insert_entries,
    insert_rows,
    timeline as timeline,
    timeline_entry_by_key as timeline_entry_by_key,
)

_INCIDENT = Incident.__table__  # type: ignore[attr-defined]
_MILESTONE = MilestoneRow.__table__  # type: ignore[attr-defined]
_ROLE = RoleAssignment.__table__  # type: ignore[attr-defined]
_REQUEST = ProcessedRequest.__table__  # type: ignore[attr-defined]
# The hot statements are built once: a statement object keeps its cache key (SQLAlchemy memoizes
# it), where one built per call pays for its construction and its key every time.
_CLAIM = {
    "postgresql": pg_insert(_REQUEST).on_conflict_do_nothing().returning(_REQUEST.c.key),
    "sqlite": sqlite_insert(_REQUEST).on_conflict_do_nothing().returning(_REQUEST.c.key),
}
_BY_ID = select(Incident).where(col(Incident.id) == bindparam("incident_id"))
_BY_ID_LOCKED = _BY_ID.with_for_update()
_MILESTONES = core_select(
    _MILESTONE.c.kind, _MILESTONE.c.at, _MILESTONE.c.source, _MILESTONE.c.set_by
).where(_MILESTONE.c.incident_id == bindparam("incident_id"))
_ROLES = core_select(_ROLE.c.role, _ROLE.c.user_id).where(
    _ROLE.c.incident_id == bindparam("incident_id")
)
_INSERT_MILESTONE, _INSERT_ROLE = insert(_MILESTONE), insert(_ROLE)
_SET: dict[tuple[str, ...], Any] = {}  # UPDATE incident SET <these columns>, by column names
_SET_READ: dict[tuple[str, ...], Any] = {}  # the same, RETURNING the row
_KEPT = "incidents.kept"  # Session.info: the incident rows read or made in this session
_LOCKED = "incidents.locked"  # Session.info: the incidents this transaction locked or made


def kept(session: Session, incident_id: int) -> Incident | None:
    """The incident's row as this session read or made it, with the changes made to it since
    (None: not read here). The session keeps every incident row it read or made until it
    ends (its identity map alone would let go of a row nobody holds), so reading one again,
    or changing it, costs no statement."""
    rows: dict[int, Incident] = session.info.get(_KEPT, {})
    return rows.get(incident_id)


def _keep(session: Session, row: Incident | None, *, locked: bool = False) -> Incident | None:
    if row is not None and row.id is not None:
        session.info.setdefault(_KEPT, {})[row.id] = row
        if locked:
            locked_here(session).add(row.id)
    return row


def locked_here(session: Session) -> set[int]:
    """The incidents whose rows this transaction locked (`for_update`) or inserted: no other
    transaction changes them before it ends."""
    locked: set[int] = session.info.setdefault(_LOCKED, set())
    return locked


def claim_request(
    *, session: Session, key: str, now: datetime, incident_id: int | None = None
) -> bool:
    """Record an incoming request id; False if it was seen before (a retry, replay or double
    click). Runs inside the caller's transaction, so a rolled-back handling frees the id again."""
    values = {"key": key, "received_at": now, "incident_id": incident_id}
    statement = _CLAIM[session.get_bind().dialect.name]
    return session.execute(statement, values).first() is not None  # rowcount is not reliable here


def create_incident(
    *,
    session: Session,
    opening: Opening,
    now: datetime,
    source: Source,
    created_by: str | None,
    drill: bool = False,
    alert_group: tuple[str | None, str, str] | None = None,
) -> Incident:
    """`alert_group`: (service, group key, open-group hash) of an alert-born incident, written
    with the row (its unique open-group key is checked by this INSERT)."""
    incident = new_incident(
        opening=opening,
        now=now,
        source=source,
        created_by=created_by,
        drill=drill,
        alert_group=alert_group,
    )
    session.add(incident)
    session.flush()
    assert incident.id is not None
    _keep(session, incident, locked=True)  # nobody else sees it before the commit
    insert_fresh(session, incident.id, opening, now)
    return incident


def new_incident(
    *,
    opening: Opening,
    now: datetime,
    source: Source,
    created_by: str | None,
    drill: bool,
    alert_group: tuple[str | None, str, str] | None = None,
) -> Incident:
    """The row of an incident being opened, not yet stored."""
    snap = opening.snapshot
    service, group_key, open_group = alert_group or (None, None, None)
    return Incident(
        title=snap.title,
        description=opening.description,
        severity=snap.severity,
        status=snap.status,
        private=snap.private,
        drill=drill,
        source=source.value,
        created_by=created_by,
        created_at=now,
        updated_at=now,
        service=service,
        group_key=group_key,
        open_group=open_group,
    )


def insert_fresh(session: Session, incident_id: int, opening: Opening, now: datetime) -> None:
    """A new incident's milestones, roles and first entries: plain INSERTs (nothing to look up
    or update yet), the bulk of a declaration's transaction."""
    milestone_rows, role_rows, entry_rows = fresh_rows(incident_id, opening, now)
    if milestone_rows:
        session.execute(_INSERT_MILESTONE, milestone_rows)
    if role_rows:
        session.execute(_INSERT_ROLE, role_rows)
    insert_rows(session, entry_rows)


def fresh_rows(incident_id: int, opening: Opening, now: datetime) -> tuple[Rows, Rows, Rows]:
    """The rows of a new incident's milestones, roles and first timeline entries."""
    snap = opening.snapshot
    milestone_rows = [
        {
            "incident_id": incident_id,
            "kind": milestone.value,
            "at": stamp.at,
            "source": stamp.source.value,
            "set_by": stamp.by,
            "updated_at": now,
        }
        for milestone, stamp in snap.milestones.items()
    ]
    role_rows = [
        {
            "incident_id": incident_id,
            "role": role,
            "user_id": user,
            "assigned_at": now,
            "assigned_by": next(
                (e.actor for e in opening.entries if e.data.get("role") == role), None
            ),
        }
        for role, user in snap.roles.items()
    ]
    return milestone_rows, role_rows, entry_rows(incident_id, opening.entries, now)


def get_incident(
    *, session: Session, incident_id: int, for_update: bool = False
) -> Incident | None:
    query = _BY_ID_LOCKED if for_update else _BY_ID
    return _keep(
        session, session.exec(query, params={"incident_id": incident_id}).first(), locked=for_update
    )


def set_fields(*, session: Session, incident_id: int, **values: Any) -> None:
    """Set columns of the incident's row, as they are (one UPDATE, no read first)."""
    columns = tuple(sorted(values))
    statement = _SET.get(columns)
    if statement is None:
        statement = _SET[columns] = (
            update(_INCIDENT)
            .where(_INCIDENT.c.id == bindparam("incident_id"))
            .values({c: bindparam(f"set_{c}") for c in columns})
        )
    params = {f"set_{c}": v for c, v in values.items()}
    session.execute(statement, {"incident_id": incident_id, **params})


def set_and_read(*, session: Session, incident_id: int, **values: Any) -> Incident | None:
    """`set_fields`, and the row as it is now, in the same statement (None: no such row)."""
    columns = tuple(sorted(values))
    statement = _SET_READ.get(columns)
    if statement is None:
        statement = _SET_READ[columns] = (
            update(_INCIDENT)
            .where(_INCIDENT.c.id == bindparam("incident_id"))
            .values({c: bindparam(f"set_{c}") for c in columns})
            .returning(*_INCIDENT.c)
        )
    params = {f"set_{c}": v for c, v in values.items()}
    row = session.execute(statement, {"incident_id": incident_id, **params}).first()
    return Incident(**row._mapping) if row is not None else None


def incident_by_conversation(
    *, session: Session, conversation_id: str, for_update: bool = False
) -> Incident | None:
    query = select(Incident).where(Incident.conversation_id == conversation_id)
    if for_update:
        query = query.with_for_update()
    return _keep(session, session.exec(query).first(), locked=for_update)


def milestones(*, session: Session, incident_id: int) -> dict[Milestone, Stamp]:
    rows = session.execute(_MILESTONES, {"incident_id": incident_id})
    return {Milestone(kind): Stamp(at, Source(source), by) for kind, at, source, by in rows}


def roles(*, session: Session, incident_id: int) -> dict[str, str]:
    rows = session.execute(_ROLES, {"incident_id": incident_id})
    return {role: user for role, user in rows}


def incidents_by_id(*, session: Session, incident_ids: Sequence[int]) -> dict[int, Incident]:
    rows = session.exec(select(Incident).where(col(Incident.id).in_(list(incident_ids)))).all()
    return {int(r.id or 0): r for r in rows if _keep(session, r)}


def roles_by_incident(
    *, session: Session, incident_ids: Sequence[int]
) -> dict[int, dict[str, str]]:
    result: dict[int, dict[str, str]] = {}
    for r in session.exec(
        select(RoleAssignment).where(col(RoleAssignment.incident_id).in_(list(incident_ids)))
    ).all():
        result.setdefault(r.incident_id, {})[r.role] = r.user_id
    return result


def snapshot(*, session: Session, incident: Incident) -> Snapshot:
    assert incident.id is not None
    return Snapshot(
        title=incident.title,
        severity=incident.severity,
        status=incident.status,
        milestones=milestones(session=session, incident_id=incident.id),
        roles=roles(session=session, incident_id=incident.id),
        private=incident.private,
    )


def apply_decision(
    *, session: Session, incident: Incident, decision: Decision, now: datetime
) -> list[TimelineRow]:
    assert incident.id is not None
    incident_id = incident.id
    if decision.status:
        incident.status = decision.status
    if decision.severity:
        incident.severity = decision.severity
    if decision.summary:
        incident.summary = decision.summary
    if decision.private is not None:
        incident.private = decision.private
    incident.updated_at = now
    session.add(incident)
    if decision.clear_milestones:
        session.execute(
            delete(MilestoneRow).where(
                col(MilestoneRow.incident_id) == incident_id,
                col(MilestoneRow.kind).in_([m.value for m in decision.clear_milestones]),
            )
        )
    existing = {
        r.kind: r
        for r in session.exec(
            select(MilestoneRow).where(MilestoneRow.incident_id == incident_id)
        ).all()
    }
    for milestone, stamp in decision.set_milestones.items():
        row = existing.get(milestone.value) or MilestoneRow(
            incident_id=incident_id, kind=milestone.value, at=stamp.at, source="", updated_at=now
        )
        row.at, row.source, row.set_by, row.updated_at = stamp.at, stamp.source.value, stamp.by, now
        session.add(row)
    current_roles = {
        r.role: r
        for r in session.exec(
            select(RoleAssignment).where(RoleAssignment.incident_id == incident_id)
        ).all()
    }
    for role, user in decision.roles.items():
        assignment = current_roles.get(role) or RoleAssignment(
            incident_id=incident_id, role=role, user_id=user, assigned_at=now
        )
        assignment.user_id, assignment.assigned_at = user, now
        assignment.assigned_by = next(
            (e.actor for e in decision.entries if e.data.get("role") == role), None
        )
        session.add(assignment)
    return add_entries(session=session, incident_id=incident_id, entries=decision.entries, now=now)


def list_incidents(
    *,
    session: Session,
    statuses: Sequence[str] | None = None,
    include_private: bool = True,
    limit: int = 100,
    offset: int = 0,
) -> Sequence[Incident]:
    query = select(Incident)
    if statuses is not None:
        query = query.where(col(Incident.status).in_(list(statuses)))
    if not include_private:
        query = query.where(col(Incident.private).is_(False))
    query = (
        query.order_by(col(Incident.created_at).desc(), col(Incident.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return session.exec(query).all()

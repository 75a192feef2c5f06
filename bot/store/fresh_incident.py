"""A declared incident's rows in as few statements as the database allows.

A declaration inserts its request id, the incident, its milestones, roles and first timeline
entries, its first effects and its first timers: nothing to look up, only rows to add. Each
statement costs a round trip and, through SQLAlchemy and the driver, a few tenths of a
millisecond of the process's CPU. On PostgreSQL they take two statements: the request id and
the incident's row (its id comes back), then every other row in one statement of
data-modifying CTEs, each table's rows passed as one JSON array. SQLite has no such CTEs and no
round trips to save: there they are plain INSERTs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session

from bot.core.lifecycle import Opening
from bot.core.text import no_nul
from bot.store import incidents as q, outbox, timers
from bot.store.models import Incident
from bot.store.outbox import Effect

_COLUMNS = "title, description, severity, status, private, drill, source, created_by"
_VALUES = (
    "CAST(:title AS varchar), CAST(:description AS varchar), CAST(:severity AS varchar), "
    "CAST(:status AS varchar), CAST(:private AS boolean), CAST(:drill AS boolean), "
    "CAST(:source AS varchar), CAST(:created_by AS varchar), "
    "CAST(:now AS timestamptz), CAST(:now AS timestamptz), false"
)
_INCIDENT = f"INSERT INTO incident ({_COLUMNS}, created_at, updated_at, imported) "
# The request id claimed (as `incidents.claim_request` does) and the incident inserted only if
# the id was free: no row back means a replay.
_CLAIM_AND_INSERT = text(
    "WITH claimed AS (INSERT INTO processed_request (key, received_at) "
    "VALUES (CAST(:key AS varchar), CAST(:now AS timestamptz)) "
    f"ON CONFLICT DO NOTHING RETURNING key) {_INCIDENT} SELECT {_VALUES} FROM claimed "
    "RETURNING id"
)
_INSERT = text(f"{_INCIDENT} VALUES ({_VALUES}) RETURNING id")


def _rows(name: str, columns: str) -> str:
    return f"json_to_recordset(CAST(:{name} AS json)) AS x({columns})"


_ID, _NOW = "CAST(:incident_id AS integer)", "CAST(:now AS timestamptz)"
# Rows keep their order (`n`): the outbox's lane order and the timeline's are their ids'.
_REST = text(
    "WITH m AS (INSERT INTO milestone (incident_id, kind, at, source, set_by, updated_at) "
    f"SELECT {_ID}, x.kind, x.at, x.source, x.set_by, {_NOW} FROM "
    f"{_rows('milestones', 'kind varchar, at timestamptz, source varchar, set_by varchar')}), "
    "r AS (INSERT INTO role_assignment (incident_id, role, user_id, assigned_by, assigned_at) "
    f"SELECT {_ID}, x.role, x.user_id, x.assigned_by, {_NOW} FROM "
    f"{_rows('roles', 'role varchar, user_id varchar, assigned_by varchar')}), "
    "e AS (INSERT INTO timeline_entry (incident_id, at, kind, text, actor, source, data, "
    f"created_at) SELECT {_ID}, x.at, x.kind, x.text, x.actor, x.source, CAST(x.data AS json), {_NOW} FROM "
    f"{_rows('entries', 'n int, at timestamptz, kind varchar, text varchar, actor varchar, source varchar, data text')} "
    "ORDER BY x.n), "
    "t AS (INSERT INTO timer (incident_id, kind, due_at, payload, created_at) "
    f"SELECT {_ID}, x.kind, x.due_at, CAST('{{}}' AS json), {_NOW} FROM "
    f"{_rows('timers', 'kind varchar, due_at timestamptz')}), "
    "o AS (INSERT INTO outbox (incident_id, lane, kind, payload, created_at, next_attempt_at, "
    "attempts, failed, lease_owner, lease_until) "
    f"SELECT {_ID}, x.lane, x.kind, CAST(x.payload AS json), {_NOW}, {_NOW}, x.attempts, false, "
    "x.lease_owner, x.lease_until FROM "
    f"{_rows('effects', 'n int, lane varchar, kind varchar, payload text, attempts int, lease_owner varchar, lease_until timestamptz')} "
    "ORDER BY x.n RETURNING id, lease_owner) "
    "SELECT id FROM o WHERE lease_owner IS NOT NULL"
)


def insert_declared(
    *, session: Session, key: str | None, incident: Incident, now: datetime
) -> bool:
    """Claim the request id `key` (None: none to claim) and insert the new `incident` (from
    `incidents.new_incident`), which then has its id and belongs to the session. False: the
    key was seen before (a retry or a replay), and nothing was inserted."""
    if session.get_bind().dialect.name != "postgresql":
        if key and not q.claim_request(session=session, key=key, now=now):
            return False
        session.add(incident)
        session.flush()
        return True
    values = {
        "key": key,
        "now": now,
        "title": incident.title,
        "description": incident.description,
        "severity": incident.severity,
        "status": incident.status,
        "private": incident.private,
        "drill": incident.drill,
        "source": incident.source,
        "created_by": incident.created_by,
    }
    row = session.execute(_CLAIM_AND_INSERT if key else _INSERT, values).first()
    if row is None:
        return False
    incident.id = int(row[0])
    make_transient_to_detached(incident)  # as if just read: a later change is an UPDATE
    session.add(incident)
    return True


def insert_rest(
    *,
    session: Session,
    incident_id: int,
    opening: Opening,
    now: datetime,
    effects: Sequence[Effect],
    first_timers: Sequence[tuple[str, datetime]],
    lease: tuple[str, datetime] | None,
) -> None:
    """The new incident's milestones, roles, first entries, effects (the first leased to the
    caller with `lease`, as `outbox.enqueue_all` does) and first timers."""
    if session.get_bind().dialect.name != "postgresql":
        q.insert_fresh(session, incident_id, opening, now)
        outbox.enqueue_all(session=session, effects=effects, now=now, lease=lease)
        timers.arm_fresh(session=session, incident_id=incident_id, timers=first_timers, now=now)
        return
    milestones, roles, entries = q.fresh_rows(incident_id, opening, now)
    effect_rows = outbox.effect_rows(session=session, effects=effects, now=now, lease=lease)
    values = {
        "incident_id": incident_id,
        "now": now,
        "milestones": _json(milestones),
        "roles": _json(roles),
        "entries": _json(entries),
        "timers": _json([{"kind": kind, "due_at": due} for kind, due in first_timers]),
        "effects": _json(effect_rows),
    }
    born = session.execute(_REST, values).first()
    if lease is not None and effect_rows:
        assert born is not None
        outbox.note_born(session=session, row_id=int(born[0]), values=effect_rows[0])


def _json(rows: list[dict[str, Any]]) -> str:
    """Rows as a JSON array for `json_to_recordset`, numbered in order (`n`). Text becomes
    `varchar`, where PostgreSQL refuses NUL: it gets U+FFFD, as every text parameter does
    (store.db). A JSON column's value goes as the text SQLAlchemy would send (`_JSON_COLUMNS`),
    cast back to JSON in the statement, so it is stored as it is, NUL and all."""
    return json.dumps(
        [
            {"n": n, **{k: _field(k, v) for k, v in row.items() if k != "incident_id"}}
            for n, row in enumerate(rows)
        ],
        default=_instant,
    )


_JSON_COLUMNS = frozenset({"data", "payload"})


def _field(name: str, value: Any) -> Any:
    if name in _JSON_COLUMNS:
        return json.dumps(value)
    return no_nul(value) if isinstance(value, str) else value


def _instant(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")

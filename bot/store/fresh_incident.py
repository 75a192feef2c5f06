"""A new incident's rows (declared, or opened by an alert group) in as few statements as the
database allows.

A declaration (or an alert group's first delivery) inserts its request id, the incident, its milestones, roles and first timeline
entries, its first effects and its first timers: nothing to look up, only rows to add. Each
statement costs a round trip and, through SQLAlchemy and the driver, a few tenths of a
millisecond of the process's CPU. On PostgreSQL they are one statement of data-modifying CTEs
(each table's rows passed as one JSON array, the effects' lanes naming the id the incident
gets); when nothing else is written with them (`UnitOfWork.declared`) it needs no transaction
around it: one round trip. SQLite has no such CTEs and no round trips to save: there they are
plain INSERTs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
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

NEW_ID = "{new incident}"  # in an effect's lane: the id the incident gets

_COLUMNS = (
    "title, description, severity, status, private, drill, source, created_by, service, "
    "group_key, open_group"
)
_VALUES = (
    "CAST(:title AS varchar), CAST(:description AS varchar), CAST(:severity AS varchar), "
    "CAST(:status AS varchar), CAST(:private AS boolean), CAST(:drill AS boolean), "
    "CAST(:source AS varchar), CAST(:created_by AS varchar), CAST(:service AS varchar), "
    "CAST(:group_key AS varchar), CAST(:open_group AS varchar), _now.at, _now.at, false"
)


def _rows(name: str, columns: str) -> str:
    return f"json_to_recordset(CAST(:{name} AS json)) AS x({columns})"


# The request id claimed (as `incidents.claim_request` does), then the incident only if the id
# was free (no row back: a replay), then every other row with the incident's id. Rows keep their
# order (`n`): the outbox's lane order and the timeline's are their ids'.
_CLAIMED = (
    "claimed AS (INSERT INTO processed_request (key, received_at) "
    "SELECT CAST(:key AS varchar), _now.at FROM _now ON CONFLICT DO NOTHING RETURNING key), "
)
_REST = (
    f"inc AS (INSERT INTO incident ({_COLUMNS}, created_at, updated_at, imported) "
    f"SELECT {_VALUES} FROM _now{{guard}} RETURNING id), "
    "m AS (INSERT INTO milestone (incident_id, kind, at, source, set_by, updated_at) "
    "SELECT inc.id, x.kind, x.at, x.source, x.set_by, _now.at FROM inc, _now, "
    f"{_rows('milestones', 'kind varchar, at timestamptz, source varchar, set_by varchar')}), "
    "r AS (INSERT INTO role_assignment (incident_id, role, user_id, assigned_by, assigned_at) "
    "SELECT inc.id, x.role, x.user_id, x.assigned_by, _now.at FROM inc, _now, "
    f"{_rows('roles', 'role varchar, user_id varchar, assigned_by varchar')}), "
    "e AS (INSERT INTO timeline_entry (incident_id, at, kind, text, actor, source, data, "
    "created_at) SELECT inc.id, x.at, x.kind, x.text, x.actor, x.source, "
    "CAST(x.data AS json), _now.at FROM inc, _now, "
    f"{_rows('entries', 'n int, at timestamptz, kind varchar, text varchar, actor varchar, source varchar, data text')} "
    "ORDER BY x.n), "
    "t AS (INSERT INTO timer (incident_id, kind, due_at, payload, created_at) "
    "SELECT inc.id, x.kind, x.due_at, CAST('{{}}' AS json), _now.at FROM inc, _now, "
    f"{_rows('timers', 'kind varchar, due_at timestamptz')}), "
    "o AS (INSERT INTO outbox (incident_id, lane, kind, payload, created_at, next_attempt_at, "
    "attempts, failed, lease_owner, lease_until) "
    "SELECT inc.id, replace(x.lane, :new_id, CAST(inc.id AS varchar)), x.kind, "
    "CAST(x.payload AS json), _now.at, _now.at, x.attempts, false, x.lease_owner, "
    "x.lease_until FROM inc, _now, "
    f"{_rows('effects', 'n int, lane varchar, kind varchar, payload text, attempts int, lease_owner varchar, lease_until timestamptz')} "
    "ORDER BY x.n RETURNING id, lease_owner) "
    "SELECT inc.id, (SELECT o.id FROM o WHERE o.lease_owner IS NOT NULL) FROM inc"
)
_NOW = "WITH _now AS (SELECT CAST(:now AS timestamptz) AS at), "
_KEYED = text(_NOW + _CLAIMED + _REST.format(guard=" WHERE EXISTS (SELECT 1 FROM claimed)"))
_UNKEYED = text(_NOW + _REST.format(guard=""))


def insert_declared(
    *,
    session: Session,
    key: str | None,
    incident: Incident,
    opening: Opening,
    now: datetime,
    effects: Sequence[Effect],
    first_timers: Sequence[tuple[str, datetime]],
    lease: tuple[str, datetime] | None,
) -> bool:
    """Claim the request id `key` (None: none to claim) and insert the new `incident` (from
    `incidents.new_incident`, an alert group's included: its unique open-group key is checked
    here; it then has its id and belongs to the session) with its
    milestones, roles and first entries (from `opening`), its `effects` (their lanes may
    name `NEW_ID`; the first leased to the caller with `lease`, as `outbox.enqueue_all`
    does) and its first timers. False: the key was seen before (a retry or a replay), and
    nothing was inserted. On PostgreSQL this is one statement."""
    if session.get_bind().dialect.name != "postgresql":
        return _one_by_one(session, key, incident, opening, now, effects, first_timers, lease)
    milestones, roles, entries = q.fresh_rows(0, opening, now)
    rows = outbox.effect_rows(session=None, effects=effects, now=now, lease=lease)
    values = {
        "key": key,
        "now": now,
        "new_id": NEW_ID,
        "title": incident.title,
        "description": incident.description,
        "severity": incident.severity,
        "status": incident.status,
        "private": incident.private,
        "drill": incident.drill,
        "source": incident.source,
        "created_by": incident.created_by,
        "service": incident.service,
        "group_key": incident.group_key,
        "open_group": incident.open_group,
        "milestones": _json(milestones),
        "roles": _json(roles),
        "entries": _json(entries),
        "timers": _json([{"kind": kind, "due_at": due} for kind, due in first_timers]),
        "effects": _json(rows),
    }
    found = session.execute(_KEYED if key else _UNKEYED, values).first()
    if found is None:
        return False
    incident_id, born = int(found[0]), found[1]
    _stored(session, incident, incident_id)
    named = [
        {**row, "incident_id": incident_id, "lane": _lane(row["lane"], incident_id)} for row in rows
    ]
    outbox.enqueued_lanes(session).update(row["lane"] for row in named)
    if lease is not None and named:
        outbox.note_born(session=session, row_id=int(born), values=named[0])
    return True


def _one_by_one(
    session: Session,
    key: str | None,
    incident: Incident,
    opening: Opening,
    now: datetime,
    effects: Sequence[Effect],
    first_timers: Sequence[tuple[str, datetime]],
    lease: tuple[str, datetime] | None,
) -> bool:
    if key and not q.claim_request(session=session, key=key, now=now):
        return False
    session.add(incident)
    session.flush()
    assert incident.id is not None
    iid = incident.id
    q.insert_fresh(session, iid, opening, now)
    named = [replace(e, lane=_lane(e.lane, iid), incident_id=iid) for e in effects]
    outbox.enqueue_all(session=session, effects=named, now=now, lease=lease)
    timers.arm_fresh(session=session, incident_id=iid, timers=first_timers, now=now)
    return True


def _lane(lane: str, incident_id: int) -> str:
    return lane.replace(NEW_ID, str(incident_id))


def _stored(session: Session, incident: Incident, incident_id: int) -> None:
    incident.id = incident_id
    make_transient_to_detached(incident)  # as if just read: a later change is an UPDATE
    session.add(incident)


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

"""What an alert delivery records beside its alerts: its timeline entries and its chat effects
(the line, a mitigation proposal, the coalesced card refresh), the line joining one still
waiting when it can. Keyword-only `session=`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select as core_select, text, update
from sqlmodel import Session

from bot.core.text import no_nul
from bot.core.timeline import Entry
from bot.store import driver, incidents as incident_store, outbox
from bot.store.models import OutboxRow
from bot.store.outbox import Effect

# PostgreSQL: a delivery's timeline entries and its effects in one statement (a data-modifying
# CTE runs whether or not the query reads it). The last effect of a lane can be coalesced: left
# out when a row of its kind still waits unclaimed there (`outbox.enqueue_coalescing_last`).
# It also says whether the lane's head, as it was before, is held back until later (paced,
# or backing off) with no one on it: then running the lane now would find nothing to do. The
# delivery's line joins the lane's newest waiting line instead (`LineMerge`) when it can.
_RECORD_PG = text(
    """WITH entry AS (
    INSERT INTO timeline_entry (incident_id, at, kind, text, actor, source, data, created_at)
    SELECT :incident_id, e.at, e.kind, e.text, e.actor, e.source, e.data, :now
    FROM json_to_recordset(CAST(:entries AS JSON)) AS e(at TIMESTAMPTZ, kind VARCHAR,
        text VARCHAR, actor VARCHAR, source VARCHAR, data JSON)
), head AS (
    SELECT o.next_attempt_at > :now AND o.lease_until IS NULL AS later FROM outbox AS o
    WHERE o.lane = :lane AND o.done_at IS NULL ORDER BY o.id LIMIT 1
), merged AS (
    UPDATE outbox AS m SET payload = CAST(jsonb_set(CAST(m.payload AS jsonb), '{text}',
        to_jsonb(concat(m.payload ->> 'text', chr(10), CAST(:line_text AS varchar)))) AS json)
    WHERE m.id = (SELECT w.id FROM outbox AS w WHERE w.lane = :lane AND w.done_at IS NULL
        AND w.kind <> :behind ORDER BY w.id DESC LIMIT 1)
    AND m.kind = :line_kind AND m.done_at IS NULL AND m.lease_until IS NULL
    AND m.payload ->> 'kind' = :line_of
    AND length(m.payload ->> 'text') + 1 + length(CAST(:line_text AS varchar)) <= :limit
    RETURNING m.id
)
INSERT INTO outbox (incident_id, lane, kind, payload, created_at, next_attempt_at, attempts,
    failed)
SELECT f.incident_id, :lane, f.kind, f.payload, :now, :now, 0, false
FROM json_to_recordset(CAST(:effects AS JSON)) AS f(incident_id INTEGER, kind VARCHAR,
    payload JSON, coalesced BOOLEAN, merging BOOLEAN)
WHERE NOT (f.coalesced AND EXISTS (SELECT FROM outbox AS o WHERE o.lane = :lane
    AND o.kind = f.kind AND o.done_at IS NULL AND o.lease_until IS NULL))
AND NOT (f.merging AND EXISTS (SELECT FROM merged))
RETURNING (SELECT later FROM head)"""
)


@dataclass(frozen=True)
class LineMerge:
    """A delivery's line (its first effect, of kind `line`, payload kind `of`) joins the
    lane's newest line still waiting unclaimed, when nothing but a waiting `behind` (the card
    refresh) was queued after it and the two texts fit in `limit` characters: in a storm, the
    lines of an incident whose channel waits for the chat's pace become one message, not one
    per delivery."""

    line: str
    behind: str
    of: str = "alert"
    limit: int = 2900


def record_delivery(
    *,
    session: Session,
    incident_id: int,
    entries: Sequence[Entry],
    lane: str,
    effects: Sequence[Effect],
    now: datetime,
    merge: LineMerge | None = None,
) -> None:
    """A delivery's timeline entries and its effects (all in `lane`), in order, the last
    coalesced (a card refresh still waiting stands for it): on PostgreSQL one statement, its
    rows as two JSON documents (the same text every time: parsed and planned once); elsewhere,
    or when a value holds an escaped NUL the JSON functions refuse, an INSERT each.

    The lane is noted as worth delivering after the commit (`outbox.enqueued_lanes`) unless
    its head waits for a later time with no one on it (an alert storm's channels wait for
    the chat's pace): what runs the head then runs these too (the sweep, or a later delivery
    once it is due), and a delivery is spared a claim that would find nothing."""
    assert all(e.lane == lane for e in effects)
    mergeable = bool(
        merge
        and effects
        and effects[0].kind == merge.line
        and effects[0].payload.get("kind") == merge.of
    )
    if session.get_bind().dialect.name == "postgresql":
        document = json.dumps(
            [
                {
                    "at": e.at.isoformat(),
                    "kind": e.kind.value,
                    "text": no_nul(e.text),
                    "actor": None if e.actor is None else no_nul(e.actor),
                    "source": e.source.value,
                    "data": e.data,
                }
                for e in entries
            ]
        )
        queued = json.dumps(
            [
                {
                    "incident_id": e.incident_id,
                    "kind": no_nul(e.kind),
                    "payload": e.payload,
                    "coalesced": i == len(effects) - 1,
                    "merging": i == 0 and mergeable,
                }
                for i, e in enumerate(effects)
            ]
        )
        if "\\u0000" not in document and "\\u0000" not in queued:
            params = {
                "incident_id": incident_id,
                "now": now,
                "lane": lane,
                "entries": document,
                "line_kind": merge.line if merge and mergeable else "",
                "behind": merge.behind if merge else "",
                "line_of": merge.of if merge else "",
                "line_text": str(effects[0].payload.get("text", "")) if mergeable else "",
                "limit": merge.limit if merge else 0,
            }
            later = [r[0] for r in driver.rows(session, _RECORD_PG, {**params, "effects": queued})]
            if not (later and all(later)):
                outbox.enqueued_lanes(session).add(lane)
            return
    incident_store.insert_entries(
        session=session, incident_id=incident_id, entries=entries, now=now
    )
    if merge is not None and mergeable and _merged_into_waiting(session, lane, effects[0], merge):
        effects = effects[1:]
    outbox.enqueue_coalescing_last(session=session, effects=effects, now=now)


_OUTBOX = OutboxRow.__table__  # type: ignore[attr-defined]
_O = _OUTBOX.c


def _merged_into_waiting(session: Session, lane: str, line: Effect, merge: LineMerge) -> bool:
    """`LineMerge` one statement at a time (SQLite: one writer, nothing to race)."""
    newest = session.execute(
        core_select(_O.id, _O.kind, _O.payload, _O.lease_until)
        .where(_O.lane == lane, _O.done_at.is_(None), _O.kind != merge.behind)
        .order_by(_O.id.desc())
        .limit(1)
    ).first()
    if newest is None or newest.kind != merge.line or newest.lease_until is not None:
        return False
    waiting = dict(newest.payload or {})
    text = f"{waiting.get('text', '')}\n{line.payload.get('text', '')}"
    if waiting.get("kind") != merge.of or len(text) > merge.limit:
        return False
    session.execute(
        update(_OUTBOX).where(_O.id == newest.id).values(payload={**waiting, "text": text})
    )
    return True

"""the post-mortem's timeline entry names its issue for the tracker, not the vendor

When the export drafted the post-mortem, its timeline entry said which issue in its data as
`jira_key` / `jira_url`, and so did the line queued for the channel (the outbox payload's
`data`). The domain now says `issue_key` / `issue_url`: this renames the keys of every such
entry and queued line, delivered or pending, and back on downgrade. Nothing else is touched: only
post-mortem entries ever carried them.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 03:30:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEYS = (("jira_key", "issue_key"), ("jira_url", "issue_url"))
KIND = "postmortem"  # the timeline entry's kind (and the queued line's)

ENTRIES = sa.table(
    "timeline_entry", sa.column("id", sa.Integer), sa.column("kind"), sa.column("data", sa.JSON)
)
OUTBOX = sa.table("outbox", sa.column("id", sa.Integer), sa.column("payload", sa.JSON))


def _renamed(data: dict[str, Any], names: dict[str, str]) -> dict[str, Any] | None:
    """`data` with its keys renamed (in place of the old ones), or None when none is there."""
    if not names.keys() & data.keys():
        return None
    return {names.get(key, key): value for key, value in data.items()}


def _move(backwards: bool) -> None:
    names = {new: old for old, new in KEYS} if backwards else dict(KEYS)
    bind = op.get_bind()
    # JSON is stored as text on SQLite and kept verbatim by PostgreSQL's json: a LIKE on the
    # text finds the candidates; what changes is decided on the parsed value.
    def mentions(column: Any) -> Any:
        return sa.or_(*(sa.cast(column, sa.Text).like(f"%{name}%") for name in names))

    entries = bind.execute(
        sa.select(ENTRIES.c.id, ENTRIES.c.data).where(
            ENTRIES.c.kind == KIND, mentions(ENTRIES.c.data)
        )
    ).all()
    for row_id, data in entries:
        new = _renamed(data, names) if isinstance(data, dict) else None
        if new is not None:
            bind.execute(sa.update(ENTRIES).where(ENTRIES.c.id == row_id).values(data=new))
    lines = bind.execute(
        sa.select(OUTBOX.c.id, OUTBOX.c.payload).where(mentions(OUTBOX.c.payload))
    ).all()
    for row_id, payload in lines:
        if not isinstance(payload, dict) or payload.get("kind") != KIND:
            continue
        data = payload.get("data")
        new = _renamed(data, names) if isinstance(data, dict) else None
        if new is not None:
            payload = {**payload, "data": new}
            bind.execute(sa.update(OUTBOX).where(OUTBOX.c.id == row_id).values(payload=payload))


def upgrade() -> None:
    _move(backwards=False)


def downgrade() -> None:
    _move(backwards=True)

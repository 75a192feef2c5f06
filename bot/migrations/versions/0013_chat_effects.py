"""outbox effects of the chat surface named for it, not the vendor

The effects that bring the chat in line with an incident were stored as `slack.<what>` in lanes
`slack:<incident>` (and `slack-notice:<incident>` for reports of given-up effects). The flows now
say `chat.<what>`, `chat:<incident>` and `chat-notice:<incident>`: this renames every stored row,
pending and delivered alike (a pending one is then delivered by the renamed handler, in its lane
and its order), and back on downgrade.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# column → (old prefix, new prefix) pairs; `_` is LIKE's wildcard, so no prefix holds one
RENAMED: dict[str, tuple[tuple[str, str], ...]] = {
    "kind": (("slack.", "chat."),),
    "lane": (("slack:", "chat:"), ("slack-notice:", "chat-notice:")),
}


def _move(backwards: bool) -> None:
    for column, pairs in RENAMED.items():
        for old, new in pairs:
            before, after = (new, old) if backwards else (old, new)
            op.execute(
                sa.text(
                    f"UPDATE outbox SET {column} = :after || substr({column}, :rest)"
                    f" WHERE {column} LIKE :pattern"
                ).bindparams(after=after, rest=len(before) + 1, pattern=before + "%")
            )


def upgrade() -> None:
    _move(backwards=False)


def downgrade() -> None:
    _move(backwards=True)

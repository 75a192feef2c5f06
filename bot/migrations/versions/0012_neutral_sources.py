"""milestone, timeline, incident and follow-up sources named for what they are, not the vendor

Where something came from was stored as the product's name: `slack` for a person in the chat,
`pagerduty` for the pager's own events. The domain now says `chat` and `pager` (the surfaces
name the product); this moves the stored values, and back on downgrade.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table → (old value, new value) pairs of its `source` column
RENAMED: dict[str, tuple[tuple[str, str], ...]] = {
    "incident": (("slack", "chat"),),
    "milestone": (("slack", "chat"), ("pagerduty", "pager")),
    "timeline_entry": (("slack", "chat"), ("pagerduty", "pager")),
    "followup": (("slack", "chat"),),
}


def _move(backwards: bool) -> None:
    for table, pairs in RENAMED.items():
        for old, new in pairs:
            before, after = (new, old) if backwards else (old, new)
            op.execute(
                sa.text(f"UPDATE {table} SET source = :after WHERE source = :before").bindparams(
                    before=before, after=after
                )
            )


def upgrade() -> None:
    _move(backwards=False)


def downgrade() -> None:
    _move(backwards=True)

"""the post-mortem export named for the tracker, not the vendor

Follow-ups kept their tracker issue in `jira_key` / `jira_url`, and the export's outbox rows were
kind `jira.export_postmortem` in lane `jira:<incident>`. The domain now says `issue_key` /
`issue_url`, kind `tracker.*` and lane `tracker:<incident>`: this renames the columns and moves
every stored row, pending ones included (the runner delivers them under their new kind), and
back on downgrade.

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-07 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("jira_key", "issue_key"), ("jira_url", "issue_url"))
# outbox column → (old prefix, new prefix)
PREFIXES = {"kind": ("jira.", "tracker."), "lane": ("jira:", "tracker:")}


def _move(backwards: bool) -> None:
    with op.batch_alter_table("followup") as batch:
        for old, new in COLUMNS:
            before, after = (new, old) if backwards else (old, new)
            batch.alter_column(before, new_column_name=after)
    for column, (old, new) in PREFIXES.items():
        before, after = (new, old) if backwards else (old, new)
        cut = len(before)  # constants of this module, not data
        op.execute(
            sa.text(
                f"UPDATE outbox SET {column} = :after || substr({column}, {cut + 1})"
                f" WHERE substr({column}, 1, {cut}) = :before"
            ).bindparams(before=before, after=after)
        )


def upgrade() -> None:
    _move(backwards=False)


def downgrade() -> None:
    _move(backwards=True)

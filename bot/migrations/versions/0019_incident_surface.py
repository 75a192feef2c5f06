"""which chat surface an incident's message references are on (incident.chat_surface)

The incident's conversation, its card's and its announcement's messages (0018) are ids the chat
surface gave, and nothing said which surface: one chat per deployment was assumed. A deployment
that moves to another surface must not hand those ids to it. `chat_surface` names the surface
that gave them (the chat adapter's `kind`, recorded with them from now on). Every incident that
has a conversation or an announcement got them from Slack, the only surface there was: it gets
'slack'; the others stay NULL until a surface gives them some. The downgrade drops the column.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SURFACE_BEFORE = "slack"  # the only chat surface the bot had before this revision


def upgrade() -> None:
    # batch mode: on SQLite an added nullable column is an ALTER TABLE, no rebuild
    with op.batch_alter_table("incident") as batch:
        batch.add_column(
            sa.Column("chat_surface", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
    op.execute(
        sa.text(
            "UPDATE incident SET chat_surface = :surface"
            " WHERE conversation_id IS NOT NULL OR announce_conversation_id IS NOT NULL"
        ).bindparams(surface=SURFACE_BEFORE)
    )


def downgrade() -> None:
    # Not batch mode: SQLite would rebuild `incident`, and dropping it while other tables' rows
    # point at it fails with foreign keys on. `ALTER TABLE … DROP COLUMN` works in place on both
    # databases (SQLite since 3.35, which RETURNING needs already).
    op.drop_column("incident", "chat_surface")

"""the incident's message references named for the domain, not the chat vendor

The incident kept where it lives on the chat surface in Slack's shapes: `channel_id` /
`channel_name`, the card's `card_ts`, the announcement's `announce_channel` / `announce_ts`, and a
playbook run its checklist's `message_ts`. The domain says (surface, conversation, message):
`conversation_id` / `conversation_name`, `card_message_id`, `announce_conversation_id` /
`announce_message_id`, `checklist_message_id`. The values are the surface's ids, unchanged. The
conversation's unique constraint is kept and named `uq_incident_conversation_id` (it was unnamed:
PostgreSQL called it `incident_channel_id_key`, SQLite gave it no name). Back on downgrade.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INCIDENT = (
    ("channel_id", "conversation_id"),
    ("channel_name", "conversation_name"),
    ("card_ts", "card_message_id"),
    ("announce_channel", "announce_conversation_id"),
    ("announce_ts", "announce_message_id"),
)
PLAYBOOK_RUN = (("message_ts", "checklist_message_id"),)
# the unique constraint on the conversation: PostgreSQL named the old one for the vendor's
# column; SQLite gives it no name (and keeps it through a column's rename)
UNIQUE = {"conversation_id": "uq_incident_conversation_id", "channel_id": "incident_channel_id_key"}


def _move(backwards: bool) -> None:
    """Renamed in place (`ALTER TABLE … RENAME COLUMN` on both databases): constraints and
    indexes follow the column. Not batch mode: SQLite would rebuild the tables, and dropping
    `incident` with the other tables' rows pointing at it fails with foreign keys on."""
    incident = [(new, old) for old, new in INCIDENT] if backwards else list(INCIDENT)
    runs = [(new, old) for old, new in PLAYBOOK_RUN] if backwards else list(PLAYBOOK_RUN)
    for table, columns in (("incident", incident), ("playbook_run", runs)):
        for old, new in columns:
            op.alter_column(table, old, new_column_name=new)
    if op.get_bind().dialect.name == "postgresql":
        before, after = incident[0]
        op.execute(
            sa.text(f"ALTER TABLE incident RENAME CONSTRAINT {UNIQUE[before]} TO {UNIQUE[after]}")
        )


def upgrade() -> None:
    _move(backwards=False)


def downgrade() -> None:
    _move(backwards=True)

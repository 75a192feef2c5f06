"""people as identities: one row per person (matched by email), their handles per system

Roles, milestones, timeline entries, follow-ups and steps hold chat user ids, and pager users
were matched to them by email at each webhook. Now a person is a row (`person`: email, name)
with a handle per system (`person_handle`: `chat`, `pager:<kind>`), so a match is made once
and remembered.

Back-filled: one person per distinct chat id the database holds (roles and who assigned them,
who set a milestone or wrote a timeline entry, who declared, paged, attached a
playbook, did a step, owns or wrote a follow-up), each with its `chat` handle. What the
database never held cannot be back-filled: their emails and names (filled in the first time a
pager names them by email and the chat surface answers for that email) and pager user ids
(recorded at the first acknowledgement that names them). The downgrade drops both tables;
nothing else was changed.

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-07 03:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column) holding a chat user id: every person the bot recorded (a pager's
# acknowledgement too, matched by email) was stored by their chat id.
CHAT_IDS = (
    ("role_assignment", "user_id"),
    ("role_assignment", "assigned_by"),
    ("incident", "created_by"),
    ("milestone", "set_by"),
    ("timeline_entry", "actor"),
    ("page", "requested_by"),
    ("playbook_run", "attached_by"),
    ("playbook_step", "by"),
    ("followup", "owner"),
    ("followup", "created_by"),
)


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email", name="uq_person_email"),
    )
    op.create_table(
        "person_handle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("system", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("handle", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("system", "handle", name="uq_person_handle_system_handle"),
    )
    with op.batch_alter_table("person_handle", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_handle_person_id"), ["person_id"], unique=False)
    _back_fill()


def _back_fill() -> None:
    bind = op.get_bind()
    known = " UNION ".join(  # constants of this module, not data
        f'SELECT "{column}" AS h FROM {table} WHERE "{column}" IS NOT NULL'
        for table, column in CHAT_IDS
    )
    handles = sorted(str(handle) for (handle,) in bind.execute(sa.text(known)) if handle)
    now = datetime.now(UTC)
    person = sa.table(
        "person",
        sa.column("id", sa.Integer()),
        sa.column("created_at", sqlmodel.sql.sqltypes.UTCDateTime()),
    )
    handle_table = sa.table(
        "person_handle",
        sa.column("person_id", sa.Integer()),
        sa.column("system", sa.String()),
        sa.column("handle", sa.String()),
        sa.column("created_at", sqlmodel.sql.sqltypes.UTCDateTime()),
    )
    for handle in handles:
        person_id = bind.execute(
            sa.insert(person).values(created_at=now).returning(person.c.id)
        ).scalar_one()
        bind.execute(
            sa.insert(handle_table).values(
                person_id=person_id, system="chat", handle=handle, created_at=now
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("person_handle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_handle_person_id"))
    op.drop_table("person_handle")
    op.drop_table("person")

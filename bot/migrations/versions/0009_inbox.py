"""the inbox: answered Slack requests, written before the answer and worked off after it

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 18:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'inbox',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('lane', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column('handler', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('lease_owner', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column('lease_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('done_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    op.create_index('ix_inbox_received_at', 'inbox', ['received_at'], unique=False)
    op.create_index(
        'ix_inbox_pending',
        'inbox',
        ['lane', 'id'],
        unique=False,
        postgresql_where=sa.text('done_at IS NULL'),
        sqlite_where=sa.text('done_at IS NULL'),
    )
    op.create_index(
        'ix_processed_request_received_at', 'processed_request', ['received_at'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_processed_request_received_at', table_name='processed_request')
    op.drop_index('ix_inbox_pending', table_name='inbox')
    op.drop_index('ix_inbox_received_at', table_name='inbox')
    op.drop_table('inbox')

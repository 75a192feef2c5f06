"""used review sign-in links (single use across replicas) and failed credentials per address

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'used_sign_in_link',
        sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('digest'),
    )
    with op.batch_alter_table('used_sign_in_link', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_used_sign_in_link_expires_at'), ['expires_at'], unique=False
        )
    op.create_table(
        'auth_failure',
        sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('minute', sa.Integer(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('address', 'minute'),
    )


def downgrade() -> None:
    op.drop_table('auth_failure')
    with op.batch_alter_table('used_sign_in_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_used_sign_in_link_expires_at'))
    op.drop_table('used_sign_in_link')

"""the post-mortem's Jira issue on the incident; follow-ups owned by a role

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 11:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('postmortem_key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('postmortem_url', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table('followup', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_role', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('followup', schema=None) as batch_op:
        batch_op.drop_column('owner_role')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_column('postmortem_url')
        batch_op.drop_column('postmortem_key')

"""rate-limit budgets shared by every process of a deployment (pacing_budget)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pacing_budget",
        sa.Column("bucket", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("booked", sa.JSON(), nullable=False),
        sa.Column("expires", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "scope"),
    )
    with op.batch_alter_table("pacing_budget", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pacing_budget_expires"), ["expires"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pacing_budget", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pacing_budget_expires"))
    op.drop_table("pacing_budget")

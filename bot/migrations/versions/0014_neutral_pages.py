"""pages say which pager they went to; pager effects and lanes named for the port, not the vendor

Every page so far went to PagerDuty: `page.pager` is set to `pagerduty` for them, and
`pd_incident_id` becomes `pager_incident_id` (64 characters: other pagers' ids are UUIDs). The
outbox's `pagerduty.*` effects become `pager.*` (an Events v2 trigger and a REST incident are
both `pager.open` now; the page row says which) and their lanes `pagerduty:<incident>` become
`pager:<incident>`, pending rows included, so they are delivered after the upgrade. The
downgrade moves everything back (refused while pages of another pager exist: the old schema
cannot say where they went).

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-07 00:10:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# old effect kind → new one (both of the first two are `pager.open`)
KINDS = (
    ("pagerduty.trigger_event", "pager.open"),
    ("pagerduty.create_incident", "pager.open"),
    ("pagerduty.request_responders", "pager.add_responders"),
    ("pagerduty.acknowledge", "pager.acknowledge"),
    ("pagerduty.resolve", "pager.resolve"),
)
OLD_LANE, NEW_LANE = "pagerduty:", "pager:"


def _lanes(before: str, after: str) -> None:
    op.execute(
        sa.text(
            "UPDATE outbox SET lane = :after || substr(lane, :cut) WHERE lane LIKE :pattern"
        ).bindparams(after=after, cut=len(before) + 1, pattern=before + "%")
    )


def _kind(before: str, after: str, ids: Sequence[int] | None = None) -> None:
    if ids is None:
        op.execute(
            sa.text("UPDATE outbox SET kind = :after WHERE kind = :before").bindparams(
                before=before, after=after
            )
        )
        return
    for start in range(0, len(ids), 500):
        op.execute(
            sa.text("UPDATE outbox SET kind = :after WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True), after=after, ids=list(ids[start : start + 500])
            )
        )


def upgrade() -> None:
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pager", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True)
        )
    op.execute(sa.text("UPDATE page SET pager = 'pagerduty'"))
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.alter_column(
            "pager", existing_type=sa.String(length=32), nullable=False
        )
        batch_op.drop_index(batch_op.f("ix_page_pd_incident_id"))
        batch_op.alter_column(
            "pd_incident_id",
            new_column_name="pager_incident_id",
            existing_type=sa.String(length=32),
            type_=sa.String(length=64),
            existing_nullable=True,
        )
    with op.batch_alter_table("page", schema=None) as batch_op:  # the index under its new name
        batch_op.create_index(
            batch_op.f("ix_page_pager_incident_id"), ["pager_incident_id"], unique=False
        )
    for old, new in KINDS:
        _kind(old, new)
    _lanes(OLD_LANE, NEW_LANE)


def downgrade() -> None:
    bind = op.get_bind()
    others = bind.execute(sa.text("SELECT count(*) FROM page WHERE pager <> 'pagerduty'")).scalar()
    if others:
        raise RuntimeError(
            f"{others} page(s) went to another pager than PagerDuty: below 0014 the database "
            "cannot say where; remove them first if they are to be dropped"
        )
    # `pager.open` was two effects: which one, the page row says
    events = {
        int(row.id)
        for row in bind.execute(sa.text("SELECT id FROM page WHERE kind = 'event'"))
    }
    opens = bind.execute(sa.text("SELECT id, payload FROM outbox WHERE kind = 'pager.open'"))
    triggers = []
    for row in opens:
        payload = json.loads(row.payload) if isinstance(row.payload, str) else row.payload
        if isinstance(payload, dict) and payload.get("page_id") in events:
            triggers.append(int(row.id))
    _kind("pager.open", "pagerduty.trigger_event", triggers)
    for old, new in KINDS[1:]:
        _kind(new, old)
    _lanes(NEW_LANE, OLD_LANE)
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_pager_incident_id"))
        batch_op.alter_column(
            "pager_incident_id",
            new_column_name="pd_incident_id",
            existing_type=sa.String(length=64),
            type_=sa.String(length=32),
            existing_nullable=True,
        )
        batch_op.drop_column("pager")
    with op.batch_alter_table("page", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_pd_incident_id"), ["pd_incident_id"], unique=False)

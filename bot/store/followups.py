"""Follow-ups: the action items recorded on an incident, their state and the tracker issue each
was exported to. Keyword-only `session=`; answers are `FollowupItem` read models."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from bot.store import incident_reads
from bot.store.models import Followup
from bot.store.read_models import FollowupItem


def record_followup(
    *,
    session: Session,
    incident_id: int,
    text: str,
    owner: str | None,
    now: datetime,
    source: str,
    owner_role: str | None = None,
    due_on: date | None = None,
    created_by: str | None = None,
    permalink: str | None = None,
) -> FollowupItem:
    """A new open follow-up (its text cut to what the column keeps)."""
    row = Followup(
        incident_id=incident_id,
        text=text[:1000],
        owner=owner,
        owner_role=owner_role,
        due_on=due_on,
        created_by=created_by,
        created_at=now,
        updated_at=now,
        source=source,
        permalink=permalink,
    )
    session.add(row)
    session.flush()
    return incident_reads.followup_item(row)


def followup(*, session: Session, followup_id: int) -> tuple[int, FollowupItem] | None:
    """A follow-up with the incident it belongs to; None when there is none."""
    row = session.get(Followup, followup_id)
    return None if row is None else (row.incident_id, incident_reads.followup_item(row))


def followups_of(*, session: Session, incident_id: int) -> list[FollowupItem]:
    """In the order they were recorded."""
    return incident_reads.followups(session=session, incident_id=incident_id)


def record_followup_state(*, session: Session, followup_id: int, state: str, now: datetime) -> None:
    """Done, or reopened (`open`)."""
    row = session.get(Followup, followup_id)
    assert row is not None
    row.state, row.updated_at = state, now
    session.add(row)


def record_followup_exported(
    *, session: Session, followup_id: int, key: str, url: str, now: datetime
) -> None:
    """The tracker issue the follow-up became."""
    row = session.get(Followup, followup_id)
    assert row is not None
    row.issue_key, row.issue_url, row.updated_at = key, url, now
    session.add(row)

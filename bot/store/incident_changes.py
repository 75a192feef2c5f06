"""Changes the flows make to the unit of work's incident row beyond a lifecycle decision
(bot.store.incidents.apply_decision): each is written with the row's other changes when the
transaction flushes, with no statement of its own."""

from __future__ import annotations

from sqlmodel import Session

from bot.store.models import Incident


def release_group(*, session: Session, incident: Incident) -> None:
    """The incident, resolved or closed, stops collecting its alert group (a recurrence opens a
    new incident)."""
    incident.open_group = None
    session.add(incident)


def record_status_cadence(*, session: Session, incident: Incident, minutes: int) -> None:
    """A playbook set the incident's status-update cadence (it overrides its severity's)."""
    incident.status_update_minutes = minutes
    session.add(incident)

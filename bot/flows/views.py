"""Read models built from the store: the card and the checklist every renderer draws."""

from __future__ import annotations

from typing import Protocol, TypeVar

from bot.core.catalog import Catalog
from bot.core.playbooks import ACTIONS, describe
from bot.flows import paging
from bot.flows.ports import AlertLine, CardView, ChecklistView, PageLine, StepView
from bot.store import alerts as aq, incidents as q, playbook_runs as run_store
from bot.store.session import Session

_T = TypeVar("_T")


class CardIncident(Protocol):
    """What the card shows of an incident (a read model: a summary, `chat_state.ChatIncident`)."""

    @property
    def id(self) -> int | None: ...
    @property
    def title(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def private(self) -> bool: ...
    @property
    def drill(self) -> bool: ...
    @property
    def description(self) -> str: ...
    @property
    def summary(self) -> str | None: ...
    @property
    def conversation_id(self) -> str | None: ...
    @property
    def conversation_name(self) -> str | None: ...
    @property
    def postmortem_key(self) -> str | None: ...
    @property
    def postmortem_url(self) -> str | None: ...
    @property
    def service(self) -> str | None: ...


class ChecklistRun(Protocol):
    """What the checklist shows of a playbook run."""

    @property
    def id(self) -> int | None: ...
    @property
    def playbook(self) -> str: ...
    @property
    def title(self) -> str: ...


def card_view(
    *, session: Session, incident: CardIncident, catalog: Catalog, public_url: str | None
) -> CardView:
    assert incident.id is not None
    holders = q.roles(session=session, incident_id=incident.id)
    return CardView(
        id=incident.id,
        title=incident.title,
        severity=_find(catalog.find_severity(incident.severity), incident.severity),
        status=_find(catalog.find_status(incident.status), incident.status),
        roles=tuple((role, holders.get(role.id)) for role in catalog.roles),
        milestones=q.milestones(session=session, incident_id=incident.id),
        private=incident.private,
        drill=incident.drill,
        description=incident.description,
        summary=incident.summary,
        conversation_id=incident.conversation_id,
        conversation_name=incident.conversation_name,
        review_url=f"{public_url.rstrip('/')}/incidents/{incident.id}" if public_url else None,
        postmortem_key=incident.postmortem_key,
        postmortem_url=incident.postmortem_url,
        service=incident.service,
        alerts=tuple(
            AlertLine(*line) for line in aq.alert_lines(session=session, incident_id=incident.id)
        ),
        pages=tuple(
            PageLine(*line) for line in paging.page_lines(session=session, incident_id=incident.id)
        ),
    )


def _find(found: _T | None, key: str) -> _T:
    if found is None:
        raise LookupError(
            f"{key!r} is stored on an incident but missing from the catalog; restore it in INCIDENTBOT_CONFIG"
        )
    return found


def checklist_view(session: Session, run: ChecklistRun, catalog: Catalog) -> ChecklistView:
    """A playbook run's checklist as the chat shows it: each step with who did it and when."""
    steps = run_store.steps_of_run(session=session, run_id=int(run.id or 0))
    role_names = {r.id: r.name for r in catalog.roles}
    return ChecklistView(
        run_id=int(run.id or 0),
        playbook=run.playbook,
        title=run.title,
        steps=tuple(
            StepView(
                s.step,
                s.title,
                role_names.get(s.owner_role, s.owner_role),
                s.runbook_url,
                s.due_at,
                s.state,
                s.by,
                s.at,
                s.skip_reason,
                s.result,
                describe(ACTIONS.validate_python(s.action)) if s.action else None,
            )
            for s in steps
        ),
    )

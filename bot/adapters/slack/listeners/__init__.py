"""Bolt listeners, one module per kind of request; each exposes `register(app, ctx)`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from bot.core.catalog import Catalog
from bot.flows.background import BackgroundWork
from bot.flows.incidents import IncidentFlows, Outcome
from bot.flows.jira_effects import JiraEffects
from bot.flows.oncall import OnCallLookup
from bot.flows.ports import Clock


@dataclass(frozen=True)
class SlackContext:
    flows: IncidentFlows
    catalog: Catalog
    clock: Clock
    work: BackgroundWork  # slow work runs here after the ack, never on Bolt's small ack pool
    oncall: OnCallLookup | None = None
    postmortems: JiraEffects | None = None  # drafts for /incident postmortem
    review_link: Callable[[str, int], str] | None = None  # signs a Slack user into the review page


def request_key(body: dict[str, Any]) -> str | None:
    """A stable id for an incoming request: Slack re-sends the same trigger or event id when it
    retries, and a replayed request carries it too; a second click has a new trigger id."""
    if body.get("event_id"):
        return f"slack:event:{body['event_id']}"
    if body.get("trigger_id"):
        return f"slack:trigger:{body['trigger_id']}"
    return None


def declared_message(ctx: SlackContext, outcome: Outcome) -> str:
    if not outcome.ok or outcome.incident_id is None:
        return outcome.message
    incident = ctx.flows.incident(outcome.incident_id)
    if incident is not None and incident.channel_id:
        return f"{outcome.message} → <#{incident.channel_id}>"
    return f"{outcome.message}. The channel is on its way (Slack is slow to answer right now)."


log = logging.getLogger(__name__)

FAILED = (
    "Sorry, that failed inside incidentbot (the error is in its log). Nothing was half-done: "
    "what was saved is complete, and Slack updates still pending are retried. Try again in a moment."
)


@contextmanager
def reporting_failures(respond: Callable[..., Any], what: str) -> Iterator[None]:
    """A crash in the work after an ack still reaches the person who asked, as an ephemeral."""
    try:
        yield
    except Exception:
        log.exception("%s failed", what)
        with suppress(Exception):
            respond(text=FAILED, response_type="ephemeral", replace_original=False)

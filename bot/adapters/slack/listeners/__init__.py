"""Bolt listeners, one module per kind of request; each exposes `register(app, ctx)` and `WORK`.

A listener is a named module-level function taking the context first, then what Bolt injects
(`(ctx, ack, body, …) -> None`); `register` binds it to the app with `functools.partial`, so
each can be called, and tested, without Bolt's dispatch.

A listener only checks what Slack must be answered at once (a form's errors, help); everything
else is handed to the inbox (`accept`), written to the database before the listener acks, and
done after the ack by a named work function of `WORK` (`(ctx, body) -> None`), in this process
or, if it dies first, in whichever process sweeps next."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.adapters.slack.replies import outcome_reply
from bot.adapters.slack.text import said
from bot.core.catalog import Catalog
from bot.flows.background import BackgroundWork
from bot.flows.inbox import Inbox
from bot.flows.incidents import IncidentFlows, Outcome
from bot.flows.oncall import OnCallLookup
from bot.flows.ports import Clock
from bot.flows.tracker_effects import TrackerEffects


@dataclass(frozen=True)
class SlackContext:
    flows: IncidentFlows
    catalog: Catalog
    clock: Clock
    work: BackgroundWork  # slow work runs here after the ack, never on Bolt's small ack pool
    inbox: Inbox  # what was acked, durably; its workers run WORK
    client: WebClient  # the Web API client the work calls Slack with
    oncall: OnCallLookup | None = None
    postmortems: TrackerEffects | None = None  # drafts for /incident postmortem
    review_link: Callable[[str, int], str] | None = None  # signs a Slack user into the review page


def request_key(body: dict[str, Any]) -> str | None:
    """A stable id for an incoming request: Slack re-sends the same trigger or event id when it
    retries, and a replayed request carries it too; a second click has a new trigger id."""
    if body.get("event_id"):
        return f"slack:event:{body['event_id']}"
    if body.get("trigger_id"):
        return f"slack:trigger:{body['trigger_id']}"
    return None


Work = Callable[[SlackContext, dict[str, Any]], None]


def inbox_key(body: dict[str, Any]) -> str:
    """The request's id (`request_key`), or, for a request without one, a digest of it."""
    key = request_key(body)
    if key is not None:
        return key
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return f"slack:body:{digest}"


def accept(ctx: SlackContext, body: dict[str, Any], work: str, lane: str | None = None) -> None:
    """Hand the request to the inbox: durable when this returns, so the caller may ack. The
    lane orders requests on one incident (its channel); without one, the request runs alone."""
    key = inbox_key(body)
    ctx.inbox.accept(key, lane or key, work, body)


async def accept_async(
    ctx: SlackContext, body: dict[str, Any], work: str, lane: str | None = None
) -> None:
    """`accept` from an event loop (the slash-command intake)."""
    key = inbox_key(body)
    await ctx.inbox.accept_async(key, lane or key, work, body)


def channel_lane(channel: object) -> str | None:
    return f"slack:{channel}" if channel else None


def respond_to(body: dict[str, Any]) -> Respond:
    """What Bolt's `respond` would be for this request: its response_url (valid 30 minutes)."""
    return Respond(response_url=body.get("response_url"))


def declared_reply(ctx: SlackContext, outcome: Outcome) -> dict[str, Any]:
    """The answer to a declaration (or a drill): its new channel, or why it was refused."""
    if not outcome.ok or outcome.incident_id is None:
        return outcome_reply(outcome)
    incident = ctx.flows.incident(outcome.incident_id)
    if incident is not None and incident.conversation_id:
        return {"text": f"{said(outcome.message)} → <#{incident.conversation_id}>"}
    return {
        "text": f"{said(outcome.message)}. The channel is on its way "
        "(Slack is slow to answer right now)."
    }


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

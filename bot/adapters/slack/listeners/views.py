"""Modal submissions: checked in the ack (errors shown in the form), then handed to the inbox
and worked off by `view`."""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.adapters.slack import checklist, modals
from bot.adapters.slack.listeners import (
    SlackContext,
    accept,
    channel_lane,
    declared_reply,
    request_key,
)
from bot.adapters.slack.replies import outcome_reply
from bot.adapters.slack.text import said_plain
from bot.core import lifecycle
from bot.core.lifecycle import Refused
from bot.core.milestones import Milestone

log = logging.getLogger(__name__)


def register(app: App, ctx: SlackContext) -> None:
    app.view(modals.TIMESTAMPS)(partial(edit_timestamps, ctx))
    app.view(modals.FOLLOWUP)(partial(add_followup, ctx))
    app.view(checklist.SKIP_FORM)(partial(skip_step, ctx))
    app.view(modals.DECLARE)(partial(declare, ctx))
    app.view(modals.STATUS)(partial(change, ctx))
    app.view(modals.SEVERITY)(partial(change, ctx))


def declare(ctx: SlackContext, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    """The declare form: a future impact start or a declaration the rules refuse is shown in
    the form; a good one goes to the inbox and runs alone."""
    form = modals.read_declare(view)
    user = str(body["user"]["id"])
    now = ctx.clock.now()
    if form.impact_started_at is not None and form.impact_started_at > now:
        ack(response_action="errors", errors={"impact": "Impact can't start in the future."})
        return
    try:  # the same pure check the flow makes, so the form can show the problem in place
        lifecycle.declare(
            ctx.catalog,
            title=form.title,
            severity=form.severity or None,
            now=now,
            actor=user,
            impact_started_at=form.impact_started_at,
        )
    except Refused as refused:
        ack(response_action="errors", errors={"title": said_plain(refused.reason)[:150]})
        return
    _submitted(ctx, ack, body, None)


def change(ctx: SlackContext, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    """The status and severity forms: the flow checks them, in the incident's lane."""
    incident_id = modals.metadata(view).get("incident_id")
    _submitted(ctx, ack, body, f"slack:incident:{incident_id}" if incident_id else None)


def skip_step(ctx: SlackContext, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    """Skipping a checklist step needs a reason; the step's run is the lane."""
    reason = modals.read_text(view, "reason").strip()
    if not reason:
        ack(response_action="errors", errors={"reason": "Say why the step is skipped."})
        return
    run_id = modals.metadata(view).get("run_id")
    _submitted(ctx, ack, body, f"slack:run:{run_id}" if run_id else None)


def add_followup(ctx: SlackContext, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
    """A follow-up needs its text and no due date in the past; the channel is the lane."""
    form = modals.read_followup(view)
    if not form.text:
        ack(response_action="errors", errors={"text": "Say what needs doing."})
        return
    if form.due_on is not None and form.due_on < ctx.clock.now().date():
        ack(response_action="errors", errors={"due": "That date is in the past."})
        return
    _submitted(ctx, ack, body, channel_lane(form.channel_id))


def edit_timestamps(
    ctx: SlackContext, ack: Ack, body: dict[str, Any], view: dict[str, Any]
) -> None:
    """Corrected milestones: a form that changes nothing just closes; an order the rules
    refuse is shown at the first field changed; the rest goes to the incident's lane."""
    user = str(body["user"]["id"])
    incident_id = modals.metadata(view).get("incident_id")
    if not isinstance(incident_id, int):
        ack()
        return
    changes = _corrections(ctx, incident_id, view)
    if not changes:
        ack()
        return
    command = lifecycle.EditMilestones(changes)
    problem = ctx.flows.check(incident_id=incident_id, command=command, actor=user)
    if problem is not None:
        first = min(changes, key=lambda m: list(lifecycle.EDITABLE).index(m))
        ack(response_action="errors", errors={first.value: said_plain(problem)[:150]})
        return
    _submitted(ctx, ack, body, f"slack:incident:{incident_id}")


def _submitted(ctx: SlackContext, ack: Ack, body: dict[str, Any], lane: str | None) -> None:
    accept(ctx, body, "view", lane)
    ack()


def _corrections(
    ctx: SlackContext, incident_id: int, form: dict[str, Any]
) -> dict[Milestone, datetime]:
    """The milestones the form changes: the pickers show whole seconds, so an untouched one is
    no correction."""
    current = ctx.flows.stamps(incident_id)
    return {
        m: at
        for m, at in modals.read_timestamps(form).items()
        if m not in current or int(current[m].at.timestamp()) != int(at.timestamp())
    }


def view(ctx: SlackContext, body: dict[str, Any]) -> None:
    """The work of an acked form: the form was checked in the ack, so this decides and tells
    the person in the channel only if the decision was refused."""
    form = body.get("view") or {}
    user = str((body.get("user") or {}).get("id"))
    key = _key(body, form)
    client = ctx.client
    match form.get("callback_id"):
        case modals.DECLARE:
            _declare(ctx, client, modals.read_declare(form), user, key)
        case modals.STATUS:
            command: lifecycle.Command = lifecycle.ChangeStatus(
                modals.read_select(form, "status"), modals.read_text(form, "summary") or None
            )
            _act(ctx, client, form, user, key, command)
        case modals.SEVERITY:
            command = lifecycle.ChangeSeverity(modals.read_select(form, "severity"))
            _act(ctx, client, form, user, key, command)
        case modals.TIMESTAMPS:
            incident_id = modals.metadata(form).get("incident_id")
            if not isinstance(incident_id, int):
                return
            changes = _corrections(ctx, incident_id, form)
            if changes:
                _act(ctx, client, form, user, key, lifecycle.EditMilestones(changes))
        case checklist.SKIP_FORM:
            reason = modals.read_text(form, "reason").strip()
            _skip(ctx, client, modals.metadata(form), user, reason, key)
        case modals.FOLLOWUP:
            _add_followup(ctx, client, modals.read_followup(form), user, key)


WORK = {"view": view}


def _key(body: dict[str, Any], form: dict[str, Any]) -> str:
    return request_key(body) or f"slack:view:{form.get('id')}"


def _declare(
    ctx: SlackContext, client: WebClient, form: modals.DeclareForm, user: str, key: str
) -> None:
    outcome = ctx.flows.declare(
        title=form.title,
        severity=form.severity or None,
        actor=user,
        request_key=key,
        description=form.description,
        impact_started_at=form.impact_started_at,
        private=form.private,
    )
    if form.channel_id:
        _tell(client, form.channel_id, user, declared_reply(ctx, outcome))


def _act(
    ctx: SlackContext,
    client: WebClient,
    view: dict[str, Any],
    user: str,
    key: str,
    command: lifecycle.Command,
) -> None:
    incident_id = modals.metadata(view).get("incident_id")
    if not isinstance(incident_id, int):
        return
    outcome = ctx.flows.act(command=command, actor=user, request_key=key, incident_id=incident_id)
    if not outcome.ok:
        incident = ctx.flows.incident(incident_id)
        if incident is not None and incident.conversation_id:
            _tell(client, incident.conversation_id, user, outcome_reply(outcome))


def _tell(client: WebClient, channel: str, user: str, reply: dict[str, Any]) -> None:
    try:
        client.chat_postEphemeral(channel=channel, user=user, **reply)
    except Exception:  # the user left the channel, or Slack is down: the flow's work is done
        log.warning("could not tell %s in %s: %s", user, channel, reply.get("text"))


def _skip(
    ctx: SlackContext, client: WebClient, meta: dict[str, Any], user: str, reason: str, key: str
) -> None:
    run_id, step = meta.get("run_id"), meta.get("step")
    if not isinstance(run_id, int) or not isinstance(step, str):
        return
    outcome = ctx.flows.mark_step(
        run_id=run_id, step=step, actor=user, request_key=key, done=False, reason=reason
    )
    if not outcome.ok and outcome.incident_id is not None:
        incident = ctx.flows.incident(outcome.incident_id)
        if incident is not None and incident.conversation_id:
            _tell(client, incident.conversation_id, user, outcome_reply(outcome))


def _add_followup(
    ctx: SlackContext, client: WebClient, form: modals.FollowupForm, user: str, key: str
) -> None:
    if not form.channel_id:
        return
    outcome = ctx.flows.add_followup(
        channel_id=form.channel_id,
        text=form.text,
        owner=form.owner,
        due_on=form.due_on,
        actor=user,
        request_key=key,
        source="shortcut",
        permalink=form.permalink,
    )
    if not outcome.ok:
        _tell(client, form.channel_id, user, outcome_reply(outcome))

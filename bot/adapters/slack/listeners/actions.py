"""Buttons on the incident card and the checklist: acked once in the inbox, worked off by
`action`."""

from __future__ import annotations

import re
from datetime import datetime
from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.adapters.slack import blocks as b, checklist, modals
from bot.adapters.slack.listeners import (
    SlackContext,
    accept,
    channel_lane,
    reporting_failures,
    request_key,
    respond_to,
)
from bot.adapters.slack.replies import outcome_reply
from bot.core import lifecycle
from bot.core.catalog import COMMANDER, Phase

BUTTONS = (
    checklist.DONE,
    checklist.SKIP,
    b.ACK,
    b.ACCEPT_MITIGATION,
    b.CLAIM_COMMANDER,
    b.RESOLVE,
    b.CLOSE,
    b.CHANGE_STATUS,
    b.CHANGE_SEVERITY,
)
SNOOZES = re.compile(rf"^{re.escape(b.SNOOZE)}\.\d+$")  # `snooze.30`, `snooze.60` …


def register(app: App, ctx: SlackContext) -> None:
    listener = partial(clicked, ctx)
    app.action(SNOOZES)(listener)
    for action_id in BUTTONS:
        app.action(action_id)(listener)


def clicked(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """Any button: into the inbox, in the lane of the channel it was clicked in, then acked."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    accept(ctx, body, "action", channel_lane(channel))
    ack()


def action(ctx: SlackContext, body: dict[str, Any]) -> None:
    """The work of an acked button click."""
    respond = respond_to(body)
    action_id = str((body.get("actions") or [{}])[0].get("action_id") or "")
    with reporting_failures(respond, f"button {action_id}"):
        if action_id.startswith(f"{b.SNOOZE}."):
            _snooze(ctx, body, respond)
            return
        match action_id:
            case b.ACK:
                _act(ctx, body, respond, lifecycle.Acknowledge())
            case b.CLAIM_COMMANDER:
                _act(ctx, body, respond, lifecycle.AssignRole(COMMANDER, str(body["user"]["id"])))
            case b.RESOLVE:
                resolved = ctx.catalog.status_with_phase(Phase.RESOLVED).id
                _act(ctx, body, respond, lifecycle.ChangeStatus(resolved))
            case b.CLOSE:
                closed = ctx.catalog.status_with_phase(Phase.CLOSED).id
                _act(ctx, body, respond, lifecycle.ChangeStatus(closed))
            case b.CHANGE_STATUS | b.CHANGE_SEVERITY:
                _show_form(ctx, body, respond)
            case b.ACCEPT_MITIGATION:
                _accept_mitigation(ctx, body, respond)
            case checklist.DONE:
                run_id, step = _step(body)
                outcome = ctx.flows.mark_step(
                    run_id=run_id,
                    step=step,
                    actor=str(body["user"]["id"]),
                    request_key=request_key(body),
                    done=True,
                )
                if not outcome.ok:
                    respond(
                        **outcome_reply(outcome),
                        response_type="ephemeral",
                        replace_original=False,
                    )
            case checklist.SKIP:
                _skip_form(ctx, body)


WORK = {"action": action}


def _act(
    ctx: SlackContext, body: dict[str, Any], respond: Respond, command: lifecycle.Command
) -> None:
    incident_id = _incident_id(body)
    if incident_id is None:
        respond(
            text="That button does not belong to a known incident.",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    user = str(body["user"]["id"])
    outcome = ctx.flows.act(
        command=command, actor=user, request_key=request_key(body), incident_id=incident_id
    )
    if not outcome.ok:
        respond(**outcome_reply(outcome), response_type="ephemeral", replace_original=False)


def _show_form(ctx: SlackContext, body: dict[str, Any], respond: Respond) -> None:
    incident = _incident(ctx, body)
    if incident is None or incident.id is None:
        respond(
            text="That incident no longer exists.",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    if body["actions"][0]["action_id"] == b.CHANGE_STATUS:
        view = modals.status_modal(ctx.catalog, incident_id=incident.id, current=incident.status)
    else:
        view = modals.severity_modal(
            ctx.catalog, incident_id=incident.id, current=incident.severity
        )
    ctx.client.views_open(trigger_id=body["trigger_id"], view=view)


def _accept_mitigation(ctx: SlackContext, body: dict[str, Any], respond: Respond) -> None:
    value = str((body.get("actions") or [{}])[0].get("value") or "")
    _, _, when = value.partition("|")
    try:
        at = datetime.fromisoformat(when)
    except ValueError:
        respond(
            text="That button carries no valid time.",
            response_type="ephemeral",
            replace_original=False,
        )
        return
    mitigated = ctx.catalog.status_with_phase(Phase.MITIGATED).id
    _act(ctx, body, respond, lifecycle.ChangeStatus(mitigated, mitigated_at=at))


def _skip_form(ctx: SlackContext, body: dict[str, Any]) -> None:
    run_id, step = _step(body)
    title = next(
        (
            block["text"]["text"]
            for block in body.get("message", {}).get("blocks", [])
            if block.get("block_id") == f"step.{step}"
        ),
        step,
    )
    ctx.client.views_open(
        trigger_id=body["trigger_id"], view=checklist.skip_form(run_id, step, title)
    )


def _snooze(ctx: SlackContext, body: dict[str, Any], respond: Respond) -> None:
    value = str((body.get("actions") or [{}])[0].get("value") or "")
    incident, _, minutes = value.partition("|")
    if not (incident.isdigit() and minutes.isdigit()):
        return
    outcome = ctx.flows.snooze_status_update(
        incident_id=int(incident),
        minutes=int(minutes),
        actor=str(body["user"]["id"]),
        request_key=request_key(body),
    )
    respond(**outcome_reply(outcome), response_type="ephemeral", replace_original=False)


def _incident_id(body: dict[str, Any]) -> int | None:
    actions = body.get("actions") or [{}]
    value = str(actions[0].get("value") or "").partition("|")[0]
    return int(value) if value.isdigit() else None


def _incident(ctx: SlackContext, body: dict[str, Any]) -> Any:
    incident_id = _incident_id(body)
    return ctx.flows.incident(incident_id) if incident_id is not None else None


def _step(body: dict[str, Any]) -> tuple[int, str]:
    value = str((body.get("actions") or [{}])[0].get("value") or "")
    run, _, step = value.partition(":")
    return (int(run) if run.isdigit() else 0), step

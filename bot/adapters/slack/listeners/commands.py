"""`/incident …`: parse; help and mistakes are answered in the ack, everything else goes to the
inbox before the ack and is worked off by `command`, which answers ephemerally."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.adapters.slack import modals, replies
from bot.adapters.slack.listeners import (
    SlackContext,
    accept,
    channel_lane,
    declared_reply,
    reporting_failures,
    request_key,
    respond_to,
)
from bot.adapters.slack.replies import outcome_reply, refusal_reply
from bot.adapters.slack.text import mentioned
from bot.core import commands as c, lifecycle
from bot.core.catalog import Phase
from bot.core.lifecycle import Refused
from bot.flows.ports import IntegrationError

# Commands that concern no incident run alone; the others queue behind the channel's earlier ones.
_STANDALONE = (c.Declare, c.Drill, c.ListOpen, c.OnCall)


def register(app: App, ctx: SlackContext) -> None:
    app.command("/incident")(partial(incident_command, ctx))


def incident_command(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """`/incident …` through Bolt (Socket Mode; over HTTP `command_intake` answers it first):
    help or a mistake is the ack itself; anything else is in the inbox before the empty ack."""
    triage = triaged(ctx, body)
    if triage.reply is None:
        accept(ctx, body, "command", triage.lane)
        ack()
    else:
        ack(**triage.reply)


@dataclass(frozen=True)
class Triage:
    reply: dict[str, Any] | None  # the answer itself (help, a mistake); None: work for the inbox
    lane: str | None  # work on an incident queues behind its channel's; None: it runs alone


def triaged(ctx: SlackContext, body: dict[str, Any]) -> Triage:
    """What `/incident …` is answered at once, or where its work queues (parsed once)."""
    match request := c.parse(str(body.get("text") or ""), ctx.catalog, mentioned):
        case c.Help(unknown=unknown):
            text, blocks = replies.help_blocks(ctx.catalog, unknown)
            return Triage({"text": text, "blocks": blocks}, None)
        case c.Invalid(message=message):
            return Triage({"text": message}, None)
    standalone = isinstance(request, _STANDALONE)
    return Triage(None, None if standalone else channel_lane(body.get("channel_id")))


def command(ctx: SlackContext, body: dict[str, Any]) -> None:
    """The work of an acked `/incident …`: decide, then answer the person ephemerally."""
    respond = respond_to(body)
    with reporting_failures(respond, f"/incident {body.get('text')!r}"):
        _run(
            ctx,
            c.parse(str(body.get("text") or ""), ctx.catalog, mentioned),
            body,
            respond,
            ctx.client,
        )


WORK = {"command": command}


def _run(
    ctx: SlackContext, request: c.Request, body: dict[str, Any], respond: Respond, client: WebClient
) -> None:
    user, channel = str(body.get("user_id")), str(body.get("channel_id"))
    match request:
        case c.Declare(severity=severity, title=None):
            view = modals.declare_modal(
                ctx.catalog, now=ctx.clock.now(), channel_id=channel, severity=severity
            )
            client.views_open(trigger_id=body["trigger_id"], view=view)
        case c.Declare(severity=severity, title=str(title)):
            outcome = ctx.flows.declare(
                title=title, severity=severity, actor=user, request_key=request_key(body)
            )
            respond(**declared_reply(ctx, outcome), response_type="ephemeral")
        case c.Page(service=service):
            outcome = ctx.flows.page(
                channel_id=channel, service=service, actor=user, request_key=request_key(body)
            )
            if not outcome.ok:
                respond(**outcome_reply(outcome), response_type="ephemeral")
        case c.PlaybookRequest(name=None):
            respond(**_playbooks(ctx, channel), response_type="ephemeral")
        case c.PlaybookRequest(name=str(name)):
            outcome = ctx.flows.attach_by_name(
                channel_id=channel, name=name, actor=user, request_key=request_key(body)
            )
            if not outcome.ok:
                respond(**outcome_reply(outcome), response_type="ephemeral")
        case c.AddFollowup(text=text, owner=owner, due_on=due_on):
            outcome = ctx.flows.add_followup(
                channel_id=channel,
                text=text,
                owner=owner,
                due_on=due_on,
                actor=user,
                request_key=request_key(body),
            )
            if not outcome.ok:
                respond(**outcome_reply(outcome), response_type="ephemeral")
        case c.ListFollowups():
            try:
                summary, items = ctx.flows.followups(channel)
            except Refused as refused:
                respond(**refusal_reply(refused.refusal), response_type="ephemeral")
                return
            text, blocks = replies.followups_blocks(summary, items)
            respond(text=text, blocks=blocks, response_type="ephemeral")
        case c.Review():
            respond(**_review(ctx, channel, user), response_type="ephemeral")
        case c.Drill(playbook=name):
            outcome = ctx.flows.start_drill(name=name, actor=user, request_key=request_key(body))
            respond(**declared_reply(ctx, outcome), response_type="ephemeral")
        case c.Timestamps():
            try:
                incident, stamps = ctx.flows.milestones_of(channel)
            except Refused as refused:
                respond(**refusal_reply(refused.refusal), response_type="ephemeral")
                return
            view = modals.timestamps_modal(incident_id=int(incident.id or 0), stamps=stamps)
            client.views_open(trigger_id=body["trigger_id"], view=view)
        case c.Postmortem(export=export):
            respond(
                **_postmortem(ctx, channel, user, export, request_key(body)),
                response_type="ephemeral",
            )
        case c.OnCall(service=service):
            respond(**_oncall(ctx, service), response_type="ephemeral")
        case c.ListOpen():
            text, blocks = replies.list_blocks(ctx.catalog, ctx.flows.open_incidents())
            respond(text=text, blocks=blocks, response_type="ephemeral")
        case c.Help() | c.Invalid():
            return  # answered in the ack
        case _:
            command = _to_command(ctx, request, user)
            outcome = ctx.flows.act(
                command=command, actor=user, request_key=request_key(body), channel_id=channel
            )
            if not outcome.ok:
                respond(**outcome_reply(outcome), response_type="ephemeral")


def _to_command(ctx: SlackContext, request: c.Request, user: str) -> lifecycle.Command:
    match request:
        case c.SetStatus(status=status, summary=summary):
            return lifecycle.ChangeStatus(status, summary)
        case c.SetSeverity(severity=severity):
            return lifecycle.ChangeSeverity(severity)
        case c.SetRole(role=role, user=target):
            return lifecycle.AssignRole(role, target or user)
        case c.Ack():
            return lifecycle.Acknowledge()
        case c.Note(text=text):
            return lifecycle.AddNote(text)
        case c.Close():
            return lifecycle.ChangeStatus(ctx.catalog.status_with_phase(Phase.CLOSED).id)
        case c.MakeVisible():
            return lifecycle.MakePublic()
    raise AssertionError(f"not an incident command: {request!r}")


def _oncall(ctx: SlackContext, service: str | None) -> dict[str, Any]:
    if ctx.oncall is None:
        return {"text": "No pager is set up for this bot."}
    try:
        name, people = ctx.oncall.who(service)
    except Refused as refused:
        return refusal_reply(refused.refusal)
    except IntegrationError as exc:
        return {"text": f"The pager did not answer ({exc}). Try again in a moment."}
    text, blocks = replies.oncall_blocks(name, people)
    return {"text": text, "blocks": blocks}


def _playbooks(ctx: SlackContext, channel: str) -> dict[str, Any]:
    try:
        found, attached = ctx.flows.candidates(channel)
    except Refused as refused:
        return refusal_reply(refused.refusal)
    if not found:
        return {
            "text": "No playbook matches this incident. "
            "Attach one by name: `/incident playbook <name>`."
        }
    lines = [
        f"• `{p.name}`{' (attached)' if p.name in attached else ''}: {p.description.split('.')[0]}"
        for p in found
    ]
    return {"text": "*Playbooks for this incident* (most specific first)\n" + "\n".join(lines)}


def _postmortem(
    ctx: SlackContext, channel: str, user: str, export: bool, key: str | None
) -> dict[str, Any]:
    if ctx.postmortems is None:
        return {"text": "Post-mortems are not set up for this bot."}
    try:
        incident, _rows = ctx.flows.followups(channel)  # the channel's incident, or Refused
        assert incident.id is not None
        if export:
            outcome = ctx.flows.export_postmortem(
                incident_id=incident.id, actor=user, request_key=key
            )
            return outcome_reply(outcome)
        draft = ctx.postmortems.draft(incident.id)
    except Refused as refused:
        return refusal_reply(refused.refusal)
    text, blocks = replies.postmortem_blocks(draft.markdown, draft.template)
    return {"text": text, "blocks": blocks}


def _review(ctx: SlackContext, channel: str, user: str) -> dict[str, Any]:
    if ctx.review_link is None:
        return {"text": "The review page is off: set API_TOKEN (and PUBLIC_URL) on the server."}
    try:
        incident, _stamps = ctx.flows.milestones_of(channel)
    except Refused as refused:
        return refusal_reply(refused.refusal)
    link = ctx.review_link(user, int(incident.id or 0))
    return {
        "text": f"<{link}|Open the review page of #{incident.id}> "
        "(a sign-in link for you only, valid 10 minutes, once)."
    }

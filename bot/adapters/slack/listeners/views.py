"""Modal submissions: declare, change status, change severity."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.adapters.slack import checklist, modals
from bot.adapters.slack.listeners import SlackContext, declared_message, request_key
from bot.core import lifecycle
from bot.core.lifecycle import Refused

log = logging.getLogger(__name__)


def register(app: App, ctx: SlackContext) -> None:
    def declare(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
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
            ack(response_action="errors", errors={"title": refused.reason[:150]})
            return
        ack()
        ctx.work.submit(run_declare, form, user, body, view, client)

    def run_declare(
        form: modals.DeclareForm,
        user: str,
        body: dict[str, Any],
        view: dict[str, Any],
        client: WebClient,
    ) -> None:
        outcome = ctx.flows.declare(
            title=form.title,
            severity=form.severity or None,
            actor=user,
            request_key=request_key(body) or f"slack:view:{view.get('id')}",
            description=form.description,
            impact_started_at=form.impact_started_at,
            private=form.private,
        )
        if form.channel_id:
            _tell(client, form.channel_id, user, declared_message(ctx, outcome))

    def change_status(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        command = lifecycle.ChangeStatus(
            modals.read_select(view, "status"), modals.read_text(view, "summary") or None
        )
        _act(ctx, body, view, client, command)

    def change_severity(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        ack()
        _act(
            ctx, body, view, client, lifecycle.ChangeSeverity(modals.read_select(view, "severity"))
        )

    def skip_step(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        reason = modals.read_text(view, "reason").strip()
        if not reason:
            ack(response_action="errors", errors={"reason": "Say why the step is skipped."})
            return
        ack()
        meta = modals.metadata(view)
        user = str(body["user"]["id"])
        ctx.work.submit(
            _skip,
            ctx,
            client,
            meta,
            user,
            reason,
            request_key(body) or f"slack:view:{view.get('id')}",
        )

    def add_followup(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        form = modals.read_followup(view)
        if not form.text:
            ack(response_action="errors", errors={"text": "Say what needs doing."})
            return
        if form.due_on is not None and form.due_on < ctx.clock.now().date():
            ack(response_action="errors", errors={"due": "That date is in the past."})
            return
        ack()
        user = str(body["user"]["id"])
        ctx.work.submit(
            _add_followup,
            ctx,
            client,
            form,
            user,
            request_key(body) or f"slack:view:{view.get('id')}",
        )

    def edit_timestamps(
        ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient
    ) -> None:
        user = str(body["user"]["id"])
        incident_id = modals.metadata(view).get("incident_id")
        if not isinstance(incident_id, int):
            ack()
            return
        picked = modals.read_timestamps(view)
        current = ctx.flows.stamps(incident_id)
        changes = {  # the pickers show whole seconds: an untouched one is no correction
            m: at
            for m, at in picked.items()
            if m not in current or int(current[m].at.timestamp()) != int(at.timestamp())
        }
        if not changes:
            ack()
            return
        command = lifecycle.EditMilestones(changes)
        problem = ctx.flows.check(incident_id=incident_id, command=command, actor=user)
        if problem is not None:
            first = min(changes, key=lambda m: list(lifecycle.EDITABLE).index(m))
            ack(response_action="errors", errors={first.value: problem[:150]})
            return
        ack()
        ctx.work.submit(_act, ctx, body, view, client, command)

    app.view(modals.TIMESTAMPS)(edit_timestamps)
    app.view(modals.FOLLOWUP)(add_followup)
    app.view(checklist.SKIP_FORM)(skip_step)
    app.view(modals.DECLARE)(declare)
    app.view(modals.STATUS)(change_status)
    app.view(modals.SEVERITY)(change_severity)


def _act(
    ctx: SlackContext,
    body: dict[str, Any],
    view: dict[str, Any],
    client: WebClient,
    command: lifecycle.Command,
) -> None:
    user = str(body["user"]["id"])
    incident_id = modals.metadata(view).get("incident_id")
    if not isinstance(incident_id, int):
        return
    outcome = ctx.flows.act(
        command=command,
        actor=user,
        request_key=request_key(body) or f"slack:view:{view.get('id')}",
        incident_id=incident_id,
    )
    if not outcome.ok:
        incident = ctx.flows.incident(incident_id)
        if incident is not None and incident.channel_id:
            _tell(client, incident.channel_id, user, outcome.message)


def _tell(client: WebClient, channel: str, user: str, text: str) -> None:
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
    except Exception:  # the user left the channel, or Slack is down: the flow's work is done
        log.warning("could not tell %s in %s: %s", user, channel, text)


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
        if incident is not None and incident.channel_id:
            _tell(client, incident.channel_id, user, outcome.message)


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
        _tell(client, form.channel_id, user, outcome.message)

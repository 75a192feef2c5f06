"""Buttons on the incident card."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.adapters.slack import blocks as b
from bot.adapters.slack import checklist, modals
from bot.adapters.slack.listeners import SlackContext, reporting_failures, request_key
from bot.core import lifecycle
from bot.core.catalog import COMMANDER, Phase


def register(app: App, ctx: SlackContext) -> None:
    def act(body: dict[str, Any], respond: Respond, command: lifecycle.Command) -> None:
        with reporting_failures(respond, f"button {body['actions'][0].get('action_id')}"):
            run(body, respond, command)

    def run(body: dict[str, Any], respond: Respond, command: lifecycle.Command) -> None:
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
            respond(text=outcome.message, response_type="ephemeral", replace_original=False)

    def acknowledge(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        ctx.work.submit(act, body, respond, lifecycle.Acknowledge())

    def claim_commander(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        ctx.work.submit(
            act, body, respond, lifecycle.AssignRole(COMMANDER, str(body["user"]["id"]))
        )

    def resolve(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        ctx.work.submit(
            act,
            body,
            respond,
            lifecycle.ChangeStatus(ctx.catalog.status_with_phase(Phase.RESOLVED).id),
        )

    def close(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        ctx.work.submit(
            act,
            body,
            respond,
            lifecycle.ChangeStatus(ctx.catalog.status_with_phase(Phase.CLOSED).id),
        )

    def open_form(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        with reporting_failures(respond, "opening a form"):
            show_form(body, client, respond)

    def show_form(body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        incident = _incident(ctx, body)
        if incident is None or incident.id is None:
            respond(
                text="That incident no longer exists.",
                response_type="ephemeral",
                replace_original=False,
            )
            return
        if body["actions"][0]["action_id"] == b.CHANGE_STATUS:
            view = modals.status_modal(
                ctx.catalog, incident_id=incident.id, current=incident.status
            )
        else:
            view = modals.severity_modal(
                ctx.catalog, incident_id=incident.id, current=incident.severity
            )
        client.views_open(trigger_id=body["trigger_id"], view=view)

    def change_form(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        ctx.work.submit(open_form, body, client, respond)

    def accept_mitigation(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
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
        ctx.work.submit(act, body, respond, lifecycle.ChangeStatus(mitigated, mitigated_at=at))

    def step_done(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        run_id, step = _step(body)
        user = str(body["user"]["id"])
        ctx.work.submit(
            _mark,
            ctx,
            respond,
            run_id=run_id,
            step=step,
            actor=user,
            request_key=request_key(body),
            done=True,
        )

    def step_skip(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        run_id, step = _step(body)
        title = next(
            (
                b["text"]["text"]
                for b in body.get("message", {}).get("blocks", [])
                if b.get("block_id") == f"step.{step}"
            ),
            step,
        )
        ctx.work.submit(
            client.views_open,
            trigger_id=body["trigger_id"],
            view=checklist.skip_form(run_id, step, title),
        )

    def snooze(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        value = str((body.get("actions") or [{}])[0].get("value") or "")
        incident, _, minutes = value.partition("|")
        if not (incident.isdigit() and minutes.isdigit()):
            return
        user = str(body["user"]["id"])

        def run() -> None:
            with reporting_failures(respond, "snoozing"):
                outcome = ctx.flows.snooze_status_update(
                    incident_id=int(incident),
                    minutes=int(minutes),
                    actor=user,
                    request_key=request_key(body),
                )
                respond(text=outcome.message, response_type="ephemeral", replace_original=False)

        ctx.work.submit(run)

    app.action(re.compile(rf"^{re.escape(b.SNOOZE)}\.\d+$"))(snooze)
    app.action(checklist.DONE)(step_done)
    app.action(checklist.SKIP)(step_skip)
    app.action(b.ACK)(acknowledge)
    app.action(b.ACCEPT_MITIGATION)(accept_mitigation)
    app.action(b.CLAIM_COMMANDER)(claim_commander)
    app.action(b.RESOLVE)(resolve)
    app.action(b.CLOSE)(close)
    app.action(b.CHANGE_STATUS)(change_form)
    app.action(b.CHANGE_SEVERITY)(change_form)


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


def _mark(ctx: SlackContext, respond: Respond, **kwargs: Any) -> None:
    with reporting_failures(respond, "marking a step"):
        outcome = ctx.flows.mark_step(**kwargs)
        if not outcome.ok:
            respond(text=outcome.message, response_type="ephemeral", replace_original=False)

"""POST /slack/events: Bolt's sync dispatch in a worker thread, so the event loop never blocks.

Bolt parses the body before it checks the signature, and its parsing trusts the body's shape
(a JSON array, a `payload` that is not JSON, an `enterprise` that is a number…). So the body is
checked here first — at most MAX_SLACK_BODY bytes (413), UTF-8, its JSON part an object nested
at most MAX_JSON_DEPTH deep (400) — and anything else Bolt cannot parse is a 400 too; only then
does Bolt verify the signature (401) and dispatch. Signature headers not shaped like Slack's are
refused (401) before all that (bot.web.slack_headers)."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.adapters.slack.command_intake import CommandIntake
from bot.flows.background import AckGate
from bot.web import slack_headers
from bot.web.common import BadBody, Metrics, parse_json, read_body

log = logging.getLogger(__name__)

MAX_SLACK_BODY = 1_000_000  # Slack's payloads are far smaller; anything bigger is not Slack


def routes(
    *, bolt: App | None, gate: AckGate, metrics: Metrics, commands: CommandIntake | None = None
) -> list[Route]:
    async def slack_events(request: Request) -> Response:
        if bolt is None:
            return JSONResponse(
                {
                    "error": "Slack over HTTP is off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (Socket Mode needs neither endpoint nor secret)"
                },
                status_code=503,
            )
        refused = slack_headers.refusal(request.headers, metrics)  # Bolt's int() would raise
        if refused is not None:
            return refused
        try:
            body = await read_body(request, MAX_SLACK_BODY)
            check_body(body, request.headers.get("content-type"))
            form = commands.fields(body, request.headers.get("content-type")) if commands else None
            bolt_request = None if form is not None else to_bolt_request(request, body)
        except BadBody as bad:
            metrics.slack_requests.labels(str(bad.status)).inc()
            return bad.response()
        except Exception as exc:  # Bolt could not make sense of it: not from Slack
            log.warning("refused a Slack request Bolt cannot parse: %r", exc)
            metrics.slack_requests.labels("400").inc()
            return JSONResponse({"error": "not a Slack request"}, status_code=400)
        if commands is not None and form is not None:  # `/incident …`: no Bolt needed
            return await _command(commands, body, request, form, gate, metrics)
        assert bolt_request is not None
        with gate.answering():  # work in the background waits while Slack awaits an answer
            bolt_response = await run_in_threadpool(bolt.dispatch, bolt_request)
        metrics.slack_requests.labels(str(bolt_response.status)).inc()
        if bolt_response.status == 401:
            metrics.unauthorized.labels("slack").inc()
        return to_starlette_response(bolt_response)

    return [Route("/slack/events", slack_events, methods=["POST"])]


async def _command(
    commands: CommandIntake,
    body: bytes,
    request: Request,
    form: dict[str, str],
    gate: AckGate,
    metrics: Metrics,
) -> Response:
    try:
        with gate.answering():
            answer = await commands.handle(body, request.headers, form)
    except Exception:  # the database refused the write: not answered, so Slack tells the user
        log.exception("could not record a slash command")
        metrics.slack_requests.labels("503").inc()
        return JSONResponse({"error": "could not record the request; try again"}, status_code=503)
    metrics.slack_requests.labels(str(answer.status)).inc()
    if answer.status == 401:
        metrics.unauthorized.labels("slack").inc()
    if answer.body is None:
        return Response(status_code=answer.status)
    return JSONResponse(answer.body, status_code=answer.status)


def check_body(body: bytes, content_type: str | None) -> None:
    """BadBody(400) unless the body is UTF-8 and its JSON part, where Bolt finds one (the body
    itself for application/json or text starting with `{`, else a form's `payload`), is a JSON
    object nested at most MAX_JSON_DEPTH deep."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadBody(400, f"body is not UTF-8: {exc}") from exc
    kind = (content_type or "").split(";")[0]
    if kind == "application/json" or text.startswith("{"):
        found: str | None = text
    elif "payload" in text:
        found = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
    else:
        return
    if found is not None and text and not isinstance(parse_json(found), dict):
        raise BadBody(400, "the JSON of a Slack request must be an object")

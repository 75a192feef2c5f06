"""POST /slack/events: Bolt's sync dispatch in a worker thread, so the event loop never blocks."""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.flows.background import AckGate
from bot.web.common import BadBody, Metrics, read_body

MAX_SLACK_BODY = 1_000_000  # Slack's payloads are far smaller; anything bigger is not Slack


def routes(*, bolt: App | None, gate: AckGate, metrics: Metrics) -> list[Route]:
    async def slack_events(request: Request) -> Response:
        if bolt is None:
            return JSONResponse(
                {
                    "error": "Slack over HTTP is off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (Socket Mode needs neither endpoint nor secret)"
                },
                status_code=503,
            )
        try:
            body = await read_body(request, MAX_SLACK_BODY)
        except BadBody as bad:
            metrics.slack_requests.labels(str(bad.status)).inc()
            return bad.response()
        with gate.answering():  # work in the background waits while Slack awaits an answer
            bolt_response = await run_in_threadpool(bolt.dispatch, to_bolt_request(request, body))
        metrics.slack_requests.labels(str(bolt_response.status)).inc()
        if bolt_response.status == 401:
            metrics.unauthorized.labels("slack").inc()
        return to_starlette_response(bolt_response)

    return [Route("/slack/events", slack_events, methods=["POST"])]

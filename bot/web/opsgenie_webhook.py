"""`POST /webhooks/opsgenie`: Opsgenie's outgoing Webhook integration, authenticated by the
custom header the integration is set up with, `Authorization: Bearer <OPSGENIE_WEBHOOK_TOKEN>`
(compared in constant time). A good payload becomes the port's `PagerEvent` and goes to the
inbound pager flow; actions the bot does not follow are answered 200 and ignored."""

from __future__ import annotations

import time
from typing import Protocol

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.adapters.opsgenie.webhooks import WebhookPayloadError, parse_event
from bot.flows.ports import PagerEvent
from bot.flows.unit import Outcome
from bot.web.common import BadBody, Metrics, bearer_refusal, parse_json, read_body
from bot.web.wording import outcome_json

MAX_BODY = 1_000_000
SOURCE = "opsgenie"


class PagerEvents(Protocol):
    """The inbound pager flow, as this route needs it."""

    def handle(self, event: PagerEvent) -> Outcome: ...


def routes(*, inbound: PagerEvents | None, token: str | None, metrics: Metrics) -> list[Route]:
    async def endpoint(request: Request) -> Response:
        started = time.perf_counter()
        response = await handle(request)
        metrics.webhooks.labels(SOURCE, str(response.status_code)).inc()
        metrics.webhook_seconds.labels(SOURCE).observe(time.perf_counter() - started)
        return response

    async def handle(request: Request) -> Response:
        refused = bearer_refusal(
            request, token if inbound is not None else None, setting="OPSGENIE_WEBHOOK_TOKEN"
        )
        if refused is not None:
            metrics.unauthorized.labels(SOURCE).inc()
            return refused
        assert inbound is not None
        try:
            event = parse_event(parse_json(await read_body(request, MAX_BODY)))
        except BadBody as bad:
            return JSONResponse({"error": bad.reason, "problems": [bad.reason]}, bad.status)
        except WebhookPayloadError as bad:
            return JSONResponse(
                {"error": "not an Opsgenie webhook", "problems": bad.problems}, status_code=422
            )
        if event is None:
            ignored = "ignored: an action the bot does not follow, or its own told back"
            return JSONResponse({"ok": True, "incident_id": None, "result": ignored})
        outcome = await run_in_threadpool(inbound.handle, event)
        return JSONResponse(outcome_json(outcome))

    return [Route("/webhooks/opsgenie", endpoint, methods=["POST"])]

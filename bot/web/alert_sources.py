"""Webhooks in from the other alert sources: Datadog and New Relic (bearer
ALERT_WEBHOOK_TOKEN), CloudWatch alarms through Amazon SNS (each message's SNS signature
verified; see bot.adapters.alert_sources.sns). All of them end in the same `AlertFlows.ingest`
as Alertmanager's notifications, so grouping, severity, service and pacing are the same."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.adapters.alert_sources import cloudwatch, datadog, newrelic
from bot.adapters.alert_sources.common import NotActedOn, Parsed
from bot.adapters.alert_sources.sns import Refused, SnsGate, Unreachable, parse_message
from bot.core.alerts import AlertPayloadError
from bot.flows.alerts import AlertFlows
from bot.flows.background import AckGate
from bot.web.common import BadBody, Metrics, bearer_refusal, parse_json, read_body
from bot.web.wording import outcome_json

MAX_BODY = 1_000_000  # one alert per notification; SNS caps a message at 256 KB

Handler = Callable[[Request], Awaitable[Response]]


def routes(
    *,
    alerts: AlertFlows,
    token: str | None,
    sns: SnsGate | None,
    metrics: Metrics,
    gate: AckGate | None = None,
) -> list[Route]:
    answering = gate or AckGate()  # the pool's work waits while alerts are answered

    def measured(source: str, handle: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            started = time.perf_counter()
            with answering.answering():
                response = await handle(request)
            metrics.webhooks.labels(source, str(response.status_code)).inc()
            metrics.webhook_seconds.labels(source).observe(time.perf_counter() - started)
            return response

        return endpoint

    async def take(source: str, parse: Callable[[], Parsed]) -> Response:
        try:
            parsed = parse()
        except AlertPayloadError as bad:
            return JSONResponse(
                {"error": f"not a {source} notification", "problems": bad.problems},
                status_code=422,
            )
        if isinstance(parsed, NotActedOn):
            return JSONResponse({"ok": True, "incident_id": None, "result": parsed.reason})
        outcome = await run_in_threadpool(alerts.ingest, parsed)
        return JSONResponse(outcome_json(outcome))

    def bearer(source: str, parse: Callable[[Any], Parsed]) -> Handler:
        async def handle(request: Request) -> Response:
            refused = bearer_refusal(request, token, setting="ALERT_WEBHOOK_TOKEN")
            if refused is not None:
                metrics.unauthorized.labels(source).inc()
                return refused
            try:
                payload = parse_json(await read_body(request, MAX_BODY))
            except BadBody as bad:
                return bad.response()
            return await take(source, lambda: parse(payload))

        return handle

    async def cloudwatch_handle(request: Request) -> Response:
        if sns is None or not sns.on:
            return JSONResponse(
                {"error": "CloudWatch over SNS is off: set SNS_TOPIC_ARNS"}, status_code=401
            )
        try:  # SNS posts JSON as text/plain; the content type is not looked at
            message = parse_message(parse_json(await read_body(request, MAX_BODY)))
        except BadBody as bad:
            return bad.response()
        except AlertPayloadError as bad:
            return JSONResponse(
                {"error": "not an Amazon SNS message", "problems": bad.problems}, status_code=422
            )
        try:
            await run_in_threadpool(sns.verify, message)
            if message.Type == "SubscriptionConfirmation":
                await run_in_threadpool(sns.confirm, message)
                return JSONResponse(
                    {"ok": True, "incident_id": None, "result": "subscription confirmed"}
                )
        except Refused as refused:
            metrics.unauthorized.labels("cloudwatch").inc()
            return JSONResponse({"error": refused.reason}, status_code=refused.status)
        except Unreachable as down:
            return JSONResponse(
                {"error": f"could not reach Amazon SNS: {down}"},
                status_code=503,
                headers={"Retry-After": "30"},
            )
        if message.Type == "UnsubscribeConfirmation":
            return JSONResponse({"ok": True, "incident_id": None, "result": "unsubscribed"})
        return await take("cloudwatch", lambda: cloudwatch.parse(message.Message))

    return [
        Route(
            "/webhooks/datadog",
            measured("datadog", bearer("datadog", datadog.parse)),
            methods=["POST"],
        ),
        Route(
            "/webhooks/newrelic",
            measured("newrelic", bearer("newrelic", newrelic.parse)),
            methods=["POST"],
        ),
        Route("/webhooks/cloudwatch", measured("cloudwatch", cloudwatch_handle), methods=["POST"]),
    ]

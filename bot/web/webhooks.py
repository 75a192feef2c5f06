"""Webhooks in: Alertmanager and Grafana (bearer ALERT_WEBHOOK_TOKEN), PagerDuty v3 (signed);
the other alert sources (Datadog, New Relic, CloudWatch via SNS) are in bot.web.alert_sources,
Opsgenie's webhook integration (bearer OPSGENIE_WEBHOOK_TOKEN) in bot.web.opsgenie_webhook."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.adapters.alert_sources.sns import SnsGate
from bot.adapters.pagerduty_webhooks import WebhookPayloadError, parse_event, signature_ok
from bot.core.alerts import AlertGroup, AlertPayloadError, parse_alertmanager, parse_grafana
from bot.flows.alerts import AlertFlows
from bot.flows.background import AckGate
from bot.flows.pager_in import PagerInbound
from bot.web import alert_sources, opsgenie_webhook
from bot.web.common import BadBody, Metrics, bearer_refusal, parse_json, read_body
from bot.web.wording import outcome_json

MAX_ALERT_BODY = 8_000_000  # a group of 1000 alerts with long annotations stays well below
MAX_PAGERDUTY_BODY = 1_000_000


def routes(
    *,
    alerts: AlertFlows,
    token: str | None,
    pagerduty: PagerInbound | None,
    pagerduty_secrets: list[str],
    metrics: Metrics,
    sns: SnsGate | None = None,
    opsgenie: opsgenie_webhook.PagerEvents | None = None,
    opsgenie_token: str | None = None,
    gate: AckGate | None = None,
) -> list[Route]:
    # An alert storm is a burst of requests like a burst of Slack's: the work they hand to the
    # pool (channels, cards, lines, pages) waits while they are answered (`AckGate`), so the
    # senders get their answers first; what they asked for is committed by then.
    gate = gate or AckGate()

    def alert_endpoint(source: str, parse: Callable[[Any], AlertGroup]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            started = time.perf_counter()
            with gate.answering():
                response = await handle(request, source, parse)
            metrics.webhooks.labels(source, str(response.status_code)).inc()
            metrics.webhook_seconds.labels(source).observe(time.perf_counter() - started)
            return response

        return endpoint

    async def handle(request: Request, source: str, parse: Callable[[Any], AlertGroup]) -> Response:
        refused = bearer_refusal(request, token, setting="ALERT_WEBHOOK_TOKEN")
        if refused is not None:
            metrics.unauthorized.labels(source).inc()
            return refused
        try:
            group = parse(parse_json(await read_body(request, MAX_ALERT_BODY)))
        except BadBody as bad:
            return bad.response()
        except AlertPayloadError as bad:
            return JSONResponse(
                {"error": f"not a {source} notification", "problems": bad.problems}, status_code=422
            )
        outcome = await run_in_threadpool(alerts.ingest, group)
        return JSONResponse(outcome_json(outcome))

    async def pagerduty_endpoint(request: Request) -> Response:
        started = time.perf_counter()
        response = await pagerduty_handle(request)
        metrics.webhooks.labels("pagerduty", str(response.status_code)).inc()
        metrics.webhook_seconds.labels("pagerduty").observe(time.perf_counter() - started)
        return response

    async def pagerduty_handle(request: Request) -> Response:
        if pagerduty is None or not pagerduty_secrets:
            return JSONResponse(
                {"error": "PagerDuty webhooks are off: set PAGERDUTY_WEBHOOK_SECRETS"},
                status_code=401,
            )
        try:
            body = await read_body(request, MAX_PAGERDUTY_BODY)
        except BadBody as bad:
            return bad.response()
        if not signature_ok(body, request.headers.get("x-pagerduty-signature"), pagerduty_secrets):
            metrics.unauthorized.labels("pagerduty").inc()
            return JSONResponse(
                {"error": "X-PagerDuty-Signature does not match any of PAGERDUTY_WEBHOOK_SECRETS"},
                status_code=401,
            )
        try:
            event = parse_event(parse_json(body))
        except BadBody as bad:
            return bad.response()
        except WebhookPayloadError as bad:
            return JSONResponse({"error": str(bad)}, status_code=422)
        outcome = await run_in_threadpool(pagerduty.handle, event)
        return JSONResponse(outcome_json(outcome))

    return [
        Route("/webhooks/pagerduty", pagerduty_endpoint, methods=["POST"]),
        Route(
            "/webhooks/alertmanager",
            alert_endpoint("alertmanager", parse_alertmanager),
            methods=["POST"],
        ),
        Route("/webhooks/grafana", alert_endpoint("grafana", parse_grafana), methods=["POST"]),
        *alert_sources.routes(alerts=alerts, token=token, sns=sns, metrics=metrics, gate=gate),
        *opsgenie_webhook.routes(inbound=opsgenie, token=opsgenie_token, metrics=metrics),
    ]

"""Alert webhooks in: Alertmanager and Grafana (bearer ALERT_WEBHOOK_TOKEN)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.core.alerts import AlertGroup, AlertPayloadError, parse_alertmanager, parse_grafana
from bot.flows.alerts import AlertFlows
from bot.web.common import BadBody, Metrics, bearer_refusal, parse_json, read_body

MAX_ALERT_BODY = 8_000_000  # a group of 1000 alerts with long annotations stays well below


def routes(*, alerts: AlertFlows, token: str | None, metrics: Metrics) -> list[Route]:
    def alert_endpoint(source: str, parse: Callable[[Any], AlertGroup]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            started = time.perf_counter()
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
        return JSONResponse(
            {"ok": outcome.ok, "incident_id": outcome.incident_id, "result": outcome.message}
        )

    return [
        Route(
            "/webhooks/alertmanager",
            alert_endpoint("alertmanager", parse_alertmanager),
            methods=["POST"],
        ),
        Route("/webhooks/grafana", alert_endpoint("grafana", parse_grafana), methods=["POST"]),
    ]

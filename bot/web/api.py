"""The JSON API (bearer API_TOKEN), health and Prometheus metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.flows.views import incident_detail, incident_summary
from bot.store import incidents as q
from bot.store.db import Database
from bot.web.common import Metrics, bearer_refusal


def routes(*, db: Database, api_token: str | None, metrics: Metrics) -> list[Route]:
    def api(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            refused = bearer_refusal(request, api_token, setting="API_TOKEN")
            if refused is not None:
                metrics.unauthorized.labels("api").inc()
                return refused
            result = await run_in_threadpool(handler, request)
            return result if isinstance(result, Response) else JSONResponse(result)

        return endpoint

    def list_incidents(request: Request) -> Any:
        try:
            limit = min(max(int(request.query_params.get("limit", "100")), 1), 500)
            offset = max(int(request.query_params.get("offset", "0")), 0)
        except ValueError:
            return JSONResponse(
                {"error": "limit and offset must be whole numbers"}, status_code=400
            )
        with db.read() as session:
            rows = q.list_incidents(session=session, limit=limit, offset=offset)
            return {
                "incidents": [incident_summary(r) for r in rows],
                "limit": limit,
                "offset": offset,
            }

    def get_incident(request: Request) -> Any:
        raw = request.path_params["incident_id"]
        if not str(raw).isdigit() or int(raw) > 2**62:
            return JSONResponse(
                {"error": f"incident id must be a positive whole number, not {raw!r}"},
                status_code=400,
            )
        with db.read() as session:
            incident = q.get_incident(session=session, incident_id=int(raw))
            if incident is None:
                return JSONResponse({"error": f"no incident {raw}"}, status_code=404)
            return incident_detail(session=session, incident=incident)

    def health(_request: Request) -> Any:
        try:
            with db.read() as session:
                session.execute(text("SELECT 1"))
        except Exception as exc:
            return JSONResponse(
                {"ok": False, "database": f"unreachable: {type(exc).__name__}"}, status_code=503
            )
        return {"ok": True, "database": "ok"}

    async def healthz(request: Request) -> Response:
        result = await run_in_threadpool(health, request)
        return result if isinstance(result, Response) else JSONResponse(result)

    async def prometheus(_request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/api/incidents", api(list_incidents), methods=["GET"]),
        Route("/api/incidents/{incident_id}", api(get_incident), methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", prometheus, methods=["GET"]),
    ]

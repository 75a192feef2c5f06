"""Starlette app. Bolt's sync dispatch runs in a worker thread so the event loop never blocks."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.flows.background import AckGate
from bot.flows.views import incident_detail, incident_summary
from bot.store import incidents as q
from bot.store.db import Database

MAX_SLACK_BODY = 1_000_000  # Slack's payloads are far smaller; anything bigger is not Slack


def build_web_app(
    *, db: Database, bolt: App | None, api_token: str | None, gate: AckGate | None = None
) -> Starlette:
    gate = gate or AckGate()

    registry = CollectorRegistry()
    slack_requests = Counter(
        "incidentbot_slack_requests", "Slack requests by HTTP status", ["status"], registry=registry
    )
    api_denied = Counter(
        "incidentbot_api_unauthorized",
        "API requests refused for a missing or wrong token",
        registry=registry,
    )

    async def slack_events(request: Request) -> Response:
        if bolt is None:
            return JSONResponse(
                {
                    "error": "Slack over HTTP is off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (Socket Mode needs neither endpoint nor secret)"
                },
                status_code=503,
            )
        body = await request.body()
        if len(body) > MAX_SLACK_BODY:
            slack_requests.labels("413").inc()
            return JSONResponse({"error": "request body too large"}, status_code=413)
        bolt_request = to_bolt_request(request, body)
        with gate.answering():  # work in the background waits while Slack awaits an answer
            bolt_response = await run_in_threadpool(bolt.dispatch, bolt_request)
        slack_requests.labels(str(bolt_response.status)).inc()
        return to_starlette_response(bolt_response)

    def authorized(request: Request) -> JSONResponse | None:
        given = request.headers.get("authorization", "")
        scheme, _, token = given.partition(" ")
        if api_token is None:
            api_denied.inc()
            return JSONResponse(
                {"error": "the API is disabled: set API_TOKEN on the server"}, status_code=401
            )
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.encode(), api_token.encode()
        ):
            api_denied.inc()
            return JSONResponse(
                {"error": "missing or wrong bearer token (Authorization: Bearer $API_TOKEN)"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return None

    def api(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            denied = authorized(request)
            if denied is not None:
                return denied
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
        return {"ok": True, "database": "ok", "slack": bolt is not None}

    async def healthz(request: Request) -> Response:
        result = await run_in_threadpool(health, request)
        return result if isinstance(result, Response) else JSONResponse(result)

    async def metrics(_request: Request) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    routes = [
        Route("/slack/events", slack_events, methods=["POST"]),
        Route("/api/incidents", api(list_incidents), methods=["GET"]),
        Route("/api/incidents/{incident_id}", api(get_incident), methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
    ]
    return Starlette(routes=routes)

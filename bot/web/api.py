"""The JSON API (bearer API_TOKEN), health and Prometheus metrics (bearer METRICS_TOKEN when
set). Wrong bearer tokens are throttled per client address (bot.web.throttle)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.core.catalog import Catalog, default_catalog
from bot.flows.imports import ImportFlows
from bot.flows.ports import Clock, SystemClock
from bot.store import gauges, incident_reads
from bot.store.db import Database
from bot.store.reports import FilterError, metrics_json, mttx_report, parse_filters
from bot.web.common import (
    MAX_JSON_DEPTH,
    BadBody,
    Metrics,
    json_depth,
    parse_id,
    parse_json,
    read_body,
)
from bot.web.incident_json import incident_detail, incident_summary
from bot.web.throttle import Throttle

MAX_OFFSET = 2**62  # past every row; a bigger one overflows the databases' 64-bit integers
MAX_IMPORT_BODY = 10_000_000  # some 20,000 past incidents; split bigger histories
METRICS_FILTERS = ("since", "until", "severity", "service")
JSON_LINES_TYPES = frozenset(
    {
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/x-jsonlines",
        "application/jsonlines",
        "application/json-lines",
    }
)


def routes(
    *,
    db: Database,
    api_token: str | None,
    metrics: Metrics,
    throttle: Throttle,
    catalog: Catalog | None = None,
    clock: Clock | None = None,
    metrics_token: str | None = None,
) -> list[Route]:
    catalog = catalog or default_catalog()
    imports = ImportFlows(db, catalog, clock or SystemClock())

    def api(handler: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            refused = await throttle.bearer(request, api_token, setting="API_TOKEN", endpoint="api")
            if refused is not None:
                return refused
            result = await run_in_threadpool(handler, request)
            return result if isinstance(result, Response) else JSONResponse(result)

        return endpoint

    def list_incidents(request: Request) -> Any:
        try:
            limit = min(max(int(request.query_params.get("limit", "100")), 1), 500)
            offset = min(max(int(request.query_params.get("offset", "0")), 0), MAX_OFFSET)
        except ValueError:
            return JSONResponse(
                {"error": "limit and offset must be whole numbers"}, status_code=400
            )
        with db.read() as session:
            rows = incident_reads.list_summaries(session=session, limit=limit, offset=offset)
        return {
            "incidents": [incident_summary(r) for r in rows],
            "limit": limit,
            "offset": offset,
        }

    def get_incident(request: Request) -> Any:
        raw = request.path_params["incident_id"]
        incident_id = parse_id(str(raw))
        if incident_id is None:
            return JSONResponse(
                {"error": f"incident id must be a positive whole number, not {raw!r}"},
                status_code=400,
            )
        with db.read() as session:
            detail = incident_reads.detail(session=session, incident_id=incident_id)
        if detail is None:
            return JSONResponse({"error": f"no incident {raw}"}, status_code=404)
        return incident_detail(detail)

    def mttx(request: Request) -> Any:
        """GET /api/metrics?since=&until=&severity=&service= — the same JSON as
        `incidentbot report --format json`."""
        params = request.query_params
        unknown = sorted(set(params) - set(METRICS_FILTERS))
        if unknown:
            known = ", ".join(METRICS_FILTERS)
            return JSONResponse(
                {"error": f"unknown filter(s) {', '.join(unknown)}; use {known}"},
                status_code=400,
            )
        try:
            filters = parse_filters(catalog, **{k: params.get(k) or None for k in METRICS_FILTERS})
        except FilterError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        with db.read() as session:
            return metrics_json(
                mttx_report(
                    session=session,
                    since=filters.since,
                    until=filters.until,
                    severity=filters.severity,
                    service=filters.service,
                )
            )

    async def import_incidents(request: Request) -> Response:
        """POST /api/incidents/import: a JSON array (application/json) or JSON lines
        (application/x-ndjson). 200 {"imported", "skipped"}, or 422 {"errors": [{"index",
        "reason"}]} and nothing stored."""
        refused = await throttle.bearer(request, api_token, setting="API_TOKEN", endpoint="api")
        if refused is not None:
            return refused
        kind = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        if kind not in ("application/json", *JSON_LINES_TYPES):
            return JSONResponse(
                {
                    "error": "Content-Type must be application/json (a JSON array) or "
                    "application/x-ndjson (JSON lines)"
                },
                status_code=415,
            )
        try:
            raw = await read_body(request, MAX_IMPORT_BODY)
        except BadBody as bad:
            return bad.response()
        origin = "POST /api/incidents/import"
        if kind == "application/json":
            try:
                rows = parse_json(raw)  # 400 when not JSON at all, or nested too deep
            except BadBody as bad:
                return bad.response()
            if not isinstance(rows, list):
                return JSONResponse(
                    {"error": "expected a JSON array of incidents"}, status_code=400
                )
            outcome = await run_in_threadpool(imports.import_rows, rows, origin=origin)
        else:
            try:
                body = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return JSONResponse({"error": f"body is not UTF-8: {exc}"}, status_code=400)
            if any(json_depth(line) > MAX_JSON_DEPTH for line in body.splitlines()):
                return JSONResponse(
                    {"error": f"JSON nested deeper than {MAX_JSON_DEPTH} levels"}, status_code=400
                )
            outcome = await run_in_threadpool(imports.import_text, body, origin=origin, lines=True)
        if not outcome.ok:
            return JSONResponse({"errors": [e.as_json() for e in outcome.errors]}, status_code=422)
        return JSONResponse({"imported": outcome.imported, "skipped": outcome.skipped})

    def health(_request: Request) -> Any:
        try:
            with db.read() as session:
                gauges.ping(session=session)
        except Exception as exc:
            return JSONResponse(
                {"ok": False, "database": f"unreachable: {type(exc).__name__}"}, status_code=503
            )
        return {"ok": True, "database": "ok"}

    async def healthz(request: Request) -> Response:
        result = await run_in_threadpool(health, request)
        return result if isinstance(result, Response) else JSONResponse(result)

    async def prometheus(request: Request) -> Response:
        if metrics_token is not None:
            refused = await throttle.bearer(
                request, metrics_token, setting="METRICS_TOKEN", endpoint="metrics"
            )
            if refused is not None:
                return refused
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/api/incidents", api(list_incidents), methods=["GET"]),
        Route("/api/incidents/import", import_incidents, methods=["POST"]),
        Route("/api/incidents/{incident_id}", api(get_incident), methods=["GET"]),
        Route("/api/metrics", api(mttx), methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", prometheus, methods=["GET"]),
    ]

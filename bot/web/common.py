"""Shared pieces of the HTTP layer: metrics, bearer tokens, bounded JSON bodies."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.requests import Request
from starlette.responses import JSONResponse

MAX_JSON_DEPTH = 32


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.slack_requests = Counter(
            "incidentbot_slack_requests", "Slack requests by HTTP status", ["status"], registry=r
        )
        self.unauthorized = Counter(
            "incidentbot_unauthorized_requests",
            "Requests refused for a missing or wrong credential",
            ["endpoint"],
            registry=r,
        )
        self.webhooks = Counter(
            "incidentbot_webhooks",
            "Webhook deliveries by source and HTTP status",
            ["source", "status"],
            registry=r,
        )
        self.webhook_seconds = Histogram(
            "incidentbot_webhook_seconds", "Time to answer a webhook", ["source"], registry=r
        )


def bearer_refusal(request: Request, expected: str | None, *, setting: str) -> JSONResponse | None:
    """None when the request carries `Authorization: Bearer <expected>` (compared in constant time)."""
    if expected is None:
        return JSONResponse({"error": f"disabled: set {setting} on the server"}, status_code=401)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode(), expected.encode()
    ):
        return JSONResponse(
            {"error": f"missing or wrong bearer token (Authorization: Bearer ${setting})"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return None


class BadBody(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.reason}, status_code=self.status)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refusing more than `limit` bytes without reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BadBody(413, f"body of {declared} bytes is over the {limit}-byte limit")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadBody(413, f"body is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(raw: bytes) -> Any:
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadBody(400, f"body is not valid JSON: {exc}") from exc
    if _depth(data) > MAX_JSON_DEPTH:
        raise BadBody(400, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return data


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_JSON_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level

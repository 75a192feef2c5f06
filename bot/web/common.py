"""Shared pieces of the HTTP layer: metrics, bearer tokens, bounded JSON bodies."""

from __future__ import annotations

import hmac
import json
import math
import re
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
        self.throttled = Counter(
            "incidentbot_throttled_requests",
            "Requests answered 429: too many wrong credentials from the client's address",
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


MAX_ID = 2**31 - 1  # ids are INTEGER columns: PostgreSQL refuses a bigger one even to compare


def parse_id(raw: str) -> int | None:
    """An id from a URL: ASCII digits (`"²".isdigit()` holds, but int() refuses it), at most
    MAX_ID; None for anything else."""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 10 or int(raw) > MAX_ID:
        return None
    return int(raw)


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


def parse_json(raw: bytes | str) -> Any:
    """The JSON value of a body, or BadBody(400) with the reason: not UTF-8, not JSON (NaN and
    Infinity are not JSON either), a number too long to convert, or nested deeper than
    MAX_JSON_DEPTH. The depth is checked on the text before parsing: Python's parser recurses,
    and a body of a few thousand `[` would otherwise exhaust the stack."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise BadBody(400, f"body is not UTF-8: {exc}") from exc
    if json_depth(text) > MAX_JSON_DEPTH:
        raise BadBody(400, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(text, parse_constant=_not_json, parse_float=_finite)
    except ValueError as exc:  # JSONDecodeError, and "Exceeds the limit (4300 digits)"
        raise BadBody(400, f"body is not valid JSON: {exc}") from exc


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite(number: str) -> float:
    value = float(number)
    if not math.isfinite(value):
        raise ValueError(f"{number[:40]} is too large a number")
    return value


_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_INNERMOST = re.compile(r"[\[{][\]}]")


def json_depth(text: str, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep the arrays and objects of JSON text nest (strings skipped), without parsing it;
    stops counting once past `limit`. Exact for JSON; for malformed text a number at least as
    deep as any prefix a parser would descend before refusing it.

    Every step runs in C, as an alert storm checks every delivery: escaped backslashes and
    quotes go first, so quotes then alternate opening and closing strings and every other
    piece of the text between quotes is outside them; of that only brackets are kept, and
    each pass takes out the innermost pairs: a balanced text is empty after as many passes as
    it is deep."""
    unescaped = text.replace("\\\\", "").replace('\\"', "")
    brackets = _NOT_BRACKETS.sub("", "".join(unescaped.split('"')[::2]))
    passes = 0
    while brackets and passes <= limit:
        brackets, taken = _INNERMOST.subn("", brackets)
        if not taken:
            break
        passes += 1
    if not brackets or passes > limit:
        return passes
    return passes + _deepest(brackets, limit - passes)  # malformed: an upper bound


def _deepest(brackets: str, limit: int) -> int:
    depth = deepest = 0
    for char in brackets:
        if char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        else:
            depth -= 1
    return deepest

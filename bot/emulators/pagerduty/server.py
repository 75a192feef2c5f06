"""HTTPS plumbing: one TLS server for REST API v2 and Events API v2, authentication, faults,
rate limits, latency and the call record.
"""

from __future__ import annotations

import json
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from ..common.faults import Verdict
from ..common.server import Answer, Handler, HttpApi, LoopbackServer, Request, json_or_none
from . import events_api, rest, rest_incidents  # noqa: F401  (registers the incident routes)
from .faults import Fault, FaultBook, RateLimiter
from .records import JSON
from .state import Account, ApiError, invalid, not_found

ENQUEUE = "POST /v2/enqueue"
INTERNAL_ERROR = {
    "error": {
        "message": "An internal error has occurred. PagerDuty team has been notified.",
        "code": 2000,
    }
}
EVENTS_INTERNAL_ERROR = {"status": "error", "message": "Internal Server Error"}
RATE_LIMITED = {"error": {"message": "Rate Limit Exceeded", "code": 2020}}
EVENTS_RATE_LIMITED = {"status": "throttle event", "message": "Request Limit Exceeded"}
UNAUTHORIZED = {"error": {"message": "Authentication failed", "code": 2006}}


@dataclass
class PagerDutyCall:
    """One request the emulator received."""

    method: str
    path: str
    route: str  # "PUT /incidents/{id}", "POST /v2/enqueue", or "GET /nowhere" when unknown
    params: dict[str, str]
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    json: Any
    status: int
    response: Any
    time: float
    body: str = ""
    fault: Fault | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def from_email(self) -> str | None:
        return self.headers.get("from")


class _Server(LoopbackServer):
    def __init__(self, address: tuple[str, int], api: ApiServer, ctx: ssl.SSLContext) -> None:
        self.tls = ctx
        super().__init__(address, api, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """The TLS handshake happens here, in the connection's thread, not in accept()."""
        raw: socket.socket = request
        raw.settimeout(10)
        try:
            conn = self.tls.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            return  # e.g. a client that does not trust our CA
        try:
            conn.settimeout(None)
            _Handler(conn, client_address, self)
        finally:
            conn.close()


class _Handler(Handler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API (one TLS handshake)
    disable_nagle_algorithm = True  # headers and body are separate writes
    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = Handler.serve


class ApiServer(HttpApi[PagerDutyCall, Fault, RateLimiter]):
    thread_name = "pagerduty-emulator"

    def __init__(
        self,
        *,
        acct: Account,
        lock: threading.RLock,
        api_token: str,
        host: str,
        port: int,
        tls: Callable[[], ssl.SSLContext],
        after_change: Callable[[], None],
    ) -> None:
        super().__init__(lock=lock, host=host, port=port, faults=FaultBook(), limiter=RateLimiter())
        self.acct = acct
        self.api_token = api_token
        self.tls = tls
        self.after_change = after_change

    def make_server(self, address: tuple[str, int]) -> LoopbackServer:
        return _Server(address, self, self.tls())

    # ------------------------------------------------------------- requests
    def answer(self, request: Request) -> tuple[Answer, PagerDutyCall]:
        raw, headers = request.raw, request.headers
        query = parse_qs(request.query, keep_blank_values=True)
        method = request.command
        if method == "POST" and request.path.rstrip("/") == "/v2/enqueue":
            route, params = ENQUEUE, dict[str, str]()
            answer, fault, parsed = self._events(raw)
        else:
            found = rest.match(method, request.path)
            route, params = found if found else (f"{method} {request.path}", {})
            known = route if found else None
            answer, fault, parsed = self._rest(known, params, headers, query, raw)
        call = PagerDutyCall(
            method=method,
            path=request.path,
            route=route,
            params=params,
            query=query,
            headers=headers,
            json=parsed,
            status=answer.status,
            response=json_or_none(answer.body),
            time=time.time(),
            body=answer.body,
            fault=fault,
        )
        return answer, call

    def before_reply(self) -> None:
        self.after_change()  # webhooks go out before the answer (synchronous delivery)

    def _rest(
        self,
        route: str | None,
        params: dict[str, str],
        headers: dict[str, str],
        query: dict[str, list[str]],
        raw: bytes,
    ) -> tuple[Answer, Fault | None, Any]:
        parsed = json_or_none(raw.decode("utf-8", "replace")) if raw else None
        auth = headers.get("authorization", "")
        prefix = "token token="
        token = auth[len(prefix) :].strip() if auth.lower().startswith(prefix) else None
        if token is None or token != self.api_token:
            return _json(401, UNAUTHORIZED), None, parsed
        extra = {"X-Request-Id": secrets.token_hex(12)}
        fault = self.faults.take(route) if route else None
        if self.rate_limits and fault is None:
            verdict = self.limiter.check("rest", token)
            extra.update(_ratelimit_headers(verdict))
            if not verdict.allowed:
                self.pause(None)
                return _json(429, RATE_LIMITED, extra), None, parsed
        answer = _json(404, not_found().body(), extra)
        if route is not None and (fault is None or fault.apply):
            if raw and parsed is None:
                answer = _json(400, invalid("The request body is not valid JSON").body(), extra)
            else:
                answer = self._run(route, params, headers, query, parsed, extra)
        self.pause(fault)
        if fault is not None:
            return _fault_answer(fault, RATE_LIMITED, INTERNAL_ERROR, extra), fault, parsed
        return answer, None, parsed

    def _run(
        self,
        route: str,
        params: dict[str, str],
        headers: dict[str, str],
        query: dict[str, list[str]],
        body: Any,
        extra: dict[str, str],
    ) -> Answer:
        method, pattern = route.split(" ", 1)
        handler = rest.ROUTES[(method, pattern)]
        ctx = rest.Ctx(self.acct, params, query, body, headers)
        with self.lock:
            try:
                status, data = handler(ctx)
            except ApiError as exc:
                return _json(exc.status, exc.body(), extra)
        return _json(status, data, extra)

    def _events(self, raw: bytes) -> tuple[Answer, Fault | None, Any]:
        parsed = json_or_none(raw.decode("utf-8", "replace")) if raw else None
        fault = self.faults.take(ENQUEUE)
        answer: Answer | None = None
        if fault is None or fault.apply:
            answer = self._enqueue(raw, limited=fault is None)
        self.pause(fault)
        if fault is not None:
            return (
                _fault_answer(fault, EVENTS_RATE_LIMITED, EVENTS_INTERNAL_ERROR, {}),
                fault,
                parsed,
            )
        assert answer is not None
        return answer, None, parsed

    def _enqueue(self, raw: bytes, *, limited: bool) -> Answer:
        try:
            event = events_api.parse(raw)
            with self.lock:
                integration = events_api.validate(self.acct, event)
            throttled = limited and self.rate_limits
            if throttled and not self.limiter.check("events", integration.key).allowed:
                return _json(429, EVENTS_RATE_LIMITED)
            with self.lock:
                return _json(202, events_api.apply(self.acct, integration, event))
        except events_api.EventError as exc:
            return _json(exc.status, exc.body)


def _json(status: int, data: JSON, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, json.dumps(data), dict(headers or {}))


def _ratelimit_headers(verdict: Verdict) -> dict[str, str]:
    return {
        "ratelimit-limit": str(verdict.limit),
        "ratelimit-remaining": str(verdict.remaining),
        "ratelimit-reset": str(verdict.reset_s),
    }


def _fault_answer(fault: Fault, limited: JSON, internal: JSON, extra: dict[str, str]) -> Answer:
    if fault.status == 0:
        return Answer(0, "", drop=True)
    if fault.body is not None:
        return Answer(fault.status, fault.body, dict(extra))
    if fault.status == 429:
        return _json(429, limited, extra)
    if fault.status >= 500:
        return _json(fault.status, internal, extra)
    return _json(fault.status, {"error": {"message": "Fault injected", "code": 2000}}, extra)

"""HTTP plumbing of the Opsgenie emulator: ``Authorization: GenieKey <key>``, faults, rate limits
(429 with Opsgenie's body and ``X-RateLimit-*`` headers), latency and the call record."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from ..common import faults as shared
from ..common.faults import Limit, TokenBuckets
from ..common.server import Answer, Handler, HttpApi, LoopbackServer, Request, json_or_none
from . import api
from .state import JSON, Account, ApiError

UNAUTHORIZED = "Could not authenticate"
RATE_LIMITED = "You are making too many requests! To avoid errors, we recommend you limit requests."
INTERNAL_ERROR = "Internal Server Error"
# Opsgenie's limits depend on the plan and are not published as one figure; these are the
# emulator's defaults per API key and domain (token buckets, as Opsgenie's "Rate Limiting" says)
DEFAULT_PER_MINUTE = 600
CONTROL = "/_control/"  # POST /_control/<Action> {"alias", "user", "at"?, "note"?, "owner"?}


Fault = shared.RouteFault
FaultBook = shared.RouteFaultBook


class RateLimiter(TokenBuckets):
    """One bucket per API key and domain (``alert``, ``schedule-oncalls``, ``configuration``)."""

    def __init__(self) -> None:
        super().__init__({})

    def default_limit(self, scope: str) -> Limit:
        return Limit.per_minute(DEFAULT_PER_MINUTE, per_key=True)

    def set_limit(self, scope: str, *, per_minute: float, burst: int | None = None) -> None:
        self._set(scope, Limit.per_minute(per_minute, burst, per_key=True))


@dataclass
class OpsgenieCall:
    method: str
    path: str
    route: str
    params: dict[str, str]
    query: dict[str, list[str]]
    headers: dict[str, str]
    json: Any
    status: int
    response: Any
    time: float
    fault: Fault | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class _Handler(Handler):
    protocol_version = "HTTP/1.1"
    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = Handler.serve


def _answer(status: int, data: JSON, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, json.dumps(data), dict(headers or {}))


def _error(
    status: int,
    message: str,
    errors: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Answer:
    body: JSON = {"message": message}
    if errors:
        body["errors"] = errors
    body |= {"took": 0.001, "requestId": str(uuid.uuid4())}
    return _answer(status, body, headers)


class ApiServer(HttpApi[OpsgenieCall, Fault, RateLimiter]):
    thread_name = "opsgenie-emulator"

    def __init__(
        self,
        *,
        acct: Account,
        lock: threading.RLock,
        api_key: str,
        host: str,
        port: int,
        after_change: Callable[[], None],
        control: Callable[[str, Any], tuple[int, JSON]],
    ) -> None:
        super().__init__(lock=lock, host=host, port=port, faults=FaultBook(), limiter=RateLimiter())
        self.acct = acct
        self.api_key = api_key
        self.after_change = after_change
        self.control = control

    def make_server(self, address: tuple[str, int]) -> LoopbackServer:
        return LoopbackServer(address, self, _Handler)

    def before_reply(self) -> None:
        self.after_change()  # webhooks go out before the answer (synchronous delivery)

    def answer(self, request: Request) -> tuple[Answer, OpsgenieCall | None]:
        query = parse_qs(request.query, keep_blank_values=True)
        parsed = json_or_none(request.raw) if request.raw else None
        if request.command == "POST" and request.path.startswith(CONTROL):
            # the humans in Opsgenie's app, for a run from the command line (not recorded)
            return _answer(*self.control(request.path[len(CONTROL) :], parsed)), None
        found = api.match(request.command, request.path)
        route, params = found if found else (f"{request.command} {request.path}", {})
        answer, fault = self._answer(found is not None, route, params, query, request, parsed)
        call = OpsgenieCall(
            request.command,
            request.path,
            route,
            params,
            query,
            request.headers,
            parsed,
            answer.status,
            json_or_none(answer.body),
            time.time(),
            fault,
        )
        return answer, call

    def _answer(
        self,
        known: bool,
        route: str,
        params: dict[str, str],
        query: dict[str, list[str]],
        request: Request,
        parsed: Any,
    ) -> tuple[Answer, Fault | None]:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "geniekey" or key.strip() != self.api_key:
            return _error(401, UNAUTHORIZED), None
        fault = self.faults.take(route) if known else None
        if self.rate_limits and fault is None:
            verdict = self.limiter.take(api.domain(route), key.strip())
            if not verdict.allowed:
                return _error(
                    429,
                    RATE_LIMITED,
                    headers={
                        "X-RateLimit-State": "THROTTLED",
                        "X-RateLimit-Reason": api.domain(route).upper(),
                        "X-RateLimit-Period-In-Sec": "60",
                    },
                ), None
        answer = _error(404, "Could not find the requested resource.")
        if known and (fault is None or fault.apply):
            if request.raw and parsed is None:
                answer = _error(400, "Could not parse the request body.")
            else:
                answer = self._run(route, params, query, parsed)
        self.pause(fault)
        if fault is None:
            return answer, None
        if fault.status == 0:
            return Answer(0, "", drop=True), fault
        if fault.body is not None:
            return Answer(fault.status, fault.body), fault
        message = RATE_LIMITED if fault.status == 429 else INTERNAL_ERROR
        return _error(fault.status, message), fault

    def _run(
        self, route: str, params: dict[str, str], query: dict[str, list[str]], body: Any
    ) -> Answer:
        method, pattern = route.split(" ", 1)
        handler = api.ROUTES[(method, pattern)]
        with self.lock:
            try:
                status, data = handler(api.Ctx(self.acct, params, query, body))
            except ApiError as exc:
                return _error(exc.status, exc.message, exc.errors)
        data |= {"took": 0.002, "requestId": data.get("requestId") or str(uuid.uuid4())}
        return _answer(status, data)

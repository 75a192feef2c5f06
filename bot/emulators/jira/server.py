"""HTTPS plumbing: one TLS server for the REST API, authentication (Cloud: Basic email + API
token; Server/DC: Bearer personal access token or Basic username + password), faults, rate
limits, latency and the call record."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote

from ..common.faults import Verdict
from ..common.server import Answer, Handler, HttpApi, LoopbackServer, Request, json_or_none
from . import rest, rest_issues, rest_links, rest_meta, rest_search, service_desk  # noqa: F401  (registers their routes)
from .faults import Fault, FaultBook, RateLimiter
from .records import User
from .state import ApiError, Site

CLIENT_MUST_AUTHENTICATE = "Client must be authenticated to access this resource."
RATE_LIMITED = "Rate limit exceeded."


@dataclass
class JiraCall:
    """One request the emulator received."""

    method: str
    path: str
    route: str  # "POST issue", "GET issue/{issueIdOrKey}", "GET /rest/auth/1/session", or
    # "<METHOD> <path>" when nothing matched
    version: str | None  # "2", "3", "latest"; None outside /rest/api
    params: dict[str, str]
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    json: Any
    status: int
    response: Any
    time: float
    user: str | None  # the authenticated user's name
    body: str = ""
    fault: Fault | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def auth_scheme(self) -> str | None:
        """``"Basic"``, ``"Bearer"`` or None (no Authorization header)."""
        auth = self.headers.get("authorization", "").strip()
        return auth.split(" ", 1)[0].capitalize() if auth else None

    @property
    def basic_login(self) -> str | None:
        """The user name (Cloud: the email) of a Basic Authorization header."""
        login = _basic(self.headers.get("authorization", ""))
        return login[0] if login else None


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    login, sep, secret = decoded.partition(":")
    return (login, secret) if sep else None


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
    do_GET = do_POST = do_PUT = do_DELETE = Handler.serve


class ApiServer(HttpApi[JiraCall, Fault, RateLimiter]):
    thread_name = "jira-emulator"

    def __init__(
        self,
        *,
        site: Site,
        lock: threading.RLock,
        host: str,
        port: int,
        tls: Callable[[], ssl.SSLContext],
    ) -> None:
        book = FaultBook()
        super().__init__(lock=lock, host=host, port=port, faults=book, limiter=RateLimiter())
        self.book = book  # the same queue, with its request matching
        self.site = site
        self.tls = tls
        self._requests = 0

    def make_server(self, address: tuple[str, int]) -> LoopbackServer:
        return _Server(address, self, self.tls())

    # ------------------------------------------------------------- requests
    def answer(self, request: Request) -> tuple[Answer, JiraCall]:
        query = parse_qs(request.query, keep_blank_values=True)
        found = rest.match(request.command, request.path, cloud=self.site.cloud)
        parsed = json_or_none(request.raw.decode("utf-8", "replace")) if request.raw else None
        answer, fault, user = self._answer(request, found, query, parsed)
        call = JiraCall(
            method=request.command,
            path=request.path,
            route=found.name,
            version=found.version,
            params=found.params,
            query=query,
            headers=request.headers,
            json=parsed,
            status=answer.status,
            response=json_or_none(answer.body) if answer.body else None,
            time=time.time(),
            user=user.name if user else None,
            body=answer.body,
            fault=fault,
        )
        return answer, call

    def _answer(
        self,
        request: Request,
        found: rest.Match,
        query: dict[str, list[str]],
        parsed: Any,
    ) -> tuple[Answer, Fault | None, User | None]:
        headers = self._common_headers()
        auth = request.headers.get("authorization")
        with self.lock:
            user = self._authenticate(auth) if auth else None
        if auth and user is None:
            self.pause(None)
            return self._unauthenticated(headers), None, None
        if user is not None:
            headers["X-Seraph-LoginReason"] = "OK"
            if self.site.cloud:
                headers["X-AACCOUNTID"] = user.account_id
            else:
                headers["X-AUSERNAME"] = user.name
        elif not self.site.cloud:
            headers["X-AUSERNAME"] = "anonymous"
        fault = self.book.take_for(request.command, request.path, found.name)
        if self.rate_limits and fault is None:
            verdict = self.limiter.check(user.name if user else "anonymous")
            headers.update(self._limit_headers(verdict, refused=not verdict.allowed))
            if not verdict.allowed:
                self.pause(None)
                return _json(429, _messages(RATE_LIMITED), headers), None, user
        answer: Answer | None = None
        if fault is None or fault.apply:
            answer = self._run(request, found, query, parsed, user, headers)
        self.pause(fault)
        if fault is not None:
            return self._fault_answer(fault, headers), fault, user
        assert answer is not None
        return answer, None, user

    def _run(
        self,
        request: Request,
        found: rest.Match,
        query: dict[str, list[str]],
        parsed: Any,
        user: User | None,
        headers: dict[str, str],
    ) -> Answer:
        url = f"{self.site.base_url}{request.path}"
        if found.pattern is None:
            if found.other_methods:
                return Answer(405, "", dict(headers))
            return _json(404, {"message": f"null for uri: {url}", "status-code": 404}, headers)
        if user is None and found.name not in rest.ANONYMOUS:
            return _json(401, _messages(rest.NOT_AUTHENTICATED), headers)
        if request.raw and parsed is None:
            return _json(400, _messages(_json_problem(request.raw)), headers)
        method = request.command
        handler = rest.ROUTES[(method, found.pattern)]
        ctx = rest.Ctx(
            site=self.site,
            user=user,
            version=found.version or "latest",
            params=found.params,
            query=query,
            body=parsed,
            url=url,
            headers=request.headers,
        )
        with self.lock:
            try:
                status, data = handler(ctx)
            except ApiError as exc:
                headers.update(exc.headers)
                return _json(exc.status, exc.body(), headers)
        if data is None:
            return Answer(status, "", dict(headers))
        return _json(status, data, headers)

    # ------------------------------------------------------------- auth
    def _authenticate(self, header: str) -> User | None:
        scheme, _, value = header.strip().partition(" ")
        if scheme.lower() == "bearer":
            user = self.site.authenticate_bearer(value.strip())
        else:
            login = _basic(header)
            user = self.site.authenticate_basic(*login) if login else None
        return user if user is not None and user.active else None

    def _unauthenticated(self, headers: dict[str, str]) -> Answer:
        headers["X-Seraph-LoginReason"] = "AUTHENTICATED_FAILED"
        headers["WWW-Authenticate"] = f'OAuth realm="{quote(self.site.base_url, safe="")}"'
        if self.site.cloud:
            body = {"message": CLIENT_MUST_AUTHENTICATE, "status-code": 401}
            return _json(401, body, headers)
        return _json(401, _messages(rest.NOT_AUTHENTICATED), headers)

    # ----------------------------------------------------- headers, faults
    def _common_headers(self) -> dict[str, str]:
        with self.lock:
            self._requests += 1
            number = self._requests
        return {
            "X-AREQUESTID": f"{number}x{int(time.time()) % 100000}x1",
            "Cache-Control": "no-cache, no-store, no-transform",
            "X-Content-Type-Options": "nosniff",
        }

    def _limit_headers(
        self, verdict: Verdict, *, refused: bool, retry_after: int = 0
    ) -> dict[str, str]:
        """Data Center sends its limiter's headers on every answer; Cloud on refusals (and
        ``X-RateLimit-NearLimit`` when less than a fifth of the budget is left)."""
        wait = max(retry_after, verdict.reset_s, 1) if refused else 0
        if self.site.cloud:
            out: dict[str, str] = {}
            if refused:
                reset = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait)
                out.update(
                    {
                        "Retry-After": str(wait),
                        "X-RateLimit-Limit": str(verdict.limit),
                        "X-RateLimit-Remaining": str(verdict.remaining),
                        "X-RateLimit-Reset": reset.strftime("%Y-%m-%dT%H:%MZ"),
                        "RateLimit-Reason": "jira-burst-based",
                    }
                )
            if refused or verdict.remaining < verdict.limit / 5:
                out["X-RateLimit-NearLimit"] = "true"
            return out
        return {
            "X-RateLimit-Limit": str(verdict.limit),
            "X-RateLimit-Remaining": str(verdict.remaining),
            "X-RateLimit-FillRate": str(max(1, round(self.limiter.per_minute))),
            "X-RateLimit-Interval-Seconds": "60",
            "Retry-After": str(wait),
        }

    def _fault_answer(self, fault: Fault, headers: dict[str, str]) -> Answer:
        if fault.status == 0:
            return Answer(0, "", drop=True)
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        if fault.status == 429:
            retry = fault.retry_after if fault.retry_after is not None else 1
            verdict = Verdict(False, self.limiter.capacity, 0, retry)
            headers.update(self._limit_headers(verdict, refused=True, retry_after=retry))
            headers["Retry-After"] = str(retry)
        if fault.body is not None:
            return Answer(fault.status, fault.body, dict(headers))
        if fault.status == 429:
            return _json(429, _messages(RATE_LIMITED), headers)
        if fault.status == 503:
            return _json(503, _messages("Service Unavailable"), headers)
        if fault.status >= 500:
            return _json(fault.status, _messages("Internal server error"), headers)
        return _json(fault.status, _messages(f"Fault injected: {fault.status}"), headers)


def _messages(*messages: str) -> dict[str, Any]:
    return {"errorMessages": list(messages), "errors": {}}


def _json(status: int, data: Any, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, json.dumps(data), dict(headers or {}))


def _json_problem(raw: bytes) -> str:
    try:
        json.loads(raw)
    except ValueError as exc:
        return f"Unexpected character in the request body: {exc}"
    return "The request body is not valid JSON."

"""HTTP plumbing of the emulator: request decoding, auth, faults, rate limits, call record.

Serves ``POST|GET /api/<method>`` (the Web API) and ``POST /response/<id>`` (response_url).
"""

from __future__ import annotations

import contextlib
import copy
import email.parser
import email.policy
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import api_chat, api_conversations, api_views  # noqa: F401  (register handlers)
from .faults import Fault, FaultBook, RateLimiter
from .records import JSON
from .state import Workspace
from .webapi import HANDLERS, ApiContext, ApiError, Params

JSON_FIELDS = ("blocks", "attachments", "view", "metadata", "unfurls", "user_auth_blocks")
ERROR_PAGE = (
    "<html><head><title>Slack</title></head><body><h1>{status}</h1>"
    "<p>Slack is having trouble. Please try again.</p></body></html>"
)
ResponseUrlHook = Callable[[str, Any], tuple[int, JSON]]


@dataclass
class SlackCall:
    """One request the emulator received (Web API or response_url)."""

    method: str
    params: dict[str, Any]
    token: str | None
    status: int
    response: dict[str, Any]
    time: float
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    fault: Fault | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        value = self.response.get("error")
        return str(value) if value is not None else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], api: ApiServer) -> None:
        self.api = api
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that time out and hang up are expected here; stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        self.server.api.handle(self)

    def do_GET(self) -> None:
        self.server.api.handle(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _parse_multipart(content_type: str, raw: bytes) -> dict[str, Any]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    params: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        params[name] = data if part.get_filename() else data.decode("utf-8", "replace")
    return params


def decode_request(
    headers: dict[str, str], query: str, raw: bytes
) -> tuple[dict[str, Any], str | None, str | None]:
    """(params with JSON-string fields parsed, token, body error) like Slack reads requests."""
    content_type = headers.get("content-type", "")
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    body_error = None
    if content_type.startswith("application/json"):
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            data = None
        if isinstance(data, dict):
            data.pop("token", None)  # Slack ignores tokens inside JSON bodies
            params.update(data)
        else:
            body_error = "invalid_json"
    elif content_type.startswith("multipart/form-data"):
        params.update(_parse_multipart(content_type, raw))
    elif raw:
        params.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    form_token = params.pop("token", None)
    auth = headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else form_token
    for key in JSON_FIELDS:
        if isinstance(params.get(key), str):
            # an undecodable value stays a string; the handler reports it like Slack does
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])
    return params, (str(token) if token else None), body_error


class ApiServer:
    def __init__(
        self,
        *,
        ws: Workspace,
        lock: threading.RLock,
        bot_token: str,
        scopes: frozenset[str],
        host: str,
        port: int,
        on_response_url: ResponseUrlHook,
    ) -> None:
        self.ws = ws
        self.lock = lock
        self.bot_token = bot_token
        self.scopes = scopes
        self.host = host
        self.requested_port = port
        self.on_response_url = on_response_url
        self.faults = FaultBook()
        self.limiter = RateLimiter()
        self.rate_limits = False
        self.latency = 0.0
        self.calls: list[SlackCall] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return int(self._server.server_address[1])

    def start(self) -> None:
        if self._server is not None:
            return
        self._server = _Server((self.host, self.requested_port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="slack-emulator",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # ------------------------------------------------------------- requests
    def handle(self, req: _Handler) -> None:
        split = urlsplit(req.path)
        raw = _read_body(req)
        headers = {k.lower(): v for k, v in req.headers.items()}
        if split.path.startswith("/api/"):
            method = split.path[len("/api/") :].strip("/")
            status, extra, body, call = self._api_call(method, headers, split.query, raw)
        elif split.path.startswith("/response/") and req.command == "POST":
            rid = split.path[len("/response/") :]
            status, extra, body, call = self._response_url(rid, headers, raw)
        else:
            status, extra, body, call = (
                404,
                {},
                json.dumps({"ok": False, "error": "not_found"}),
                None,
            )
        if call is not None:  # recorded before answering: a client never sees an unrecorded call
            with self.lock:
                self.calls.append(call)
        self._reply(req, status, extra, body)

    def _reply(self, req: _Handler, status: int, extra: dict[str, str], body: str) -> None:
        data = body.encode()
        try:
            req.send_response(status)
            content_type = "text/html" if body.startswith("<") else "application/json"
            req.send_header("Content-Type", f"{content_type}; charset=utf-8")
            req.send_header("Content-Length", str(len(data)))
            req.send_header("X-Slack-Req-Id", secrets.token_hex(16))
            for key, value in extra.items():
                req.send_header(key, value)
            req.end_headers()
            req.wfile.write(data)
        except OSError:
            pass  # the client gave up (timeout tests)

    def _api_call(
        self, method: str, headers: dict[str, str], query: str, raw: bytes
    ) -> tuple[int, dict[str, str], str, SlackCall]:
        params, token, body_error = decode_request(headers, query, raw)
        fault: Fault | None = None
        extra = {"X-OAuth-Scopes": ",".join(sorted(self.scopes))}
        status = 200
        response: JSON | None = None
        if method not in HANDLERS:
            response = {"ok": False, "error": "unknown_method", "req_method": method}
        elif body_error:
            response = {"ok": False, "error": body_error}
        elif token is None:
            response = {"ok": False, "error": "not_authed"}
        elif token != self.bot_token:
            response = {"ok": False, "error": "invalid_auth"}
        else:
            fault = self.faults.take(method)
            retry_after = None
            if self.rate_limits and fault is None:
                retry_after = self.limiter.check(method, _channel_key(params))
            if retry_after is not None:
                status, response = 429, {"ok": False, "error": "ratelimited"}
                extra["Retry-After"] = str(retry_after)
            elif fault is None or fault.apply or fault.passthrough:
                response = self._run(method, params)
        delay = self.latency + (fault.delay if fault else 0.0)
        if delay > 0:
            time.sleep(delay)
        body: str | None = None
        if fault is not None and not fault.passthrough:
            status, response, body = _fault_answer(fault, extra)
        response = response or {}
        call = SlackCall(
            method=method,
            params=copy.deepcopy(params),
            token=token,
            status=status,
            response=response,
            time=time.time(),
            content_type=headers.get("content-type", ""),
            headers=headers,
            fault=fault,
        )
        call.body = body if body is not None else json.dumps(response)
        return status, extra, call.body, call

    def _run(self, method: str, params: dict[str, Any]) -> JSON:
        ctx = ApiContext(ws=self.ws, scopes=self.scopes)
        with self.lock:
            try:
                result = HANDLERS[method](ctx, Params(params))
            except ApiError as exc:
                return {"ok": False, "error": exc.error, **exc.extra}
        return {"ok": True, **result}

    def _response_url(
        self, rid: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], str, SlackCall]:
        try:
            payload: Any = json.loads(raw)
        except ValueError:
            payload = None
        with self.lock:
            status, response = self.on_response_url(rid, payload)
        time.sleep(self.latency)
        body = json.dumps(response)
        call = SlackCall(
            method="response_url",
            params=copy.deepcopy(payload) if isinstance(payload, dict) else {},
            token=None,
            status=status,
            response=response,
            time=time.time(),
            content_type=headers.get("content-type", ""),
            headers=headers,
            body=body,
        )
        return status, {}, body, call


def _read_body(req: _Handler) -> bytes:
    if req.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int(req.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                req.rfile.readline()
                return b"".join(chunks)
            chunks.append(req.rfile.read(size))
            req.rfile.readline()
    length = int(req.headers.get("Content-Length") or 0)
    return req.rfile.read(length) if length > 0 else b""


def _channel_key(params: dict[str, Any]) -> str | None:
    channel = params.get("channel")
    return str(channel) if channel is not None else None


def _fault_answer(fault: Fault, extra: dict[str, str]) -> tuple[int, JSON, str | None]:
    if fault.status == 429:
        extra["Retry-After"] = str(1 if fault.retry_after is None else fault.retry_after)
        return 429, {"ok": False, "error": "ratelimited"}, None
    if fault.status == 200:
        return 200, {"ok": False, "error": fault.error or "internal_error"}, None
    if fault.retry_after is not None:
        extra["Retry-After"] = str(fault.retry_after)
    body = fault.body if fault.body is not None else ERROR_PAGE.format(status=fault.status)
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = {}
    return fault.status, parsed if isinstance(parsed, dict) else {}, body

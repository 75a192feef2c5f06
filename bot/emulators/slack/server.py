"""HTTP plumbing of the emulator: request decoding, auth, faults, rate limits, call record.

Serves ``POST|GET /api/<method>`` (the Web API), ``POST /response/<id>`` (response_url) and
``/_emulator/…`` (the control API, ``control.py``).
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
from typing import Any
from urllib.parse import parse_qsl

from ..common.server import Answer, Handler, HttpApi, LoopbackServer, Request, json_or_none
from . import api_chat, api_conversations, api_views  # noqa: F401  (register handlers)
from .faults import Fault, FaultBook, RateLimiter
from .records import JSON
from .socket_mode import connections_open
from .socket_server import SocketModeServer
from .state import Workspace
from .webapi import HANDLERS, ApiContext, ApiError, Params

JSON_FIELDS = ("blocks", "attachments", "view", "metadata", "unfurls", "user_auth_blocks")
ERROR_PAGE = (
    "<html><head><title>Slack</title></head><body><h1>{status}</h1>"
    "<p>Slack is having trouble. Please try again.</p></body></html>"
)
ResponseUrlHook = Callable[[str, Any], tuple[int, JSON]]
ControlHook = Callable[[Request], Answer]


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


class _Handler(Handler):
    do_GET = do_POST = Handler.serve


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


class ApiServer(HttpApi[SlackCall, Fault, RateLimiter]):
    thread_name = "slack-emulator"

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
        super().__init__(lock=lock, host=host, port=port, faults=FaultBook(), limiter=RateLimiter())
        self.ws = ws
        self.bot_token = bot_token
        self.scopes = scopes
        self.on_response_url = on_response_url
        self.socket: SocketModeServer | None = None
        self.control: ControlHook | None = None  # /_emulator/ (control.py); not recorded

    def make_server(self, address: tuple[str, int]) -> LoopbackServer:
        return LoopbackServer(address, self, _Handler)

    # ------------------------------------------------------------- requests
    def answer(self, request: Request) -> tuple[Answer, SlackCall | None]:
        if request.path.startswith("/api/"):
            return self._api_call(request.path[len("/api/") :].strip("/"), request)
        if request.path.startswith("/response/") and request.command == "POST":
            return self._response_url(request.path[len("/response/") :], request)
        if request.path.startswith("/_emulator/") and self.control is not None:
            return self.control(request), None
        return Answer(404, json.dumps({"ok": False, "error": "not_found"})), None

    def content_type(self, answer: Answer) -> str:
        return "text/html" if answer.body.startswith("<") else "application/json"

    def answer_headers(self, answer: Answer) -> dict[str, str]:
        return {"X-Slack-Req-Id": secrets.token_hex(16), **answer.headers}

    def _api_call(self, method: str, request: Request) -> tuple[Answer, SlackCall]:
        headers = request.headers
        params, token, body_error = decode_request(headers, request.query, request.raw)
        fault: Fault | None = None
        extra = {"X-OAuth-Scopes": ",".join(sorted(self.scopes))}
        status = 200
        response: JSON | None = None
        if method == "apps.connections.open" and self.socket is not None:
            fault = self.faults.take(method)
            if fault is None or fault.apply or fault.passthrough:
                response = connections_open(self.socket, headers, self.bot_token)
        elif method not in HANDLERS:
            response = {"ok": False, "error": "unknown_method", "req_method": method}
        elif body_error:
            response = {"ok": False, "error": body_error}
        elif token is None:
            response = {"ok": False, "error": "not_authed"}
        elif self.socket is not None and self.socket.token_valid(token):
            response = {"ok": False, "error": "not_allowed_token_type"}  # an app-level token
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
        self.pause(fault)
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
        return Answer(status, call.body, extra), call

    def _run(self, method: str, params: dict[str, Any]) -> JSON:
        ctx = ApiContext(ws=self.ws, scopes=self.scopes)
        with self.lock:
            try:
                result = HANDLERS[method](ctx, Params(params))
            except ApiError as exc:
                return {"ok": False, "error": exc.error, **exc.extra}
        return {"ok": True, **result}

    def _response_url(self, rid: str, request: Request) -> tuple[Answer, SlackCall]:
        payload = json_or_none(request.raw)
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
            content_type=request.headers.get("content-type", ""),
            headers=request.headers,
            body=body,
        )
        return Answer(status, body), call


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
    parsed = json_or_none(body)
    return fault.status, parsed if isinstance(parsed, dict) else {}, body

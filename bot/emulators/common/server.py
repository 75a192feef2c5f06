"""The HTTP plumbing both emulators share: a quiet threaded loopback server, the request
handler, reading a request, writing an answer, and the call record kept before answering.

A subclass of :class:`HttpApi` says what a request means (``answer``) and may adjust how it
goes out (``content_type``, ``answer_headers``, ``before_reply``).
"""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Generic, TypeVar
from urllib.parse import urlsplit

from .faults import Delayed, FaultBook, TokenBuckets

CallT = TypeVar("CallT")
FaultT = TypeVar("FaultT", bound=Delayed)
LimiterT = TypeVar("LimiterT", bound=TokenBuckets)


@dataclass(frozen=True)
class Request:
    """One request as read off the wire: ``headers`` with lower-case names, the whole body."""

    command: str
    path: str
    query: str
    headers: dict[str, str]
    raw: bytes

    @classmethod
    def read(cls, req: BaseHTTPRequestHandler) -> Request:
        split = urlsplit(req.path)
        raw = read_body(req)
        headers = {k.lower(): v for k, v in req.headers.items()}
        return cls(req.command, split.path, split.query, headers, raw)


@dataclass
class Answer:
    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # hang up without an answer (a network error)


def read_body(req: BaseHTTPRequestHandler) -> bytes:
    """The request body, ``Content-Length`` or chunked."""
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


def json_or_none(data: str | bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


class LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the stdlib's 5 drops connections of a burst (a 1 s SYN retry)

    def __init__(
        self, address: tuple[str, int], api: HttpApi[Any, Any, Any], handler: type[Handler]
    ) -> None:
        self.api = api
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that time out and hang up are expected here; stay quiet."""


class Handler(BaseHTTPRequestHandler):
    """Hands requests to the server's API; a subclass picks the verbs (``do_GET = serve``)."""

    server: LoopbackServer

    def serve(self) -> None:
        self.server.api.handle(self)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class HttpApi(ABC, Generic[CallT, FaultT, LimiterT]):
    """One emulated API on a background thread: faults, rate limits, latency, call record."""

    thread_name: ClassVar[str] = "emulator"

    def __init__(
        self,
        *,
        lock: threading.RLock,
        host: str,
        port: int,
        faults: FaultBook[FaultT],
        limiter: LimiterT,
    ) -> None:
        self.lock = lock
        self.host = host
        self.requested_port = port
        self.faults = faults
        self.limiter = limiter
        self.rate_limits = False
        self.latency = 0.0
        self.calls: list[CallT] = []
        self._server: LoopbackServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return int(self._server.server_address[1])

    @abstractmethod
    def make_server(self, address: tuple[str, int]) -> LoopbackServer: ...

    def start(self) -> None:
        if self._server is not None:
            return
        self._server = self.make_server((self.host, self.requested_port))
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=self.thread_name,
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
    @abstractmethod
    def answer(self, request: Request) -> tuple[Answer, CallT | None]:
        """The answer to ``request`` and the call to record (None: not recorded)."""

    def handle(self, req: Handler) -> None:
        answer, call = self.answer(Request.read(req))
        if call is not None:  # recorded before answering: a client never sees an unrecorded call
            with self.lock:
                self.calls.append(call)
        self.before_reply()
        self.reply(req, answer)

    def before_reply(self) -> None:
        """Runs once the call is recorded, before the client gets its answer."""

    def pause(self, fault: FaultT | None) -> None:
        """Holds the answer back for the latency plus the fault's own delay."""
        delay = self.latency + (fault.delay if fault else 0.0)
        if delay > 0:
            time.sleep(delay)

    def content_type(self, answer: Answer) -> str:
        return "application/json"

    def answer_headers(self, answer: Answer) -> dict[str, str]:
        """Headers sent after Content-Type and Content-Length."""
        return answer.headers

    def reply(self, req: Handler, answer: Answer) -> None:
        if answer.drop:
            req.close_connection = True
            return
        data = answer.body.encode()
        try:
            req.send_response(answer.status)
            req.send_header("Content-Type", f"{self.content_type(answer)}; charset=utf-8")
            req.send_header("Content-Length", str(len(data)))
            for key, value in self.answer_headers(answer).items():
                req.send_header(key, value)
            req.end_headers()
            req.wfile.write(data)
        except OSError:
            req.close_connection = True  # the client gave up (timeout tests)

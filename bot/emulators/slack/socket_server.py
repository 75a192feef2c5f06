"""Slack's side of Socket Mode: app-level tokens, single-use tickets, the WebSocket links, and
envelopes sent down them until an app acks them.

As documented (docs.slack.dev/apis/events-api/using-socket-mode): ``apps.connections.open``
with an app-level token gives ``wss://…/link/?ticket=…&app_id=…`` (here ``ws://127.0.0.1``);
a ticket opens one connection; Slack greets it with ``hello``; each envelope goes to one of the
app's open connections (up to 10); the app acks ``{"envelope_id", "payload"?}``; ``disconnect``
(``warning``, ``refresh_requested``, ``link_disabled``) asks it to reconnect. Pings are
answered with pongs and sent every ``ping_interval_s``.
"""

from __future__ import annotations

import itertools
import json
import logging
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from .records import JSON

MAX_CONNECTIONS = (
    10  # "Socket Mode allows your app to maintain up to 10 open WebSocket connections"
)
DISCONNECT_REASONS = ("warning", "refresh_requested", "link_disabled")
_quiet = logging.getLogger("bot.emulators.slack.socket")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False


@dataclass
class Link:
    """One open WebSocket connection of the app."""

    id: int
    conn: ServerConnection
    token: str
    opened: float
    ready: bool = False  # hello sent: envelopes may go down it


@dataclass
class Delivery:
    """What became of one envelope (and its redeliveries).

    ``envelopes`` are the frames sent, one per attempt, each with its own ``envelope_id`` (a
    redelivered event gets a new envelope; its ``event_id`` stays). ``acked``: an ack named one
    of them in time; ``payload`` is the ack's ``payload`` (None when it carried none)."""

    envelopes: list[JSON] = field(default_factory=list)
    links: list[int] = field(default_factory=list)
    acked: bool = False
    payload: Any = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)
    lost: bool = False  # the link of the current attempt closed before its ack

    @property
    def envelope_id(self) -> str | None:
        return str(self.envelopes[-1]["envelope_id"]) if self.envelopes else None


class SocketModeServer:
    """The WebSocket side of Socket Mode on 127.0.0.1 (websockets' threaded server)."""

    def __init__(
        self,
        *,
        app_id: str,
        host: str = "127.0.0.1",
        port: int = 0,
        ping_interval_s: float | None = 10.0,
        ticket_ttl_s: float = 30.0,
    ) -> None:
        self.app_id = app_id
        self.host = host
        self.requested_port = port
        self.ping_interval_s = ping_interval_s
        self.ticket_ttl_s = ticket_ttl_s
        self.lock = threading.RLock()
        self.tokens: dict[str, bool] = {}  # app-level token → still valid
        self.tickets: dict[str, tuple[str, float]] = {}  # ticket → (token, issued)
        self._claimed: dict[str, str] = {}  # ticket used by a handshake → its token
        self.links: dict[int, Link] = {}
        self.sent: list[JSON] = []  # every envelope sent, with the link it went down ("link")
        self.acks: list[JSON] = []  # every ack received, with its link and whether it counted
        self.opened_links = 0
        self._pending: dict[str, Delivery] = {}  # envelope_id → its delivery
        self._ids = itertools.count(1)
        self._turn = itertools.count()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self._server is not None:
            return
        self._server = serve(
            self._handle,
            self.host,
            self.requested_port,
            process_request=self._check_ticket,
            compression=None,
            ping_interval=self.ping_interval_s,
            ping_timeout=self.ping_interval_s,
            close_timeout=2,
            logger=_quiet,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="slack-socket-mode", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the Socket Mode server is not started")
        return int(self._server.socket.getsockname()[1])

    # --------------------------------------------------------------- tokens
    def issue_token(self, token: str | None = None) -> str:
        """A new app-level token (``connections:write``) for this app (``token``: that one)."""
        if token is not None and not token.startswith("xapp-"):
            raise ValueError("app-level tokens start with xapp-")
        serial = f"{secrets.randbelow(10**13):013d}-{secrets.token_hex(32)}"
        token = token or f"xapp-1-{self.app_id}-{serial}"
        with self.lock:
            self.tokens[token] = True
        return token

    def revoke_token(self, token: str) -> None:
        """The token stops working; the connections it opened are closed."""
        with self.lock:
            self.tokens[token] = False
            links = [link for link in self.links.values() if link.token == token]
        for link in links:
            link.conn.close()

    def token_valid(self, token: str) -> bool:
        with self.lock:
            return self.tokens.get(token, False)

    def open_ticket(self, token: str, *, debug_reconnects: bool = False) -> str:
        """The URL ``apps.connections.open`` answers: one connection, within ``ticket_ttl_s``."""
        ticket = str(uuid.uuid4())
        with self.lock:
            self.tickets[ticket] = (token, time.monotonic())
        query = f"ticket={ticket}&app_id={self.app_id}"
        return f"ws://127.0.0.1:{self.port}/link/?{query}"

    def _check_ticket(self, conn: ServerConnection, request: Request) -> Response | None:
        split = urlsplit(request.path)
        ticket = (parse_qs(split.query).get("ticket") or [""])[0]
        with self.lock:
            issued = self.tickets.pop(ticket, None)
            fresh = issued is not None and time.monotonic() - issued[1] <= self.ticket_ttl_s
            if split.path.rstrip("/") != "/link" or issued is None or not fresh:
                return conn.respond(HTTPStatus.UNAUTHORIZED, "invalid or used ticket\n")
            if not self.tokens.get(issued[0]) or len(self.links) >= MAX_CONNECTIONS:
                return conn.respond(HTTPStatus.FORBIDDEN, "too_many_websockets\n")
            self._claimed[ticket] = issued[0]
        return None

    # ---------------------------------------------------------- connections
    def _handle(self, conn: ServerConnection) -> None:
        request = conn.request
        query = parse_qs(urlsplit(request.path if request else "").query)
        with self.lock:
            token = self._claimed.pop((query.get("ticket") or [""])[0], "")
            link = Link(next(self._ids), conn, token, time.time())
            self.links[link.id] = link
            self.opened_links += 1
            count = len(self.links)
        debug = (query.get("debug_reconnects") or [""])[0] == "true"
        hello = {
            "type": "hello",
            "num_connections": count,
            "debug_info": {
                "host": f"applink-emu-{link.id}",
                "build_number": 1,
                "approximate_connection_time": 360 if debug else 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }
        try:
            conn.send(json.dumps(hello))
            with self.lock:
                link.ready = True
            for message in conn:
                self._on_message(link, message)
        except ConnectionClosed:
            pass
        finally:
            with self.lock:
                self.links.pop(link.id, None)
                waiting = [d for d in self._pending.values() if d.links[-1:] == [link.id]]
            for delivery in waiting:
                delivery.lost = True
                delivery.done.set()

    def _on_message(self, link: Link, message: str | bytes) -> None:
        try:
            data = json.loads(message)
        except ValueError:
            return
        if not isinstance(data, dict) or not isinstance(data.get("envelope_id"), str):
            return
        envelope_id = data["envelope_id"]
        with self.lock:
            delivery = self._pending.get(envelope_id)  # gone once the delivery gave up
            counted = delivery is not None and not delivery.acked
            self.acks.append({**data, "link": link.id, "counted": counted})
            if delivery is not None and counted:
                delivery.acked, delivery.payload = True, data.get("payload")
                delivery.done.set()

    def ready_links(self) -> list[int]:
        with self.lock:
            return sorted(i for i, link in self.links.items() if link.ready)

    def wait_for_links(self, count: int = 1, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.ready_links()) >= count:
                return True
            time.sleep(0.01)
        return len(self.ready_links()) >= count

    def _pick(self, deadline: float) -> Link | None:
        """The next open connection in turn, waiting for one until ``deadline``."""
        while True:
            with self.lock:
                ready = [self.links[i] for i in sorted(self.links) if self.links[i].ready]
                if ready:
                    return ready[next(self._turn) % len(ready)]
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.01)

    # ------------------------------------------------------------ envelopes
    def deliver(
        self,
        kind: str,
        payload: JSON,
        *,
        accepts_response_payload: bool,
        timeout_s: float,
        attempts: int = 1,
        retry_delay_s: float = 0.0,
        retry: tuple[int, str] | None = None,
    ) -> Delivery:
        """Sends an envelope and waits up to ``timeout_s`` for its ack (for an open connection
        too); unacked, sends it again (a new envelope, ``retry_attempt`` + 1, ``retry_reason``
        "timeout"), ``attempts`` times in all. ``retry`` (events_api only) is the event's own
        retry number and reason; None leaves the fields out."""
        delivery = Delivery()
        for attempt in range(max(1, attempts)):
            if attempt:
                time.sleep(retry_delay_s)
            if delivery.acked:  # an earlier envelope's ack came in the meantime
                break
            envelope: JSON = {
                "envelope_id": str(uuid.uuid4()),
                "payload": payload,
                "type": kind,
                "accepts_response_payload": accepts_response_payload,
            }
            if retry is not None:
                number, reason = retry
                envelope["retry_attempt"] = number + attempt
                envelope["retry_reason"] = "timeout" if attempt else reason
            deadline = time.monotonic() + timeout_s
            link = self._pick(deadline)
            if link is None:
                delivery.error = "dispatch_failed: no Socket Mode connection is open"
                continue
            if self._send(delivery, link, envelope, deadline):
                break
        with self.lock:
            for envelope in delivery.envelopes:
                self._pending.pop(str(envelope["envelope_id"]), None)
            delivery.done.set()
            if delivery.acked:
                delivery.error = None
        return delivery

    def _send(self, delivery: Delivery, link: Link, envelope: JSON, deadline: float) -> bool:
        with self.lock:
            delivery.envelopes.append(envelope)
            delivery.links.append(link.id)
            delivery.lost = False
            delivery.done.clear()
            self._pending[str(envelope["envelope_id"])] = delivery
            self.sent.append({**envelope, "link": link.id})
        try:
            link.conn.send(json.dumps(envelope))
        except ConnectionClosed:
            delivery.error = "dispatch_failed: the Socket Mode connection closed"
            return False
        delivery.done.wait(max(0.0, deadline - time.monotonic()))
        with self.lock:
            if delivery.acked:
                return True
            delivery.error = (
                "dispatch_failed: the Socket Mode connection closed before the ack"
                if delivery.lost
                else "operation_timeout"
            )
        return False

    # ----------------------------------------------------------- disconnect
    def disconnect(
        self, reason: str, *, link_id: int | None = None, close_after_s: float | None = None
    ) -> list[int]:
        """Sends Slack's ``disconnect`` message to one connection (default: every one), which
        then gets no new envelope (acks still count); with ``close_after_s``, the server then
        closes it itself (as Slack does after a warning)."""
        if reason not in DISCONNECT_REASONS:
            raise ValueError(f"Slack sends no disconnect reason {reason!r}")
        with self.lock:
            links = [
                link
                for link in self.links.values()
                if link.ready and (link_id is None or link.id == link_id)
            ]
            for link in links:
                link.ready = False  # told to go: no new envelope goes down it
        for link in links:
            message = {
                "type": "disconnect",
                "reason": reason,
                "debug_info": {"host": f"applink-emu-{link.id}"},
            }
            try:
                link.conn.send(json.dumps(message))
            except ConnectionClosed:
                continue
            if close_after_s is not None:
                timer = threading.Timer(close_after_s, link.conn.close)
                timer.daemon = True
                timer.start()
        return [link.id for link in links]

    def close_link(self, link_id: int) -> None:
        """Drops one connection without a word (a network failure, a Slack host going away)."""
        with self.lock:
            link = self.links.get(link_id)
        if link is not None:
            link.conn.close()

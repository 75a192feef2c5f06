"""Socket Mode on the emulator's Slack side: ``apps.connections.open`` and sending what "Slack"
would POST to a Request URL down the app's WebSocket instead.

An app is in Socket Mode when ``SlackEmulator.socket_mode`` is set, or when no ``bot_url`` is
set and a connection is open. Then ``send_command``, ``click_button``, ``submit_view``,
``send_event`` … send an envelope (``slash_commands``, ``interactive`` or ``events_api``) and
return the same :class:`BotReply` as over HTTP: status 200 and the ack's ``payload`` as the body
when acked in time; status 0 and ``operation_timeout`` (or ``dispatch_failed: …`` when no
connection was open or it closed) when not. Signature knobs do not apply to a socket.

Un-acked ``events_api`` envelopes are sent again, as Slack retries events, with
``retry_attempt`` + 1 and ``retry_reason`` "timeout" (a new ``envelope_id``, the same
``event_id``), ``socket_retries`` times; add ``"slash_commands"`` or ``"interactive"`` to
``socket_redeliver`` to have those redelivered too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from .client_side import SlackSideBase
from .records import JSON
from .socket_server import SocketModeServer
from .transport import BotReply

ACCEPTS_RESPONSE_PAYLOAD = {"slash_commands": True, "interactive": True, "events_api": False}


def connections_open(socket: SocketModeServer, headers: Mapping[str, str], bot_token: str) -> JSON:
    """``apps.connections.open``: the app-level token must come as ``Authorization: Bearer``
    ("passing it as a POST parameter will result in an error")."""
    auth = headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    if not token:
        return {"ok": False, "error": "missing_args"}  # "An app-level token wasn't provided."
    if token == bot_token:
        return {"ok": False, "error": "not_allowed_token_type"}
    if not token.startswith("xapp-") or not socket.token_valid(token):
        return {"ok": False, "error": "invalid_auth"}
    return {"ok": True, "url": socket.open_ticket(token)}


class SocketModeMixin(SlackSideBase):
    """Socket Mode knobs and inspectors of :class:`SlackEmulator`."""

    _socket: SocketModeServer
    socket_mode: bool
    socket_ack_timeout_s: float
    socket_retries: int
    socket_retry_delay_s: float
    socket_redeliver: frozenset[str]
    app_token: str

    def _init_socket_mode(
        self,
        *,
        socket_mode: bool,
        ack_timeout_s: float,
        retries: int = 3,
        redeliver: Iterable[str] = ("events_api",),
        ping_interval_s: float | None = 10.0,
        app_token: str | None = None,
    ) -> None:
        self._socket = SocketModeServer(app_id=self.ws.app_id, ping_interval_s=ping_interval_s)
        self.socket_mode = socket_mode
        self.socket_ack_timeout_s = ack_timeout_s
        self.socket_retries = retries
        self.socket_retry_delay_s = 0.0
        self.socket_redeliver = frozenset(redeliver)
        self.app_token = self._socket.issue_token(app_token)

    # -------------------------------------------------------------- tokens
    def issue_app_token(self, token: str | None = None) -> str:
        """Another app-level token (``xapp-…``, scope ``connections:write``)."""
        return self._socket.issue_token(token)

    def revoke_app_token(self, token: str) -> None:
        """Revokes it: ``apps.connections.open`` answers ``invalid_auth``; its connections close."""
        self._socket.revoke_token(token)

    # --------------------------------------------------------- connections
    def socket_connections(self, *, leaving: bool = False) -> list[int]:
        """Ids of the open connections that got their ``hello``; ``leaving``: with those told
        to disconnect that are still open."""
        if leaving:
            with self._socket.lock:
                return sorted(self._socket.links)
        return self._socket.ready_links()

    def wait_for_socket(self, count: int = 1, timeout: float = 10.0) -> bool:
        """True once ``count`` connections are open."""
        return self._socket.wait_for_links(count, timeout)

    @property
    def socket_connections_opened(self) -> int:
        """How many connections were ever opened."""
        with self._socket.lock:
            return self._socket.opened_links

    def socket_disconnect(
        self,
        reason: str = "refresh_requested",
        *,
        connection: int | None = None,
        close_after_s: float | None = None,
    ) -> list[int]:
        """Sends ``{"type": "disconnect", "reason": …}`` (``warning``, ``refresh_requested`` or
        ``link_disabled``) to one connection or all; the app is expected to open a new one
        through ``apps.connections.open``. ``close_after_s``: Slack then closes the old one."""
        return self._socket.disconnect(reason, link_id=connection, close_after_s=close_after_s)

    def socket_close(self, connection: int) -> None:
        """Drops a connection without a disconnect message."""
        self._socket.close_link(connection)

    @property
    def socket_envelopes(self) -> list[JSON]:
        """Every envelope sent, oldest first, each with the ``link`` it went down."""
        with self._socket.lock:
            return [dict(e) for e in self._socket.sent]

    @property
    def socket_acks(self) -> list[JSON]:
        """Every ack received, with its ``link`` and whether it ``counted`` (in time)."""
        with self._socket.lock:
            return [dict(a) for a in self._socket.acks]

    # ------------------------------------------------------------ delivery
    def _socket_active(self) -> bool:
        return self.socket_mode or (not self.bot_url and bool(self._socket.ready_links()))

    def _send_socket(self, kind: str, payload: JSON, retry: tuple[int, str] | None) -> BotReply:
        attempts = 1 + (self.socket_retries if kind in self.socket_redeliver else 0)
        delivery = self._socket.deliver(
            kind,
            payload,
            accepts_response_payload=ACCEPTS_RESPONSE_PAYLOAD[kind],
            timeout_s=self.socket_ack_timeout_s,
            attempts=attempts,
            retry_delay_s=self.socket_retry_delay_s,
            retry=retry,
        )
        ack: Any = delivery.payload
        body = "" if ack is None else json.dumps(ack)
        envelope = delivery.envelopes[-1] if delivery.envelopes else {"type": kind}
        reply = BotReply(
            url=f"ws://127.0.0.1:{self._socket.port}/link/",
            status=200 if delivery.acked else 0,
            headers={},
            body=body,
            json=ack,
            request_body=json.dumps(envelope).encode(),
            request_headers={},
            error=delivery.error,
            envelope_ids=[str(e["envelope_id"]) for e in delivery.envelopes],
        )
        with self._lock:
            self.replies.append(reply)
        return reply

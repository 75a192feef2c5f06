"""``SlackEmulator``: a loopback Slack for tests — Web API server, state, and the Slack side."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from typing import Self

from ..common.facade import LifecycleMixin
from .client_side import InteractionsMixin
from .control import Control
from .events import EventsMixin
from .faults import Fault
from .modals import ModalsMixin
from .records import JSON
from .server import ApiServer, SlackCall
from .shapes import channel_json, ephemeral_json, message_json, user_json, view_json
from .shortcuts import ShortcutsMixin
from .socket_mode import SocketModeMixin
from .state import Workspace
from .transport import BotReply
from .webapi import DEFAULT_SCOPES


class SlackEmulator(
    LifecycleMixin[SlackCall],
    InteractionsMixin,
    ModalsMixin,
    ShortcutsMixin,
    EventsMixin,
    SocketModeMixin,
):
    """A faithful-enough Slack on 127.0.0.1 (thread-safe).

    Point ``slack_sdk.WebClient(token=bot_token, base_url=emu.api_url)`` at it and set
    ``bot_url`` to where the bot receives Slack requests, or connect in Socket Mode with
    ``app_token`` (see ``socket_mode.py``; ``socket_mode=True`` sends nothing over HTTP).
    ``rate_limits`` enforces Slack's rate-limit tiers (429 + Retry-After); ``latency`` delays
    every Web API / response_url answer.
    """

    _api: ApiServer

    def __init__(
        self,
        signing_secret: str = "test-signing-secret",  # noqa: S107
        bot_token: str = "xoxb-test-token",  # noqa: S107
        host: str = "127.0.0.1",
        port: int = 0,
        trigger_ttl_s: float = 3.0,
        *,
        bot_url: str | None = None,
        scopes: Iterable[str] = DEFAULT_SCOPES,
        rate_limits: bool = False,
        latency: float = 0.0,
        bot_timeout_s: float = 3.0,
        response_url_ttl_s: float = 1800.0,
        verification_token: str = "emulator-verification-token",  # noqa: S107
        subscribed_events: Iterable[str] | None = None,
        seed: bool = True,
        team_name: str = "Incidentbot Emulated",
        team_domain: str = "incidentbot-emu",
        bot_name: str = "incidentbot",
        socket_mode: bool = False,
        socket_ack_timeout_s: float = 3.0,
        socket_ping_interval_s: float | None = 10.0,
        app_token: str | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self.ws = Workspace(
            team_name=team_name,
            domain=team_domain,
            bot_name=bot_name,
            trigger_ttl_s=trigger_ttl_s,
            response_url_ttl_s=response_url_ttl_s,
        )
        if seed:
            self.ws.seed()
        self.signing_secret = signing_secret
        self.bot_token = bot_token
        self.verification_token = verification_token
        self.bot_url = bot_url
        self.bot_timeout_s = bot_timeout_s
        self.subscribed_events = None if subscribed_events is None else frozenset(subscribed_events)
        self.replies: list[BotReply] = []
        self._event_bodies: dict[str, bytes] = {}
        self._api = ApiServer(
            ws=self.ws,
            lock=self._lock,
            bot_token=bot_token,
            scopes=frozenset(scopes),
            host=host,
            port=port,
            on_response_url=self._handle_response_url,
        )
        self._api.rate_limits = rate_limits
        self._api.latency = latency
        self._init_socket_mode(
            socket_mode=socket_mode,
            ack_timeout_s=socket_ack_timeout_s,
            ping_interval_s=socket_ping_interval_s,
            app_token=app_token,
        )
        self._api.socket = self._socket
        self.control = Control(self)  # remote users: /_emulator/ (see control.py)
        self._api.control = self.control.answer

    def start(self) -> Self:
        self._socket.start()
        return super().start()

    def stop(self) -> None:
        super().stop()
        self._socket.stop()

    # ----------------------------------------------------------- properties
    @property
    def api_url(self) -> str:
        """What ``WebClient(base_url=...)`` takes: ``http://127.0.0.1:<port>/api/``."""
        return f"{self.url}/api/"

    @property
    def team_id(self) -> str:
        return self.ws.team_id

    @property
    def team_domain(self) -> str:
        return self.ws.domain

    @property
    def bot_user_id(self) -> str:
        return self.ws.bot_user_id

    @property
    def bot_id(self) -> str:
        return self.ws.bot_id

    @property
    def app_id(self) -> str:
        return self.ws.app_id

    @property
    def scopes(self) -> frozenset[str]:
        return self._api.scopes

    @scopes.setter
    def scopes(self, value: Iterable[str]) -> None:
        self._api.scopes = frozenset(value)

    # -------------------------------------------------------------- faults
    def fail(
        self,
        method: str,
        *,
        error: str | None = "internal_error",
        status: int = 200,
        times: int = 1,
        retry_after: int | None = None,
        delay: float = 0.0,
        body: str | None = None,
        apply: bool = False,
    ) -> None:
        """Queues ``times`` failures for ``method`` (``"*"``: any method); see :class:`Fault`."""
        fault = Fault(method, error, status, retry_after, delay, body, apply)
        self._api.faults.add(fault, times)

    def pending_faults(self, method: str | None = None) -> int:
        return self._api.faults.pending(method)

    def set_rate_limit(
        self, method: str, *, per_minute: float, burst: int | None = None, per_channel: bool = False
    ) -> None:
        """Overrides the tier of ``method`` for ``rate_limits`` mode."""
        self._api.limiter.set_limit(
            method, per_minute=per_minute, burst=burst, per_channel=per_channel
        )

    # ---------------------------------------------------------- call record
    def calls_to(self, method: str) -> list[SlackCall]:
        return self._calls_where(lambda c: c.method == method)

    def reset_calls(self) -> None:
        with self._lock:
            super().reset_calls()
            self.replies.clear()

    # ------------------------------------------------------------- seeding
    def add_user(
        self,
        name: str,
        *,
        real_name: str | None = None,
        email: str | None = None,
        tz: str = "UTC",
        is_admin: bool = False,
    ) -> str:
        with self._lock:
            return self.ws.add_user(
                name, real_name=real_name, email=email, tz=tz, is_admin=is_admin
            )

    def add_channel(
        self, name: str, *, is_private: bool = False, members: Iterable[str] = ()
    ) -> str:
        """A channel created by a human; include ``bot_user_id`` in members to add the bot."""
        with self._lock:
            return self.ws.add_channel(name, is_private=is_private, members=list(members))

    def add_usergroup(self, handle: str, members: Iterable[str], *, name: str | None = None) -> str:
        """A user group (``@handle``); ``security-oncall`` and ``dba-oncall`` are seeded."""
        with self._lock:
            return self.ws.add_usergroup(handle, list(members), name=name)

    def user_id(self, name: str) -> str:
        """The id of the user called ``name`` (``"alice"``, ``"bob"``, ``"carol"`` seeded)."""
        with self._lock:
            return self.ws.user_id(name)

    # ----------------------------------------------------------- inspectors
    def user(self, user_id: str) -> JSON | None:
        with self._lock:
            user = self.ws.users.get(user_id)
            return user_json(self.ws, user) if user else None

    def channel(self, channel_id: str) -> JSON | None:
        with self._lock:
            channel = self.ws.channels.get(channel_id)
            return channel_json(self.ws, channel, num_members=True) if channel else None

    def channel_by_name(self, name: str) -> JSON | None:
        with self._lock:
            channel = self.ws.channel_named(name.removeprefix("#"))
            return channel_json(self.ws, channel, num_members=True) if channel else None

    def messages(self, channel_id: str, *, system: bool = True) -> list[JSON]:
        """Channel messages oldest first (thread replies included), as they are now.

        ``system=False`` drops subtype messages (channel_join, channel_topic, …)."""
        with self._lock:
            return [
                message_json(self.ws, m)
                for m in self.ws.messages.get(channel_id, [])
                if system or not m.subtype or m.subtype == "thread_broadcast"
            ]

    def direct_messages(self, user_id: str) -> list[JSON]:
        """What the bot said to ``user_id`` in their direct conversation (none if never opened)."""
        with self._lock:
            channel = next(
                (c for c in self.ws.channels.values() if c.is_im and c.im_user == user_id), None
            )
        return self.messages(channel.id) if channel else []

    def message(self, channel_id: str, ts: str) -> JSON | None:
        with self._lock:
            found = self.ws.find_message(channel_id, ts)
            return message_json(self.ws, found) if found else None

    def thread(self, channel_id: str, thread_ts: str) -> list[JSON]:
        with self._lock:
            return [
                message_json(self.ws, m)
                for m in self.ws.messages.get(channel_id, [])
                if m.ts == thread_ts or m.thread_ts == thread_ts
            ]

    def topic(self, channel_id: str) -> str:
        with self._lock:
            return str(self._channel(channel_id).topic["value"])

    def members(self, channel_id: str) -> list[str]:
        with self._lock:
            return list(self._channel(channel_id).members)

    def ephemerals(self, user_id: str | None = None, channel_id: str | None = None) -> list[JSON]:
        """Ephemeral messages still shown; ``source`` says where each came from:
        chat.postEphemeral, command_ack, response_url or slack_error (Slack's own)."""
        with self._lock:
            return [
                ephemeral_json(self.ws, e)
                for e in self.ws.ephemerals
                if not e.deleted
                and (user_id is None or e.user == user_id)
                and (channel_id is None or e.channel == channel_id)
            ]

    def views(self, user_id: str | None = None) -> list[JSON]:
        """Open modals (bottom of each user's stack first); each has ``user_id`` added."""
        with self._lock:
            out = []
            for uid, stack in self.ws.stacks.items():
                if user_id is not None and uid != user_id:
                    continue
                for view_id in stack:
                    view = self.ws.views[view_id]
                    data = view_json(self.ws, view)
                    data["user_id"] = uid
                    data["errors"] = copy.deepcopy(view.errors)
                    out.append(data)
            return out

    def view(self, view_id: str) -> JSON | None:
        """Any view ever opened or published, open or not (``is_open`` added)."""
        with self._lock:
            view = self.ws.views.get(view_id)
            if view is None:
                return None
            data = view_json(self.ws, view)
            data.update({"user_id": view.user_id, "is_open": view.is_open})
            return data

    def home_view(self, user_id: str) -> JSON | None:
        with self._lock:
            view_id = self.ws.home_views.get(user_id)
            return view_json(self.ws, self.ws.views[view_id]) if view_id else None

    @property
    def last_reply(self) -> BotReply | None:
        with self._lock:
            return self.replies[-1] if self.replies else None

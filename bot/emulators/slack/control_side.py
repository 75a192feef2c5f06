"""The control API's two edges: what it uses of the emulator (:class:`SlackSide`, which
:class:`SlackEmulator` is) and the parameters of a request (:class:`Params`)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Protocol

from .control_find import NotFound
from .state import Workspace
from .transport import BotReply


class SlackSide(Protocol):
    """What the control API uses of :class:`SlackEmulator` (which passes itself)."""

    ws: Workspace
    _lock: threading.RLock
    signing_secret: str

    @property
    def calls(self) -> list[Any]: ...

    def send_command(
        self, user_id: str, channel_id: str, text: str = "", command: str = "/incident"
    ) -> BotReply: ...

    def post_user_message(
        self, user_id: str, channel_id: str, text: str, *, thread_ts: str | None = None
    ) -> str: ...

    def click_button(
        self,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        value: str | None = None,
        block_id: str | None = None,
    ) -> BotReply: ...

    def click_view_button(
        self, user_id: str, view_id: str, action_id: str, block_id: str | None = None
    ) -> BotReply: ...

    def select_option(
        self,
        user_id: str,
        channel_id: str,
        message_ts: str,
        action_id: str,
        value: Any,
        block_id: str | None = None,
    ) -> BotReply: ...

    def submit_view(
        self, user_id: str, view_id: str, values: Mapping[str, Any] | None = None
    ) -> BotReply: ...

    def close_view(self, user_id: str, view_id: str) -> BotReply | None: ...

    def add_reaction(
        self, user_id: str, channel_id: str, ts: str, name: str = "pushpin"
    ) -> BotReply | None: ...

    def shortcut(self, user_id: str, callback_id: str) -> BotReply: ...

    def message_shortcut(
        self, user_id: str, channel_id: str, message_ts: str, callback_id: str
    ) -> BotReply: ...


class Params:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def text(self, name: str, default: str | None = None) -> str:
        value = self.data.get(name, default)
        if value is None:
            raise NotFound("missing_argument", f"{name!r} is required", 400)
        if not isinstance(value, str | int | float):
            raise NotFound("invalid_argument", f"{name!r} must be a string", 400)
        return str(value)

    def optional(self, name: str) -> str | None:
        return self.text(name) if self.data.get(name) not in (None, "") else None

    def number(self, name: str, default: float) -> float:
        try:
            return float(self.data.get(name, default))
        except (TypeError, ValueError):
            raise NotFound("invalid_argument", f"{name!r} must be a number", 400) from None

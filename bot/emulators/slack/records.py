"""Records of the emulated workspace (users, channels, messages, views …), id and ts makers.

Plain data; the JSON shapes Slack returns for these records live in ``shapes.py``.
"""

from __future__ import annotations

import re
import time
import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..common.records import Counters

JSON = dict[str, Any]

CHANNEL_NAME_MAX = 80
TOPIC_MAX = 250
_CHANNEL_NAME_RE = re.compile(r"[a-z0-9_-]+")
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def channel_name_error(name: str) -> str | None:
    """The error Slack's conversations.create gives for ``name``, or None if it is valid."""
    if not name:
        return "invalid_name_required"
    if len(name) > CHANNEL_NAME_MAX:
        return "invalid_name_maxlength"
    if not _CHANNEL_NAME_RE.fullmatch(name):
        return "invalid_name_specials"
    if not re.search(r"[a-z0-9]", name):
        return "invalid_name_punctuation"
    return None


def tz_details(tz: str) -> tuple[int, str]:
    """(offset in seconds, label) for an IANA zone name; (0, tz) when unknown."""
    try:
        now = datetime.now(zoneinfo.ZoneInfo(tz))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return 0, tz
    offset = now.utcoffset()
    return (int(offset.total_seconds()) if offset else 0), (now.tzname() or tz)


class Ids(Counters):
    """Deterministic Slack-looking ids per emulator: ``T000000001``, ``C00000000A`` …"""

    def new(self, prefix: str) -> str:
        return f"{prefix}0{self.next(prefix):08X}"

    def short(self) -> str:
        """A short random-looking id, like the block_id/action_id Slack generates."""
        value, out = self.next("") * 7919 + 62**4, ""
        while value:
            value, rem = divmod(value, 62)
            out = _B62[rem] + out
        return out


class Clock:
    """Monotonically increasing Slack timestamps ("1700000000.000100")."""

    def __init__(self) -> None:
        self._last_us = 0

    def next_ts(self) -> str:
        now_us = int(time.time() * 1_000_000)
        if now_us <= self._last_us:
            now_us = self._last_us + 1
        self._last_us = now_us
        return f"{now_us // 1_000_000}.{now_us % 1_000_000:06d}"


def _topic() -> JSON:
    return {"value": "", "creator": "", "last_set": 0}


@dataclass
class User:
    id: str
    name: str
    real_name: str
    email: str | None
    tz: str
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    bot_id: str | None = None
    deleted: bool = False
    updated: int = field(default_factory=lambda: int(time.time()))


@dataclass
class UserGroup:
    """A user group (``@handle``), as usergroups.list shows it."""

    id: str
    handle: str
    name: str
    users: list[str]
    created_by: str
    description: str = ""
    created: int = field(default_factory=lambda: int(time.time()))
    disabled: bool = False


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool
    created: int
    creator: str
    members: list[str] = field(default_factory=list)
    is_archived: bool = False
    is_general: bool = False
    is_im: bool = False
    im_user: str | None = None
    topic: JSON = field(default_factory=_topic)
    purpose: JSON = field(default_factory=_topic)
    updated_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    pins: list[str] = field(default_factory=list)


@dataclass
class Message:
    ts: str
    channel: str
    text: str
    user: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    blocks: list[JSON] | None = None
    attachments: list[JSON] | None = None
    metadata: JSON | None = None
    subtype: str | None = None
    thread_ts: str | None = None
    reply_ts: list[str] = field(default_factory=list)
    reply_users: list[str] = field(default_factory=list)
    edited: JSON | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    extra: JSON = field(default_factory=dict)


@dataclass
class Ephemeral:
    """A message only ``user`` can see; never in history, never addressable by the API."""

    ts: str
    channel: str
    user: str
    text: str
    source: str  # chat.postEphemeral | command_ack | response_url | slack_error
    blocks: list[JSON] | None = None
    attachments: list[JSON] | None = None
    thread_ts: str | None = None
    sender: str | None = None
    deleted: bool = False


@dataclass
class View:
    id: str
    user_id: str
    body: JSON  # type, title, blocks, close, submit, callback_id, private_metadata, …
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    is_open: bool = True
    errors: dict[str, str] | None = None


@dataclass
class Trigger:
    id: str
    user_id: str
    issued_at: float
    used: bool = False


@dataclass
class ResponseTarget:
    """What a response_url is bound to: the invoking user, channel and source message."""

    id: str
    user_id: str
    channel_id: str
    created: float
    source_ts: str | None = None
    source_ephemeral: bool = False
    uses: int = 0

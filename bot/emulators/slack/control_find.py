"""What a remote user names, found in the workspace: users and channels by name, a button by
its label, a form's input by its label, and a typed value turned into what the element holds.

Everything here runs under the emulator lock and raises :class:`NotFound` with a sentence
that lists what there is instead, so the control API can answer it as it stands.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .blockkit import iter_elements
from .payloads import state_key
from .records import JSON, Channel, Message
from .state import Workspace

_RELATIVE = re.compile(r"^-(\d+)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_TRUE = {"yes", "true", "on", "1", "y", "x"}
_FALSE = {"no", "false", "off", "0", "n", ""}


class NotFound(LookupError):
    """A name the workspace does not know (answered 404) or a value it cannot take (400)."""

    def __init__(self, error: str, detail: str, status: int = 404) -> None:
        super().__init__(detail)
        self.error, self.detail, self.status = error, detail, status


def user(ws: Workspace, ref: str) -> str:
    """A human's id from ``alice``, ``@alice`` or ``U0…``."""
    name = ref.strip().removeprefix("@")
    found = ws.users.get(name) or next(
        (u for u in ws.users.values() if u.name == name and not u.deleted), None
    )
    if found is None or found.is_bot:
        humans = sorted(u.name for u in ws.users.values() if not u.is_bot and not u.deleted)
        raise NotFound("unknown_user", f"no user {ref!r} in this workspace (there are {humans})")
    return found.id


def visible(ws: Workspace, channel: Channel, user_id: str) -> bool:
    """Whether ``user_id`` can read ``channel``: public ones, their private ones and their DM."""
    if channel.is_im:
        return channel.im_user == user_id
    return not channel.is_private or user_id in channel.members


def channel(ws: Workspace, ref: str, user_id: str) -> Channel:
    """A channel the user can see, from ``#name``, ``name`` or its id."""
    found = ws.resolve_channel(ref.strip())
    if found is None or not visible(ws, found, user_id):
        names = sorted(f"#{c.name}" for c in ws.channels.values() if _listed(ws, c, user_id))
        raise NotFound(
            "channel_not_found", f"no channel {ref!r} visible to you (there are {names})"
        )
    return found


def _listed(ws: Workspace, channel: Channel, user_id: str) -> bool:
    return not channel.is_im and visible(ws, channel, user_id)


def visible_channels(ws: Workspace, user_id: str) -> list[Channel]:
    return [c for c in ws.channels.values() if visible(ws, c, user_id)]


def message(ws: Workspace, channel_id: str, ts: str) -> Message:
    """The message at ``ts``, or with ``last`` the newest one that is not a system message."""
    messages = ws.messages.get(channel_id, [])
    if ts == "last":
        found = next((m for m in reversed(messages) if m.subtype is None), None)
    else:
        found = ws.find_message(channel_id, ts)
    if found is None:
        raise NotFound("message_not_found", f"no message {ts!r} in #{ws.channels[channel_id].name}")
    return found


def _label(element: JSON) -> str:
    text = element.get("text")
    return str(text.get("text", "")) if isinstance(text, dict) else ""


def _matches(wanted: str, element: JSON, label: str) -> bool:
    return wanted in (str(element.get("action_id", "")).lower(), label.strip().lower())


@dataclass(frozen=True)
class Target:
    """An interactive element found on a message (or ephemeral) the user can see."""

    channel_id: str
    ts: str
    action_id: str
    block_id: str
    element: JSON


def element_on_messages(
    ws: Workspace,
    user_id: str,
    wanted: str,
    channels: list[Channel],
    *,
    buttons: bool,
    ts: str | None = None,
) -> Target:
    """The newest bot message in ``channels`` (or the user's ephemerals there) with a button
    (``buttons``) or another element whose label, placeholder or action_id is ``wanted``."""
    key = wanted.strip().lower()
    ids = {c.id for c in channels}
    candidates: list[tuple[str, str, list[JSON]]] = [
        (m.channel, m.ts, m.blocks or [])
        for c in channels
        for m in ws.messages.get(c.id, [])
        if m.bot_id and (ts is None or m.ts == ts)
    ]
    candidates += [
        (e.channel, e.ts, e.blocks or [])
        for e in ws.ephemerals
        if e.user == user_id and e.channel in ids and not e.deleted and (ts is None or e.ts == ts)
    ]
    seen: list[str] = []
    for channel_id, message_ts, blocks in sorted(candidates, key=lambda c: c[1], reverse=True):
        for block, element in iter_elements(blocks):
            if (element.get("type") == "button") != buttons:
                continue
            label = _label(element) if buttons else _placeholder(element)
            if _matches(key, element, label):
                return Target(
                    channel_id, message_ts, element["action_id"], block["block_id"], element
                )
            seen.append(label or str(element.get("action_id")))
    kind = "button" if buttons else "menu"
    offered = sorted(set(seen))
    raise NotFound(
        f"{kind}_not_found", f"no {kind} {wanted!r} on the messages (there are {offered})"
    )


def _placeholder(element: JSON) -> str:
    text = element.get("placeholder")
    return str(text.get("text", "")) if isinstance(text, dict) else ""


def view_button(blocks: list[JSON], wanted: str) -> tuple[str, str] | None:
    """(action_id, block_id) of a button in an open view labelled or named ``wanted``."""
    key = wanted.strip().lower()
    for block, element in iter_elements(blocks):
        if element.get("type") == "button" and _matches(key, element, _label(element)):
            return str(element["action_id"]), str(block["block_id"])
    return None


# -------------------------------------------------------------------- form values
def form_values(ws: Workspace, blocks: list[JSON], given: dict[str, Any]) -> dict[str, Any]:
    """``given`` (keyed by an input's label, block_id or action_id; typed values) as the
    emulator's ``submit_view`` takes them: keyed by block_id, each value the element's."""
    inputs = [(b, e) for b, e in iter_elements(blocks) if b.get("type") == "input"]
    out: dict[str, Any] = {}
    for key, value in given.items():
        wanted = key.strip().lower()
        found = next(
            (
                (b, e)
                for b, e in inputs
                if wanted
                in (
                    str(b.get("block_id", "")).lower(),
                    str(e.get("action_id", "")).lower(),
                    _block_label(b).strip().lower(),
                )
            ),
            None,
        )
        if found is None:
            offered = [f"{_block_label(b)} ({b.get('block_id')})" for b, _ in inputs]
            raise NotFound(
                "unknown_field", f"the form has no field {key!r} (it has {offered})", 400
            )
        block, element = found
        out[str(block["block_id"])] = typed_value(ws, element, value, _block_label(block) or key)
    return out


def _block_label(block: JSON) -> str:
    label = block.get("label")
    return str(label.get("text", "")) if isinstance(label, dict) else ""


def options(element: JSON) -> list[JSON]:
    found = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        found.extend(group.get("options") or [])
    return found


def typed_value(ws: Workspace, element: JSON, value: Any, field: str) -> Any:
    """What a person typed for ``element`` as the value it holds: an option by its value or
    its text, ``@alice`` as a user id, ``#general`` as a channel id, ``now``/``-15m``/ISO as a
    date-time. Anything not a string passes through unchanged."""
    if not isinstance(value, str):
        return value
    kind = str(element.get("type"))
    key = state_key(kind)
    text = value.strip()
    if key == "selected_option":
        return _option(element, text, field)
    if key == "selected_options":
        return _options_picked(element, text, field)
    if key in ("selected_user", "selected_users"):
        ids = [user(ws, part) for part in _split(text)]
        return ids if key.endswith("s") else (ids[0] if ids else None)
    if key in ("selected_conversation", "selected_channel", "selected_conversations"):
        found = [_channel_id(ws, part) for part in _split(text)]
        return found if key.endswith("s") else (found[0] if found else None)
    if key == "selected_date_time":
        return _instant(text, field)
    return value


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _option(element: JSON, text: str, field: str) -> str:
    offered = options(element)
    lowered = text.lower()
    tests: list[Callable[[JSON], bool]] = [
        lambda o: str(o.get("value", "")).lower() == lowered,
        lambda o: _label(o).strip().lower() == lowered,
        lambda o: lowered in _label(o).lower(),
    ]
    for test in tests:
        hits = [o for o in offered if test(o)]
        if len(hits) == 1:
            return str(hits[0]["value"])
    choices = [str(o.get("value")) for o in offered]
    raise NotFound("invalid_option", f"{field}: {text!r} is not one of {choices}", 400)


def _options_picked(element: JSON, text: str, field: str) -> list[str]:
    offered = options(element)
    if len(offered) == 1 and text.lower() in _TRUE | _FALSE:
        return [str(offered[0]["value"])] if text.lower() in _TRUE else []
    return [_option(element, part, field) for part in _split(text)]


def _channel_id(ws: Workspace, ref: str) -> str:
    found = ws.resolve_channel(ref)
    if found is None:
        raise NotFound("channel_not_found", f"no channel {ref!r}", 400)
    return found.id


def _instant(text: str, field: str) -> int:
    if text.isdigit():
        return int(text)
    if text.lower() == "now":
        return int(time.time())
    relative = _RELATIVE.match(text.lower())
    if relative:
        ago = timedelta(**{_UNITS[relative[2]]: int(relative[1])})
        return int((datetime.now(UTC) - ago).timestamp())
    try:
        parsed = datetime.fromisoformat(text.replace(" ", "T", 1) if " " in text else text)
    except ValueError:
        raise NotFound(
            "invalid_date_time",
            f"{field}: {text!r} is not a time (use 2026-12-06T14:05, 14:05 is UTC unless it "
            "has an offset; or now, -15m, -2h, or epoch seconds)",
            400,
        ) from None
    return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())

"""What a user saw change: a snapshot of everything they can see before an action, and the
difference after it (new and updated messages, new ephemerals, the modal that opened); and
the wait for the bot to finish what the action started.

The bot answers Slack fast and does the work after the ack, so the control API waits until
the bot says it is idle (``idle_probe``, when whoever runs the bot in-process sets one) or
until it has made no Web API call for ``quiet_s``, up to ``wait_s`` in all.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from . import control_find as find
from .records import JSON
from .shapes import channel_json, ephemeral_json, message_json, view_json
from .state import Workspace

IdleProbe = Callable[[float], bool]  # wait up to the seconds given; True once idle


@dataclass
class Seen:
    """The state of what one user can see, as fingerprints."""

    messages: dict[str, dict[str, str]] = field(default_factory=dict)  # channel → ts → print
    members: dict[str, bool] = field(default_factory=dict)  # channel → the user is in it
    ephemerals: dict[str, str] = field(default_factory=dict)  # ts → print
    views: dict[str, str] = field(default_factory=dict)  # open view → hash and errors


def _print(data: JSON) -> str:
    return json.dumps(data, sort_keys=True, default=str)


def snapshot(ws: Workspace, user_id: str) -> Seen:
    seen = Seen()
    for channel in find.visible_channels(ws, user_id):
        seen.members[channel.id] = user_id in channel.members
        seen.messages[channel.id] = {
            m.ts: _print(message_json(ws, m)) for m in ws.messages.get(channel.id, [])
        }
    seen.ephemerals = {
        e.ts: _print(ephemeral_json(ws, e))
        for e in ws.ephemerals
        if e.user == user_id and not e.deleted
    }
    seen.views = _views(ws, user_id)
    return seen


def _views(ws: Workspace, user_id: str) -> dict[str, str]:
    return {
        view_id: f"{ws.views[view_id].hash}|{_print(ws.views[view_id].errors or {})}"
        for view_id in ws.stack(user_id)
    }


def changes(ws: Workspace, user_id: str, before: Seen) -> JSON:
    """``messages`` new or changed since ``before`` (each with its ``change``), ``channels``
    they are in (``new``: created since; ``joined``: the user was added), ``ephemerals`` (new
    or changed, likewise),
    and ``view``: the user's top modal if it opened or changed (``view_closed`` if it went)."""
    out: JSON = {"messages": [], "channels": {}, "ephemerals": [], "view": None}
    for channel in find.visible_channels(ws, user_id):
        old = before.messages.get(channel.id, {})
        for m in ws.messages.get(channel.id, []):
            data = message_json(ws, m)
            if m.ts not in old:
                out["messages"].append({**data, "channel": channel.id, "change": "new"})
            elif old[m.ts] != _print(data):
                out["messages"].append({**data, "channel": channel.id, "change": "updated"})
        member = user_id in channel.members
        if any(m["channel"] == channel.id for m in out["messages"]) or (
            member and not before.members.get(channel.id, False)
        ):
            out["channels"][channel.id] = {
                **channel_json(ws, channel),
                "new": channel.id not in before.messages,
                "joined": member and not before.members.get(channel.id, False),
            }
    for e in ws.ephemerals:
        if e.user != user_id or e.deleted:
            continue
        data = ephemeral_json(ws, e)
        if e.ts not in before.ephemerals:
            out["ephemerals"].append({**data, "change": "new"})
        elif before.ephemerals[e.ts] != _print(data):
            out["ephemerals"].append({**data, "change": "updated"})
    after = _views(ws, user_id)
    stack = ws.stack(user_id)
    if stack and before.views.get(stack[-1]) != after[stack[-1]]:
        out["view"] = open_view(ws, user_id)
    out["view_closed"] = [v for v in before.views if v not in after]
    return out


def open_view(ws: Workspace, user_id: str) -> JSON | None:
    """The user's top modal with the errors the bot set on it, or None."""
    stack = ws.stack(user_id)
    if not stack:
        return None
    view = ws.views[stack[-1]]
    data = view_json(ws, view)
    data["errors"] = dict(view.errors or {})
    return data


def settle(
    calls: Callable[[], int], probe: IdleProbe | None, *, wait_s: float, quiet_s: float
) -> bool:
    """Waits for the bot to finish: True once it is idle (``probe``) or made no call
    (``calls``: how many Web API calls so far) for ``quiet_s``; False when ``wait_s`` ran out."""
    deadline = time.monotonic() + wait_s
    if probe is not None:
        return probe(wait_s)
    count, since = calls(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        now, latest = time.monotonic(), calls()
        if latest != count:
            count, since = latest, now
        elif now - since >= quiet_s:
            return True
    return False

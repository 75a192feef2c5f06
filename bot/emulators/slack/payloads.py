"""Interaction payload pieces: ``state.values`` entries shaped per element type, as Slack sends.

Test-facing values are forgiving (a select takes an option *value*, a datepicker takes a
``date`` or ``"YYYY-MM-DD"``) but impossible input raises, since Slack's client would not
let a user submit it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from .blockkit import iter_elements
from .records import JSON
from .state import Workspace

STATELESS = {"button", "overflow", "workflow_button", "image"}
_INITIAL_KEY = {
    "selected_option": "initial_option",
    "selected_options": "initial_options",
    "selected_user": "initial_user",
    "selected_users": "initial_users",
    "selected_conversation": "initial_conversation",
    "selected_conversations": "initial_conversations",
    "selected_channel": "initial_channel",
    "selected_channels": "initial_channels",
    "selected_date": "initial_date",
    "selected_time": "initial_time",
    "selected_date_time": "initial_date_time",
    "value": "initial_value",
    "rich_text_value": "initial_value",
    "files": "initial_files",
}
_LIST_KEYS = {"selected_options", "selected_users", "selected_conversations"}
_LIST_KEYS |= {"selected_channels", "files"}


def state_key(kind: str) -> str:
    """The key Slack uses for the element's current value in ``state.values``."""
    if kind in ("static_select", "external_select", "radio_buttons"):
        return "selected_option"
    if kind in ("multi_static_select", "multi_external_select", "checkboxes"):
        return "selected_options"
    for base in ("user", "conversation", "channel"):
        if kind == f"{base}s_select":
            return f"selected_{base}"
        if kind == f"multi_{base}s_select":
            return f"selected_{base}s"
    return {
        "datepicker": "selected_date",
        "timepicker": "selected_time",
        "datetimepicker": "selected_date_time",
        "rich_text_input": "rich_text_value",
        "file_input": "files",
    }.get(kind, "value")


def _options(element: JSON) -> list[JSON]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def option_for(element: JSON, value: Any, where: str) -> JSON:
    if isinstance(value, dict):
        return value
    if element.get("type", "").endswith("external_select"):
        return {"text": {"type": "plain_text", "text": str(value), "emoji": True}, "value": value}
    for option in _options(element):
        if option.get("value") == value:
            return {k: option[k] for k in ("text", "value", "description") if k in option}
    offered = [o.get("value") for o in _options(element)]
    raise ValueError(f"{where}: {value!r} is not one of the offered options {offered}")


def initial_entry(element: JSON) -> JSON:
    kind = str(element.get("type"))
    key = state_key(kind)
    initial = element.get(_INITIAL_KEY[key])
    if initial is None and key in _LIST_KEYS:
        initial = []
    entry: JSON = {"type": kind, key: initial}
    if kind == "timepicker" and element.get("timezone"):
        entry["timezone"] = element["timezone"]
    return entry


def entry_for(ws: Workspace, element: JSON, value: Any, where: str) -> JSON:
    """The ``state.values`` entry for ``element`` holding the test-given ``value``."""
    kind = str(element.get("type"))
    key = state_key(kind)
    entry = initial_entry(element)
    if value is None:
        entry[key] = [] if key in _LIST_KEYS else None
        return entry
    if key == "selected_option":
        entry[key] = option_for(element, value, where)
    elif key == "selected_options":
        entry[key] = [option_for(element, v, where) for v in _as_list(value)]
    elif key in ("selected_user", "selected_users"):
        users = _as_list(value)
        for uid in users:
            if uid not in ws.users:
                raise ValueError(f"{where}: unknown user {uid!r}")
        entry[key] = users if key.endswith("s") else users[0]
    elif key in ("selected_conversation", "selected_channel"):
        entry[key] = str(value)
    elif key in ("selected_conversations", "selected_channels", "files"):
        entry[key] = _as_list(value)
    elif key == "selected_date":
        entry[key] = value.isoformat() if isinstance(value, dt.date) else str(value)
    elif key == "selected_time":
        entry[key] = value.strftime("%H:%M") if isinstance(value, dt.time) else str(value)
    elif key == "selected_date_time":
        entry[key] = int(value.timestamp()) if isinstance(value, dt.datetime) else int(value)
    elif key == "rich_text_value":
        entry[key] = value if isinstance(value, dict) else _rich_text(str(value))
    else:
        entry[key] = _text_value(element, str(value), where)
    return entry


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple | set) else [value]


def _text_value(element: JSON, text: str, where: str) -> str:
    min_len, max_len = element.get("min_length", 0), element.get("max_length", 3000)
    if not min_len <= len(text) <= max_len:
        raise ValueError(f"{where}: length {len(text)} outside [{min_len}, {max_len}]")
    return text


def _rich_text(text: str) -> JSON:
    return {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
    }


def is_empty(entry: JSON) -> bool:
    return all(v in (None, [], "") for k, v in entry.items() if k not in ("type", "timezone"))


def message_state(blocks: list[JSON]) -> JSON:
    """``state.values`` Slack sends with a block_actions payload from a message."""
    values: JSON = {}
    for block, element in iter_elements(blocks):
        if element.get("type") in STATELESS:
            continue
        values.setdefault(block["block_id"], {})[element["action_id"]] = initial_entry(element)
    return values


def view_state(ws: Workspace, blocks: list[JSON], given: Mapping[str, Any]) -> JSON:
    """``view.state.values`` for a submission: ``given`` keyed by block_id or action_id."""
    remaining = dict(given)
    values: JSON = {}
    for block, element in iter_elements(blocks):
        if element.get("type") in STATELESS:
            continue
        block_id, action_id = block["block_id"], element["action_id"]
        where = f"{block_id}/{action_id}"
        key = next((k for k in (action_id, block_id) if k in remaining), None)
        if key is not None:
            entry = entry_for(ws, element, remaining.pop(key), where)
        else:
            entry = initial_entry(element)
        if block.get("type") == "input" and not block.get("optional") and is_empty(entry):
            raise ValueError(f"{where}: required input left empty (Slack would not submit)")
        values.setdefault(block_id, {})[action_id] = entry
    if remaining:
        raise KeyError(f"no input element for {sorted(remaining)} in this view")
    return values


def user_ref(ws: Workspace, user_id: str) -> JSON:
    user = ws.users[user_id]
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": ws.team_id}


def team_ref(ws: Workspace) -> JSON:
    return {"id": ws.team_id, "domain": ws.domain}

"""What a Slack user sees, as plain text for the terminal: mrkdwn with names instead of ids,
Block Kit messages (sections, fields, context, buttons as ``[Label]``), and modals as forms
listing each input (label, block id, type, options, required)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]
_ANGLE = re.compile(r"<([^<>\n]+)>")
_KINDS = {
    "plain_text_input": "text",
    "static_select": "select",
    "external_select": "select",
    "multi_static_select": "multi-select",
    "users_select": "user (@name)",
    "multi_users_select": "users (@a,@b)",
    "conversations_select": "channel (#name)",
    "channels_select": "channel (#name)",
    "datepicker": "date (YYYY-MM-DD)",
    "timepicker": "time (HH:MM)",
    "datetimepicker": "date-time (2026-12-06T14:05 UTC, now, -15m)",
    "checkboxes": "checkboxes",
    "radio_buttons": "radio",
    "number_input": "number",
    "email_text_input": "email",
    "url_text_input": "url",
    "rich_text_input": "text",
}


@dataclass
class Names:
    """Ids → names, from the control API's directory."""

    users: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)
    usergroups: dict[str, str] = field(default_factory=dict)
    bot_user_id: str = ""

    @classmethod
    def of(cls, directory: JSON) -> Names:
        return cls(
            dict(directory.get("users") or {}),
            dict(directory.get("channels") or {}),
            dict(directory.get("usergroups") or {}),
            str(directory.get("bot_user_id") or ""),
        )

    def user(self, user_id: str | None) -> str:
        return self.users.get(user_id or "", user_id or "someone")

    def channel(self, channel_id: str) -> str:
        return f"#{self.channels.get(channel_id, channel_id)}"


def mrkdwn(text: str, names: Names) -> str:
    """Slack mrkdwn as plain text: ``<@U…>`` → @alice, ``<#C…>`` → #name, ``<url|text>`` →
    text (url), ``<!date^…|fallback>`` → fallback; entities unescaped."""

    def one(match: re.Match[str]) -> str:
        inner = match[1]
        target, _, label = inner.partition("|")
        if target.startswith("@"):
            return f"@{names.user(target[1:])}"
        if target.startswith("#"):
            return f"#{label}" if label else names.channel(target[1:])
        if target.startswith("!subteam^"):
            handle = names.usergroups.get(target.removeprefix("!subteam^"), "group")
            return label or f"@{handle}"
        if target.startswith("!date^"):
            return label or target
        if target.startswith("!"):
            return f"@{target[1:]}"
        return f"{label} ({target})" if label and label != target else target

    plain = _ANGLE.sub(one, text)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: Any, names: Names) -> str:
    if isinstance(obj, dict):
        raw = str(obj.get("text", ""))
        return mrkdwn(raw, names) if obj.get("type") == "mrkdwn" else raw
    return str(obj or "")


def _control(element: JSON, names: Names) -> str:
    kind = element.get("type")
    if kind in ("button", "workflow_button"):
        return f"[{_text(element.get('text'), names)}]"
    if kind == "overflow":
        return "[⋯]"
    if kind == "image":
        return ""
    label = _text(element.get("placeholder"), names) or str(kind)
    return f"[{label} ▾]"


def _rich(elements: list[Any], names: Names) -> str:
    out = []
    for element in elements:
        if not isinstance(element, dict):
            continue
        kind = element.get("type")
        if kind == "text" or kind == "link":
            out.append(str(element.get("text") or element.get("url") or ""))
        elif kind == "user":
            out.append(f"@{names.user(element.get('user_id'))}")
        elif kind == "channel":
            out.append(names.channel(str(element.get("channel_id"))))
        elif kind == "emoji":
            out.append(f":{element.get('name')}:")
        elif isinstance(element.get("elements"), list):
            out.append(_rich(element["elements"], names) + "\n")
    return "".join(out).rstrip("\n")


def blocks(items: list[JSON], names: Names) -> list[str]:
    """One or more lines per block."""
    lines: list[str] = []
    for block in items:
        kind = block.get("type")
        if kind in ("section", "header", "markdown"):
            text = _text(block.get("text"), names) if kind != "markdown" else block.get("text")
            parts = [str(text)] if text else []
            parts += [_text(f, names).replace("\n", " ") for f in block.get("fields") or []]
            accessory = block.get("accessory")
            if isinstance(accessory, dict) and _control(accessory, names):
                parts.append(_control(accessory, names))
            lines.extend("\n".join(parts).splitlines() or [""])
        elif kind == "context":
            bits = [
                _text(e, names) for e in block.get("elements") or [] if e.get("type") != "image"
            ]
            lines.append(" · ".join(b for b in bits if b))
        elif kind == "actions":
            lines.append(" ".join(_control(e, names) for e in block.get("elements") or []))
        elif kind == "divider":
            lines.append("─" * 24)
        elif kind == "rich_text":
            lines.extend(_rich(block.get("elements") or [], names).splitlines())
        elif kind == "image":
            lines.append(f"[image: {block.get('alt_text', '')}]")
        elif kind == "input":
            lines.append(f"{_text(block.get('label'), names)}: {_control(block['element'], names)}")
        else:
            lines.append(f"[{kind}]")
    return lines


def _attachment(item: JSON, names: Names) -> list[str]:
    lines = [mrkdwn(str(item[k]), names) for k in ("pretext", "title", "text") if item.get(k)]
    lines += [
        f"{f.get('title')}: {mrkdwn(str(f.get('value')), names)}" for f in item.get("fields") or []
    ]
    lines += blocks(item.get("blocks") or [], names)
    return ["│ " + line for text in lines for line in text.splitlines()]


def message(data: JSON, names: Names, *, indent: str = "  ") -> list[str]:
    """A message as its author's name, time and what it shows (blocks, else its text)."""
    when = datetime.fromtimestamp(float(data.get("ts") or 0), UTC).strftime("%H:%M:%S")
    author = "incidentbot" if data.get("bot_id") else names.user(data.get("user"))
    if data.get("source") == "slack_error":
        author = "Slackbot"
    marks = []
    if data.get("change") == "updated":
        marks.append("(updated)")
    if data.get("thread_ts") and data.get("thread_ts") != data.get("ts"):
        marks.append("(in thread)")
    if data.get("pinned_to"):
        marks.append("📌 pinned")
    reactions = " ".join(f":{r['name']}: {r['count']}" for r in data.get("reactions") or [])
    head = " ".join([f"{indent}{author}  {when}", *marks])
    if data.get("subtype") and data.get("subtype") not in ("thread_broadcast", "ephemeral"):
        return [f"{head}  — {mrkdwn(str(data.get('text', '')), names)}"]
    body = blocks(data["blocks"], names) if data.get("blocks") else []
    if not body or data.get("blocks", [{}])[0].get("type") == "rich_text":
        body = mrkdwn(str(data.get("text", "")), names).splitlines()
    for attachment in data.get("attachments") or []:
        body += _attachment(attachment, names)
    lines = [head] + [f"{indent}  {line}".rstrip() for line in body]
    if reactions:
        lines.append(f"{indent}  {reactions}")
    return lines


# -------------------------------------------------------------------------------- forms
def _input_line(block: JSON, errors: JSON, names: Names) -> list[str]:
    element = block.get("element") or {}
    kind = str(element.get("type"))
    described = _KINDS.get(kind, kind)
    if kind == "plain_text_input" and element.get("multiline"):
        described = "multiline text"
    need = "optional" if block.get("optional") else "required"
    label = _text(block.get("label"), names)
    lines = [f"  {label}  [{block.get('block_id')}]  {described}, {need}"]
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    for option in options:
        lines.append(f"      {option.get('value')} — {_text(option.get('text'), names)}")
    now = _initial(element)
    if now:
        lines.append(f"      now: {now}")
    if block.get("hint"):
        lines.append(f"      ({_text(block['hint'], names)})")
    if block.get("block_id") in errors:
        lines.append(f"      ⚠ {errors[block['block_id']]}")
    return lines


def _initial(element: JSON) -> str:
    for key in ("initial_value", "initial_date", "initial_time", "initial_user"):
        if element.get(key):
            return str(element[key])
    if element.get("initial_option"):
        return str(element["initial_option"].get("value"))
    if element.get("initial_options"):
        return ",".join(str(o.get("value")) for o in element["initial_options"])
    if element.get("initial_date_time"):
        when = datetime.fromtimestamp(int(element["initial_date_time"]), UTC)
        return when.strftime("%Y-%m-%dT%H:%M UTC")
    return ""


def form(view: JSON, names: Names, *, command: str = "incidentbot slack") -> list[str]:
    """A modal as a form to fill in from the terminal, ending with how to submit it."""
    title = _text(view.get("title"), names)
    submit = _text(view.get("submit"), names) or "Submit"
    lines = [f'Form "{title}" (its button: {submit})']
    errors = view.get("errors") or {}
    inputs = [b for b in view.get("blocks") or [] if b.get("type") == "input"]
    for block in view.get("blocks") or []:
        if block.get("type") == "input":
            lines += _input_line(block, errors, names)
        else:
            lines += [f"  {line}" for line in blocks([block], names)]
    empty = [b for b in inputs if not b.get("optional") and not _initial(b.get("element") or {})]
    fields = " ".join(f'{b.get("block_id")}="…"' for b in (empty or inputs[:1])) or "field=value"
    lines.append(f"Submit it: {command} submit {fields}  (fields by label or block id;")
    lines.append(f"  untouched fields keep what they show)  ·  or: {command} cancel")
    return lines

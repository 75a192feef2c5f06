"""Modals: declare an incident, change status, change severity; and reading their submissions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from bot.adapters.source_names import source_name
from bot.core.catalog import Catalog, Phase
from bot.core.lifecycle import EDITABLE
from bot.core.milestones import ORDER, Milestone, Stamp

DECLARE = "incident.declare"
STATUS = "incident.status"
SEVERITY = "incident.severity"
FOLLOWUP = "incident.followup"
TIMESTAMPS = "incident.timestamps"
ADD_FOLLOWUP_SHORTCUT = "incident.add_followup"  # the message shortcut's callback id

Block = dict[str, Any]


def _option(text: str, value: str) -> Block:
    return {"text": {"type": "plain_text", "text": text[:75], "emoji": True}, "value": value}


def _input(
    block_id: str, label: str, element: Block, *, optional: bool = False, hint: str | None = None
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def _modal(
    callback_id: str, title: str, submit: str, blocks: list[Block], metadata: dict[str, Any]
) -> Block:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": {"type": "plain_text", "text": title[:24]},
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }


def _severity_select(catalog: Catalog, initial: str) -> Block:
    options = [_option(f"{s.emoji} {s.id} — {s.name}".strip(), s.id) for s in catalog.severities]
    chosen = next(o for o in options if o["value"] == initial)
    return {
        "type": "static_select",
        "action_id": "severity",
        "options": options,
        "initial_option": chosen,
    }


def declare_modal(
    catalog: Catalog,
    *,
    now: datetime,
    channel_id: str,
    title: str = "",
    severity: str | None = None,
) -> Block:
    title_input: Block = {
        "type": "plain_text_input",
        "action_id": "title",
        "max_length": 150,
        "placeholder": {"type": "plain_text", "text": "Checkout API returns 500s"},
    }
    if title:
        title_input["initial_value"] = title
    blocks = [
        _input("title", "Title", title_input),
        _input(
            "severity", "Severity", _severity_select(catalog, severity or catalog.default_severity)
        ),
        _input(
            "description",
            "What is happening?",
            {
                "type": "plain_text_input",
                "action_id": "description",
                "multiline": True,
                "max_length": 2500,
            },
            optional=True,
        ),
        _input(
            "impact",
            "Impact started",
            {
                "type": "datetimepicker",
                "action_id": "impact_started_at",
                "initial_date_time": int(now.timestamp()),
            },
            hint="When customers were first affected (your local time). Leave as is if it is now.",
        ),
        _input(
            "private",
            "Visibility",
            {
                "type": "checkboxes",
                "action_id": "private",
                "options": [
                    _option("Private incident (private channel, no announcement)", "private")
                ],
            },
            optional=True,
        ),
    ]
    return _modal(DECLARE, "Declare an incident", "Declare", blocks, {"channel_id": channel_id})


def status_modal(catalog: Catalog, *, incident_id: int, current: str) -> Block:
    choices = [s for s in catalog.statuses if s.phase is not Phase.CLOSED]
    options = [_option(f"{s.emoji} {s.name}".strip(), s.id) for s in choices]
    select: Block = {"type": "static_select", "action_id": "status", "options": options}
    initial = next((o for o in options if o["value"] == current), None)
    if initial:
        select["initial_option"] = initial
    blocks = [
        _input("status", "New status", select),
        _input(
            "summary",
            "Summary (for resolved)",
            {
                "type": "plain_text_input",
                "action_id": "summary",
                "multiline": True,
                "max_length": 2500,
            },
            optional=True,
        ),
    ]
    return _modal(STATUS, "Change status", "Change", blocks, {"incident_id": incident_id})


def severity_modal(catalog: Catalog, *, incident_id: int, current: str) -> Block:
    blocks = [_input("severity", "New severity", _severity_select(catalog, current))]
    return _modal(SEVERITY, "Change severity", "Change", blocks, {"incident_id": incident_id})


# -- reading submissions -------------------------------------------------------------------------


@dataclass(frozen=True)
class DeclareForm:
    title: str
    severity: str
    description: str
    impact_started_at: datetime | None
    private: bool
    channel_id: str | None


def _value(values: dict[str, Any], block: str, action: str) -> dict[str, Any]:
    got = values.get(block, {}).get(action, {})
    return got if isinstance(got, dict) else {}


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        loaded = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def read_declare(view: dict[str, Any]) -> DeclareForm:
    values = view.get("state", {}).get("values", {})
    when = _value(values, "impact", "impact_started_at").get("selected_date_time")
    selected = _value(values, "private", "private").get("selected_options") or []
    return DeclareForm(
        title=str(_value(values, "title", "title").get("value") or ""),
        severity=str(
            (_value(values, "severity", "severity").get("selected_option") or {}).get("value") or ""
        ),
        description=str(_value(values, "description", "description").get("value") or ""),
        impact_started_at=datetime.fromtimestamp(int(when), UTC)
        if isinstance(when, int | float | str) and str(when).isdigit()
        else None,
        private=any(o.get("value") == "private" for o in selected if isinstance(o, dict)),
        channel_id=metadata(view).get("channel_id"),
    )


def read_select(view: dict[str, Any], block: str) -> str:
    values = view.get("state", {}).get("values", {})
    return str((_value(values, block, block).get("selected_option") or {}).get("value") or "")


def read_text(view: dict[str, Any], block: str) -> str:
    values = view.get("state", {}).get("values", {})
    return str(_value(values, block, block).get("value") or "")


def followup_modal(*, channel_id: str, text: str, permalink: str | None) -> Block:
    """ "Add follow-up" from a message: its text to start from, an owner and a due date."""
    blocks = [
        _input(
            "text",
            "What needs doing",
            {
                "type": "plain_text_input",
                "action_id": "text",
                "multiline": True,
                "max_length": 1000,
                "initial_value": text[:1000],
            },
        ),
        _input("owner", "Owner", {"type": "users_select", "action_id": "owner"}, optional=True),
        _input("due", "Due", {"type": "datepicker", "action_id": "due"}, optional=True),
    ]
    return _modal(
        FOLLOWUP,
        "Add a follow-up",
        "Add",
        blocks,
        {"channel_id": channel_id, "permalink": permalink},
    )


@dataclass(frozen=True)
class FollowupForm:
    text: str
    owner: str | None
    due_on: date | None
    channel_id: str | None
    permalink: str | None


def read_followup(view: dict[str, Any]) -> FollowupForm:
    values = view.get("state", {}).get("values", {})
    due = _value(values, "due", "due").get("selected_date")
    meta = metadata(view)
    try:
        due_on = date.fromisoformat(str(due)) if due else None
    except ValueError:
        due_on = None
    return FollowupForm(
        text=str(_value(values, "text", "text").get("value") or "").strip(),
        owner=_value(values, "owner", "owner").get("selected_user") or None,
        due_on=due_on,
        channel_id=meta.get("channel_id"),
        permalink=meta.get("permalink"),
    )


def timestamps_modal(*, incident_id: int, stamps: dict[Milestone, Stamp]) -> Block:
    """Every milestone with where it came from; the ones people may correct as date-time pickers
    (each reader's own time zone; Slack sends an instant)."""
    blocks: list[Block] = [
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "Correct what happened in the world; the original stays on the timeline. Order: impact ≤ detected ≤ acknowledged, mitigated ≤ resolved.",
                }
            ],
        }
    ]
    for milestone in ORDER:
        stamp = stamps.get(milestone)
        # the product in lower case (`slack by @alice`), as the modal has always said it
        origin = (
            f"{source_name(stamp.source).lower()}{f' by <@{stamp.by}>' if stamp.by else ''}"
            if stamp
            else "not set"
        )
        editable = milestone in EDITABLE and (
            stamp is not None or milestone in (Milestone.IMPACT_STARTED, Milestone.ACKNOWLEDGED)
        )
        if not editable:
            when = (
                f"<!date^{int(stamp.at.timestamp())}^{{date_short_pretty}} {{time_secs}}|{stamp.at:%Y-%m-%d %H:%M:%S} UTC>"
                if stamp
                else "—"
            )
            blocks.append(
                {
                    "type": "section",
                    "block_id": f"fixed.{milestone.value}",
                    "text": {"type": "mrkdwn", "text": f"*{milestone.label}*: {when} _({origin})_"},
                }
            )
            continue
        picker: Block = {"type": "datetimepicker", "action_id": milestone.value}
        if stamp is not None:
            picker["initial_date_time"] = int(stamp.at.timestamp())
        blocks.append(
            _input(
                milestone.value,
                milestone.label,
                picker,
                optional=stamp is None,
                # a hint is plain text: a <@U…> mention would show as typed, so only the source
                hint=f"Now: {source_name(stamp.source).lower() if stamp else 'not set'}",
            )
        )
    return _modal(TIMESTAMPS, "Milestones", "Save", blocks, {"incident_id": incident_id})


def read_timestamps(view: dict[str, Any]) -> dict[Milestone, datetime]:
    """The picked instants (UTC), for the milestones the form had."""
    values = view.get("state", {}).get("values", {})
    picked: dict[Milestone, datetime] = {}
    for milestone in EDITABLE:
        raw = _value(values, milestone.value, milestone.value).get("selected_date_time")
        if isinstance(raw, int | float) or (isinstance(raw, str) and raw.isdigit()):
            picked[milestone] = datetime.fromtimestamp(int(raw), UTC)
    return picked

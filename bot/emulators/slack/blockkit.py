"""Block Kit validation and normalisation, modelled on the limits Slack's API enforces.

Errors are reported like Slack does in ``response_metadata.messages``:
``"must be less than 3001 characters [json-pointer:/blocks/0/text/text]"``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from typing import Any

JSON = dict[str, Any]

MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}
_COMMON_BLOCKS = {"section", "divider", "image", "actions", "context", "input", "header"}
_COMMON_BLOCKS |= {"rich_text", "video"}
BLOCK_TYPES = {
    "message": _COMMON_BLOCKS | {"file", "markdown", "table"},
    "modal": set(_COMMON_BLOCKS),
    "home": set(_COMMON_BLOCKS),
}
_SELECTS = {"static_select", "external_select", "users_select", "conversations_select"}
_SELECTS |= {"channels_select"}
_MULTI_SELECTS = {f"multi_{kind}" for kind in _SELECTS}
ACCESSORY_TYPES = _SELECTS | _MULTI_SELECTS | {"button", "checkboxes", "datepicker", "image"}
ACCESSORY_TYPES |= {"overflow", "radio_buttons", "timepicker", "workflow_button"}
ACTION_TYPES = (ACCESSORY_TYPES - {"image"}) | {"datetimepicker", "rich_text_input"}
INPUT_TYPES = _SELECTS | _MULTI_SELECTS | {"checkboxes", "datepicker", "datetimepicker"}
INPUT_TYPES |= {"email_text_input", "file_input", "number_input", "plain_text_input"}
INPUT_TYPES |= {"radio_buttons", "rich_text_input", "timepicker", "url_text_input"}
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME_RE = re.compile(r"\d{2}:\d{2}")


def _fmt(ptr: str, message: str) -> str:
    return f"{message} [json-pointer:{ptr}]"


class _Validator:
    def __init__(self, surface: str) -> None:
        self.surface = surface
        self.errors: list[str] = []

    def err(self, ptr: str, message: str) -> None:
        self.errors.append(_fmt(ptr, message))

    def string(self, value: Any, ptr: str, *, max_len: int, required: bool = True) -> None:
        if value is None:
            if required:
                self.err(ptr, f"missing required field: {ptr.rsplit('/', 1)[-1]}")
            return
        if not isinstance(value, str):
            self.err(ptr, "must be a string")
        elif len(value) > max_len:
            self.err(ptr, f"must be less than {max_len + 1} characters")

    def text(
        self, obj: Any, ptr: str, *, max_len: int, plain: bool = False, required: bool = True
    ) -> None:
        if obj is None:
            if required:
                self.err(ptr, f"missing required field: {ptr.rsplit('/', 1)[-1]}")
            return
        if not isinstance(obj, dict):
            self.err(ptr, "must be a text object")
            return
        kind = obj.get("type")
        if plain and kind != "plain_text":
            self.err(f"{ptr}/type", "must be plain_text")
        elif kind not in ("plain_text", "mrkdwn"):
            self.err(f"{ptr}/type", "must be a valid enum value")
        text = obj.get("text")
        if not isinstance(text, str):
            self.err(f"{ptr}/text", "missing required field: text")
        elif not text:
            self.err(f"{ptr}/text", "must be more than 0 characters")
        elif len(text) > max_len:
            self.err(f"{ptr}/text", f"must be less than {max_len + 1} characters")

    def items(self, value: Any, ptr: str, *, max_items: int, min_items: int = 1) -> list[Any]:
        if not isinstance(value, list):
            self.err(ptr, "must be an array")
            return []
        if len(value) > max_items:
            self.err(ptr, f"no more than {max_items} items allowed")
        elif len(value) < min_items:
            self.err(ptr, f"must provide at least {min_items} items")
        return value

    def options(self, value: Any, ptr: str, *, max_items: int, plain: bool = True) -> list[Any]:
        options = self.items(value, ptr, max_items=max_items)
        for i, option in enumerate(options):
            p = f"{ptr}/{i}"
            if not isinstance(option, dict):
                self.err(p, "must be an option object")
                continue
            self.text(option.get("text"), f"{p}/text", max_len=75, plain=plain)
            self.string(option.get("value"), f"{p}/value", max_len=150)
            self.text(option.get("description"), f"{p}/description", max_len=75, required=False)
        return options

    # -------------------------------------------------------------- blocks
    def blocks(self, blocks: Any, ptr: str = "/blocks") -> None:
        items = self.items(blocks, ptr, max_items=MAX_BLOCKS[self.surface], min_items=0)
        block_ids: set[str] = set()
        for i, block in enumerate(items):
            self.block(block, f"{ptr}/{i}", block_ids)

    def block(self, block: Any, ptr: str, block_ids: set[str]) -> None:
        if not isinstance(block, dict):
            self.err(ptr, "must be an object")
            return
        kind = block.get("type")
        if kind not in BLOCK_TYPES[self.surface]:
            self.err(f"{ptr}/type", f"unsupported type: {kind}")
            return
        block_id = block.get("block_id")
        if block_id is not None:
            self.string(block_id, f"{ptr}/block_id", max_len=255)
            if block_id in block_ids:
                self.err(f"{ptr}/block_id", f"duplicate block_id: {block_id}")
            block_ids.add(str(block_id))
        action_ids: set[str] = set()
        if kind == "section":
            self.section(block, ptr, action_ids)
        elif kind == "header":
            self.text(block.get("text"), f"{ptr}/text", max_len=150, plain=True)
        elif kind == "actions":
            elements = self.items(block.get("elements"), f"{ptr}/elements", max_items=25)
            for i, element in enumerate(elements):
                self.element(element, f"{ptr}/elements/{i}", ACTION_TYPES, action_ids)
        elif kind == "context":
            elements = self.items(block.get("elements"), f"{ptr}/elements", max_items=10)
            for i, element in enumerate(elements):
                p = f"{ptr}/elements/{i}"
                if isinstance(element, dict) and element.get("type") == "image":
                    self.image(element, p)
                else:
                    self.text(element, p, max_len=3000)
        elif kind == "input":
            self.text(block.get("label"), f"{ptr}/label", max_len=2000, plain=True)
            self.text(block.get("hint"), f"{ptr}/hint", max_len=2000, plain=True, required=False)
            if block.get("element") is None:
                self.err(f"{ptr}/element", "missing required field: element")
            else:
                self.element(block["element"], f"{ptr}/element", INPUT_TYPES, action_ids)
        elif kind == "image":
            self.image(block, ptr)
            self.text(block.get("title"), f"{ptr}/title", max_len=2000, plain=True, required=False)
        elif kind == "markdown":
            self.string(block.get("text"), f"{ptr}/text", max_len=12000)
        elif kind == "rich_text":
            self.items(block.get("elements"), f"{ptr}/elements", max_items=1000, min_items=0)
        elif kind == "video":
            for key in ("alt_text", "video_url", "thumbnail_url"):
                self.string(block.get(key), f"{ptr}/{key}", max_len=3000)
            self.text(block.get("title"), f"{ptr}/title", max_len=200, plain=True)

    def section(self, block: JSON, ptr: str, action_ids: set[str]) -> None:
        if block.get("text") is None and block.get("fields") is None:
            self.err(ptr, "must provide either text or fields")
        self.text(block.get("text"), f"{ptr}/text", max_len=3000, required=False)
        if block.get("fields") is not None:
            fields = self.items(block["fields"], f"{ptr}/fields", max_items=10)
            for i, item in enumerate(fields):
                self.text(item, f"{ptr}/fields/{i}", max_len=2000)
        if block.get("accessory") is not None:
            self.element(block["accessory"], f"{ptr}/accessory", ACCESSORY_TYPES, action_ids)

    def image(self, obj: JSON, ptr: str) -> None:
        if obj.get("slack_file") is None:
            self.string(obj.get("image_url"), f"{ptr}/image_url", max_len=3000)
        self.string(obj.get("alt_text"), f"{ptr}/alt_text", max_len=2000)

    # ------------------------------------------------------------ elements
    def element(self, element: Any, ptr: str, allowed: set[str], action_ids: set[str]) -> None:
        if not isinstance(element, dict):
            self.err(ptr, "must be an object")
            return
        kind = element.get("type")
        if kind not in allowed:
            self.err(f"{ptr}/type", f"unsupported type: {kind}")
            return
        if kind == "image":
            self.image(element, ptr)
            return
        action_id = element.get("action_id")
        if action_id is not None:
            self.string(action_id, f"{ptr}/action_id", max_len=255)
            if action_id in action_ids:
                self.err(f"{ptr}/action_id", f"duplicate action_id: {action_id}")
            action_ids.add(str(action_id))
        self.text(
            element.get("placeholder"),
            f"{ptr}/placeholder",
            max_len=150,
            plain=True,
            required=False,
        )
        if kind == "button":
            self.text(element.get("text"), f"{ptr}/text", max_len=75, plain=True)
            self.string(element.get("value"), f"{ptr}/value", max_len=2000, required=False)
            self.string(element.get("url"), f"{ptr}/url", max_len=3000, required=False)
            if element.get("style") not in (None, "primary", "danger"):
                self.err(f"{ptr}/style", "must be a valid enum value")
        elif kind in ("static_select", "multi_static_select"):
            self.select_options(element, ptr)
        elif kind == "overflow":
            self.options(element.get("options"), f"{ptr}/options", max_items=5)
        elif kind in ("checkboxes", "radio_buttons"):
            self.options(element.get("options"), f"{ptr}/options", max_items=10, plain=False)
        elif kind == "plain_text_input":
            self.text_input(element, ptr)
        elif kind == "datepicker" and element.get("initial_date") is not None:
            if not _DATE_RE.fullmatch(str(element["initial_date"])):
                self.err(f"{ptr}/initial_date", "must be a valid date (YYYY-MM-DD)")
        elif kind == "timepicker" and element.get("initial_time") is not None:
            if not _TIME_RE.fullmatch(str(element["initial_time"])):
                self.err(f"{ptr}/initial_time", "must be a valid time (HH:mm)")
        elif kind == "number_input" and "is_decimal_allowed" not in element:
            self.err(f"{ptr}/is_decimal_allowed", "missing required field: is_decimal_allowed")

    def select_options(self, element: JSON, ptr: str) -> None:
        options, groups = element.get("options"), element.get("option_groups")
        if (options is None) == (groups is None):
            self.err(ptr, "must provide exactly one of options or option_groups")
            return
        values: list[str] = []
        if options is not None:
            for option in self.options(options, f"{ptr}/options", max_items=100):
                values.append(str(option.get("value")) if isinstance(option, dict) else "")
        else:
            for i, group in enumerate(self.items(groups, f"{ptr}/option_groups", max_items=100)):
                group = group if isinstance(group, dict) else {}
                p = f"{ptr}/option_groups/{i}"
                self.text(group.get("label"), f"{p}/label", max_len=75, plain=True)
                for option in self.options(group.get("options"), f"{p}/options", max_items=100):
                    values.append(str(option.get("value")) if isinstance(option, dict) else "")
        initial = element.get("initial_option")
        if isinstance(initial, dict) and initial.get("value") not in values:
            self.err(f"{ptr}/initial_option", "must match one of the provided options")

    def text_input(self, element: JSON, ptr: str) -> None:
        min_len, max_len = element.get("min_length", 0), element.get("max_length", 3000)
        if not isinstance(min_len, int) or not 0 <= min_len <= 3000:
            self.err(f"{ptr}/min_length", "must be between 0 and 3000")
        if not isinstance(max_len, int) or not 1 <= max_len <= 3000:
            self.err(f"{ptr}/max_length", "must be between 1 and 3000")
        elif isinstance(min_len, int) and max_len < min_len:
            self.err(f"{ptr}/max_length", "must be greater than or equal to min_length")


def validate_blocks(blocks: Any, *, surface: str = "message", ptr: str = "/blocks") -> list[str]:
    """Slack-style error messages for ``blocks`` on ``surface``; empty when valid."""
    validator = _Validator(surface)
    validator.blocks(blocks, ptr)
    return validator.errors


def validate_view(view: Any) -> list[str]:
    """Errors views.open/push/update/publish would report for ``view``."""
    if not isinstance(view, dict):
        return [_fmt("/view", "must be an object")]
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return [_fmt("/view/type", "must be a valid enum value")]
    validator = _Validator(kind)
    if kind == "modal":
        validator.text(view.get("title"), "/view/title", max_len=24, plain=True)
        validator.text(view.get("submit"), "/view/submit", max_len=24, plain=True, required=False)
        validator.text(view.get("close"), "/view/close", max_len=24, plain=True, required=False)
        blocks = view.get("blocks")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and view.get("submit") is None:
            validator.err("/view", "must provide a submit property when using input blocks")
    validator.string(view.get("callback_id"), "/view/callback_id", max_len=255, required=False)
    validator.string(
        view.get("private_metadata"), "/view/private_metadata", max_len=3000, required=False
    )
    validator.string(view.get("external_id"), "/view/external_id", max_len=255, required=False)
    if view.get("blocks") is None:
        validator.err("/view/blocks", "missing required field: blocks")
    else:
        validator.blocks(view["blocks"], "/view/blocks")
    return validator.errors


# ------------------------------------------------------------- normalisation
def _normalize_texts(obj: Any) -> None:
    """Every text object, however deep (options, confirms …), gets Slack's defaults."""
    if isinstance(obj, list):
        for item in obj:
            _normalize_texts(item)
    elif isinstance(obj, dict):
        if isinstance(obj.get("text"), str) and obj.get("type") == "plain_text":
            obj.setdefault("emoji", True)
        elif isinstance(obj.get("text"), str) and obj.get("type") == "mrkdwn":
            obj.setdefault("verbatim", False)
        for value in obj.values():
            _normalize_texts(value)


def normalize_blocks(blocks: list[JSON], new_id: Callable[[], str]) -> list[JSON]:
    """A copy of ``blocks`` as Slack stores them: generated block_id / action_id filled in."""
    out = copy.deepcopy(blocks)
    for block in out:
        block.setdefault("block_id", new_id())
        for _, element in iter_elements([block]):
            element.setdefault("action_id", new_id())
    _normalize_texts(out)
    return out


def iter_elements(blocks: list[Any]) -> Iterator[tuple[JSON, JSON]]:
    """(block, element) for every interactive element: accessories, actions, inputs."""
    for block in blocks:
        if not isinstance(block, dict):
            continue
        candidates: list[Any] = []
        if block.get("type") == "section":
            candidates.append(block.get("accessory"))
        elif block.get("type") == "actions":
            candidates.extend(block.get("elements") or [])
        elif block.get("type") == "input":
            candidates.append(block.get("element"))
        for element in candidates:
            if isinstance(element, dict) and element.get("type") != "image":
                yield block, element


def find_element(
    blocks: list[JSON],
    action_id: str,
    *,
    block_id: str | None = None,
    types: set[str] | None = None,
) -> tuple[JSON, JSON]:
    """The (block, element) with ``action_id``; LookupError listing what exists otherwise."""
    matches = [
        (block, element)
        for block, element in iter_elements(blocks)
        if element.get("action_id") == action_id
        and (block_id is None or block.get("block_id") == block_id)
        and (types is None or element.get("type") in types)
    ]
    if len(matches) == 1:
        return matches[0]
    available = [
        f"{b.get('block_id')}/{e.get('action_id')} ({e.get('type')})"
        for b, e in iter_elements(blocks)
    ]
    if not matches:
        raise LookupError(
            f"no element with action_id={action_id!r} block_id={block_id!r} "
            f"types={sorted(types) if types else 'any'}; rendered: {available}"
        )
    raise LookupError(f"action_id={action_id!r} is in several blocks; pass block_id ({available})")

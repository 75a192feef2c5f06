"""Bodies are checked for depth before they are parsed: exact for JSON, and never shallower than
a parser descends into malformed text before it refuses it (its recursion is what is guarded)."""

from __future__ import annotations

import contextlib
import json
import json.decoder
import json.scanner
from typing import Any

from hypothesis import given, settings, strategies as st

from bot.web.common import MAX_JSON_DEPTH, json_depth

# strings full of what could be mistaken for structure
TRICKY = st.text(alphabet='[]{}"\\\\/ab', max_size=8)
VALUES = st.recursive(
    st.none() | st.integers() | TRICKY,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TRICKY, inner, max_size=3),
    max_leaves=30,
)


def depth_of(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    return 0


def descent(text: str) -> int:
    """How deep Python's own (pure Python) JSON scanner goes into `text` before it stops."""
    decoder = json.decoder.JSONDecoder()
    depth = deepest = 0

    def nested(parse: Any) -> Any:
        def parse_nested(*args: Any, **kwargs: Any) -> Any:
            nonlocal depth, deepest
            depth += 1
            deepest = max(deepest, depth)
            try:
                return parse(*args, **kwargs)
            finally:
                depth -= 1

        return parse_nested

    decoder.parse_array = nested(decoder.parse_array)
    decoder.parse_object = nested(decoder.parse_object)
    scan = json.scanner.py_make_scanner(decoder)
    with contextlib.suppress(StopIteration, ValueError, RecursionError):
        scan(text, 0)
    return deepest


@given(VALUES)
def test_the_depth_of_json_is_exact_whatever_its_strings_hold(value: Any) -> None:
    assert json_depth(json.dumps(value)) == depth_of(value)


@settings(max_examples=500)
@given(st.text(alphabet='[]{}"\\\\:,1 a', max_size=60))
def test_malformed_text_is_never_shallower_than_a_parser_goes(text: str) -> None:
    assert json_depth(text, limit=100) >= descent(text)


def test_counting_stops_past_the_limit() -> None:
    deep = "[" * 10_000 + "]" * 10_000
    assert json_depth(deep) == MAX_JSON_DEPTH + 1
    assert json_depth("[" * 10_000) > MAX_JSON_DEPTH
    assert json_depth('["' + "[" * 10_000 + '"]') == 1
    assert json_depth('["\\\\"' + ", [" * 40 + "]" * 41, limit=100) == 41

"""Text from outside, made storable."""

from __future__ import annotations

from typing import Any

NUL_STANDIN = "\ufffd"  # what a NUL in text from outside is stored (and compared) as


def no_nul(value: Any) -> Any:
    """`value` with each NUL character replaced (PostgreSQL refuses NUL in text; SQLite takes it,
    and the two must agree). Anything but a string is returned as it is."""
    return value.replace("\x00", NUL_STANDIN) if isinstance(value, str) else value

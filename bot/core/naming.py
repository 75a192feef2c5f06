"""Incident channel names: `inc-YYYYMMDD-<slug>`, valid as a chat channel name (a-z 0-9 - _, at most 80)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

MAX_CHANNEL_NAME = 80
_NOT_ALLOWED = re.compile(r"[^a-z0-9_-]+")


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_ALLOWED.sub("-", ascii_text.lower()).strip("-_")


def channel_name(
    title: str, declared_at: datetime, *, prefix: str = "inc", attempt: int = 1
) -> str:
    """The channel name for the `attempt`-th try (1 = no suffix; 2 → `-2` …), ≤ 80 chars."""
    day = declared_at.astimezone(UTC).strftime("%Y%m%d")
    head = f"{prefix}-{day}"
    suffix = f"-{attempt}" if attempt > 1 else ""
    slug = slugify(title)
    room = MAX_CHANNEL_NAME - len(head) - len(suffix) - 1
    slug = re.sub(r"-{2,}", "-", slug)[:room].rstrip("-_")
    return f"{head}-{slug}{suffix}" if slug else f"{head}{suffix}"

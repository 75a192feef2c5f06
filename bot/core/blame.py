"""Blameless language: find phrases in responders' free text that put a person at fault, so the
post-mortem draft marks them for the review instead of publishing them silently.

The list follows common blameless post-mortem guidance (Google SRE, Etsy, and the incident-response vendors' own): blame,
judgements of character, and hindsight ("should have known"). It is deliberately about
phrasing, not about names: a name alone is not blame ("Bob restarted the primary" is fine)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

PHRASES: tuple[str, ...] = (
    r"(?:the )?fault of",
    r"\w+'s fault",
    r"(?:his|her|their|your|my) fault",
    r"to blame",
    r"blame[sd]?",
    r"careless(?:ly|ness)?",
    r"negligen(?:t|ce)",
    r"reckless(?:ly)?",
    r"sloppy",
    r"lazy",
    r"incompetent|incompetence",
    r"stupid(?:ity)?",
    r"idiot(?:ic)?",
    r"dumb",
    r"should(?:'ve| have) known",
    r"should(?:'ve| have) (?:caught|noticed|checked|tested|seen)",
    r"failed to (?:notice|check|test|follow)",
    r"didn't bother",
    r"dropped the ball",
    r"screw(?:ed)? up",
    r"messed up",
    r"human error",
    r"rogue (?:engineer|employee|admin)",
    r"(?:obviously|clearly) (?:wrong|broke|broken)",
)
_PATTERN = re.compile(r"\b(?:" + "|".join(PHRASES) + r")\b", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    where: str  # what the text is ("note at 10:42 UTC", "resolution summary")
    phrase: str  # the words found, as written
    text: str  # the whole text, for the reviewer


def find(text: str) -> list[str]:
    """The blame phrases in `text`, as written, in order."""
    return [m.group(0) for m in _PATTERN.finditer(text or "")]


def lint(texts: Iterable[tuple[str, str]]) -> list[Finding]:
    """Findings for each (where, text) pair."""
    return [Finding(where, phrase, text) for where, text in texts for phrase in find(text)]

"""People in the core's sentences: a neutral reference that each surface renders its own way.

The core names a person by their id on the surface they act from (`person("U0ALICE")`); a chat
adapter turns each reference into its mention markup, a web page into a name or the id, so no
sentence the core writes carries a vendor's syntax."""

from __future__ import annotations

import re
from collections.abc import Callable

_REFERENCE = re.compile(r"\{person:([A-Za-z0-9._@+-]{1,64})\}")


def person(user: str) -> str:
    """A reference to `user` inside a sentence (rendered by the surface that shows it)."""
    return f"{{person:{user}}}"


def typed(text: str) -> str:
    """Text someone typed, to stand in a sentence: a reference spelled in it stays text (an
    invisible word joiner breaks it), so nobody can make the bot mention a person."""
    return text.replace("{person:", "{\u2060person:")


def render_people(text: str, render: Callable[[str], str]) -> str:
    """`text` with every person reference replaced by `render(user id)`."""
    return _REFERENCE.sub(lambda found: render(found.group(1)), text)


def people_in(text: str) -> list[str]:
    """The user ids `text` refers to, in order."""
    return _REFERENCE.findall(text)

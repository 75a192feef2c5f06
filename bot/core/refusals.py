"""A refusal as the core and the flows say it: what was refused, why, who the sentence is about,
and what to do instead. Plain words only: people are neutral references (`people.person`), what
someone typed goes in through `people.typed`, and no chat markup; each surface lays the parts
out in its own markup (a chat answer shows the fix on its own line, a JSON answer names them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    what: str  # the action refused, in a few words: "declare an incident", "page a service"
    why: str  # the plain sentence of the reason
    who: tuple[str, ...] = ()  # the people `why` is about (their ids): the commander who may …
    fix: str | None = None  # what to do instead, a sentence of its own: a usage example, settings

    @property
    def text(self) -> str:
        """The whole refusal as one plain text: the reason, then what to do instead."""
        return self.why if self.fix is None else f"{self.why} {self.fix}"


class Refused(Exception):
    """The command is not allowed (in the incident's current state, by this person, as typed):
    `refusal` says what, why, who and what to do instead; `reason` (and `str()`) is its whole
    plain text. The surface that shows it escapes it and renders the references."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.text)
        self.refusal = refusal

    @property
    def reason(self) -> str:
        return self.refusal.text


def sentence(text: str) -> str:
    """A clause from elsewhere (a port's `fix`: "set … in the catalog") as a sentence of its own:
    a capital first letter and a full stop."""
    text = text.strip()
    if text[:1].islower():
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else f"{text}."

"""Which chat surface an incident's message references belong to.

An incident's conversation, card and announcement are ids the chat surface gave
(`incident.chat_surface` names which: the chat's `kind`, recorded with them). A deployment
connected to another surface must not hand them to its chat, where they mean nothing, or
something else: effects on such an incident end at once with `OTHER_SURFACE`, and say why."""

from __future__ import annotations

from typing import Protocol

from bot.flows.ports import Chat, IntegrationError

OTHER_SURFACE = "other_surface"  # the effect's code: the incident's ids are another surface's


class OnASurface(Protocol):
    """What the check reads of an incident (its row has it)."""

    @property
    def chat_surface(self) -> str | None: ...


def require_this_surface(incident: OnASurface, chat: Chat) -> None:
    """Raise a permanent `IntegrationError` when the incident's message references were made
    on another surface than `chat`'s (none recorded yet: any surface may make them)."""
    surface = incident.chat_surface
    if surface is not None and surface != chat.kind:
        raise IntegrationError(
            "chat",
            OTHER_SURFACE,
            retryable=False,
            detail=f"this incident's conversation is on {surface},"
            " which this bot is not connected to",
        )


def gave_up_on_it(error: str) -> bool:
    """Whether a given-up effect's error is this check's: nothing can be told in the incident's
    conversation then (nor about it in the feed, whose card would carry the other surface's ids)."""
    return error.startswith(f"chat: {OTHER_SURFACE}")

"""How the web pages and the JSON answers word what the domain says: neutral person references
(`bot.core.people`) as `@id`, and milestone sources as the products this deployment uses."""

from __future__ import annotations

from bot.core.people import render_people


def said(text: str) -> str:
    """A domain sentence (a refusal, an outcome) for a page or a JSON answer: people as `@id`."""
    return render_people(text, lambda user: f"@{user}")

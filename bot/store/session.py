"""The unit of work's session, as the flows name it: they hold it, hand it to the store's
repositories, and never build a statement with it (bot.store owns the SQL)."""

from __future__ import annotations

from sqlmodel import Session

__all__ = ["Session"]

"""How the review pages are rendered: Jinja2 (autoescaped, strict) with the pages' filters, the
security headers every page carries (a strict Content Security Policy: no scripts at all), and
the stylesheet."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from importlib import resources
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined

from bot.adapters.source_names import source_name
from bot.core.metrics import humanize

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer browsers post forms with `Origin: null`
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
CSS = resources.files("bot.web").joinpath("static/review.css").read_text(encoding="utf-8")


def _utc(at: datetime | None, fmt: str = "%Y-%m-%d %H:%M UTC") -> str:
    return at.astimezone(UTC).strftime(fmt) if at else "—"


def _seconds(value: float | None) -> str:
    return humanize(timedelta(seconds=value)) if value is not None else "—"


def _href(url: str | None) -> str:
    """Only web links leave the page (a stored URL of another scheme becomes inert)."""
    if url and urlsplit(url.strip()).scheme.lower() in ("http", "https"):
        return url.strip()
    return "about:blank"


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bot.web", "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        utc=_utc,
        dur=humanize,
        secs=_seconds,
        href=_href,
        source=source_name,
        day=lambda d: d.strftime("%Y-%m-%d") if isinstance(d, date) else "—",
    )
    return env

"""The post-mortem draft's Markdown as HTML for the review page.

Raw HTML in the Markdown is never passed on: mistune's HTML renderer with `escape=True` shows it
as text. The one tag let through is a bare `<br>` in inline position, the line break
`bot.markup.escape_markdown` writes for a newline in responders' text. Links keep only `http`,
`https` and `mailto` targets (others keep their text and lose the link, as in bot.markup);
images become links to the image, never embedded."""

from __future__ import annotations

import re
from html import escape
from typing import Any, Final

import mistune
from mistune.renderers.html import HTMLRenderer

_BR: Final = re.compile(r"<br\s*/?>", re.IGNORECASE)
_SAFE_SCHEMES: Final = ("http:", "https:", "mailto:")


def _safe_href(url: str) -> str | None:
    url = url.strip()
    lowered = url.lower()
    if not lowered.startswith(_SAFE_SCHEMES) or any(ord(c) < 0x20 or c.isspace() for c in url):
        return None
    return url


class _Renderer(HTMLRenderer):
    def __init__(self) -> None:
        super().__init__(escape=True)

    def inline_html(self, html: str) -> str:
        return "<br>\n" if _BR.fullmatch(html.strip()) else escape(html)

    def block_html(self, html: str) -> str:
        return "<p>" + escape(html.strip()) + "</p>\n"

    def link(self, text: str, url: str, title: str | None = None) -> str:
        href = _safe_href(url)
        if href is None:
            return text
        attrs = f' href="{escape(href)}" rel="noopener noreferrer nofollow"'
        if title:
            attrs += f' title="{escape(title)}"'
        return f"<a{attrs}>{text}</a>"

    def image(self, text: str, url: str, title: str | None = None) -> str:
        label = text or "image"
        return self.link(f"[image: {label}]", url, title)


_MARKDOWN: Final[Any] = mistune.create_markdown(
    renderer=_Renderer(), plugins=["table", "strikethrough", "url"]
)


def to_html(markdown: str) -> str:
    """HTML for `markdown`, safe to put in a page as it is (user text stays text)."""
    return str(_MARKDOWN(markdown))

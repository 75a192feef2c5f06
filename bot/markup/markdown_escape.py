"""escape_markdown: untrusted text as Markdown that renders as exactly that text."""

from __future__ import annotations

import string
from typing import Final

# --------------------------------------------------------------------------------------------
# escape_markdown


_MD_PUNCTUATION: Final = frozenset(string.punctuation)


def escape_markdown(text: str) -> str:
    """Return Markdown that renders as exactly ``text`` inside a paragraph, heading, list item,
    table cell or link text, in all three outputs.

    * Every ASCII punctuation character gets a backslash (CommonMark's escape), so nothing in
      the text can start a heading, list, quote, code span/fence, link, emphasis, table cell,
      HTML tag or entity — wherever the template puts it.
    * Line breaks (``\\n``, ``\\r\\n``, ``\\r``) become ``<br>``: a line break inside the same
      paragraph, list item, heading or table cell. The result never contains a newline, so it
      cannot end a block or break a table row.
    * Leading and trailing whitespace is dropped (Markdown drops it at block edges anyway, and
      there 4+ leading spaces would start a code block and 2+ trailing spaces a hard break).
      Whitespace inside the text is kept as is.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    out: list[str] = []
    for char in text:
        if char in _MD_PUNCTUATION:
            out.append("\\" + char)
        elif char == "\n":
            out.append("<br>")
        else:
            out.append(char)
    return "".join(out)

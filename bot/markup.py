"""Markdown → Jira wiki markup, Atlassian Document Format and Slack mrkdwn.

Post-mortem drafts are rendered from Jinja2 templates as Markdown (CommonMark plus GFM tables
and strikethrough). This module converts that Markdown for the places a draft goes:

* :func:`to_jira_wiki` — Jira wiki markup (REST v2; Jira Data Center and Cloud).
* :func:`to_adf` — an Atlassian Document Format ``doc`` (REST v3; Jira Cloud).
* :func:`to_slack_mrkdwn` — Slack ``mrkdwn`` for previews.
* :func:`escape_markdown` — for templates: turns untrusted text (incident titles, notes, Slack
  messages) into Markdown that renders as exactly that text.

It is pure: it depends on ``mistune`` only, does no I/O and keeps no state between calls.
Markdown is parsed with mistune 3 into its AST and the tokens are walked; nothing is converted
with regular expressions over Markdown source.

Supported: ATX/setext headings h1–h6, paragraphs, soft and hard line breaks, bullet and ordered
lists (nested, mixed), emphasis, strong, strikethrough, inline code, fenced/indented code blocks
(with language), block quotes, thematic breaks, links and autolinks, images (as links to the
image, never embedded) and tables with a header row.

HTML is never passed on as markup: block and inline HTML come out as the literal text of the
tag. The one exception is a bare ``<br>`` / ``<br/>`` / ``<br />`` tag in inline position, which
is a line break in every output; :func:`escape_markdown` relies on it (see there).

Links are only kept for ``http``, ``https`` and ``mailto`` URLs; any other target (relative,
``javascript:``…) keeps its text and drops the link.

Lossy spots, where a target cannot express the Markdown:

* Jira wiki cannot nest ``{quote}``; nested block quotes are flattened into the outer one.
  ADF ``blockquote`` and ``listItem`` only take paragraphs, lists and code blocks, so headings
  inside them become bold paragraphs, quotes inside them are flattened and thematic breaks
  inside them are dropped. (Tables only occur at the top level: the GFM table plugin does
  not parse them inside quotes or list items.)
* Jira ``{code:lang}`` is used only for languages Jira's highlighter knows (Data Center shows an
  error panel for others); other or missing languages use ``{noformat}``.
* Jira ordered lists always count from 1. A list item's blocks after its first paragraph
  follow on continuation lines (code blocks there stay inside the item; tables cannot).
* Jira wiki text is escaped for Jira's own renderer (Data Center, and Cloud's legacy one):
  backslash escapes, plus numeric entities where no backslash escape exists (a backslash right
  before a special character, "h1."/"bq." at a line start, ":D"). Jira Cloud's wiki→ADF
  converter shows entities as typed and, inside *bold*/_italic_, re-reads backslash-escaped
  characters as markup; on Cloud prefer :func:`to_adf`, which is exact.
* Slack mrkdwn has no escape for ``* _ ~ `` ` ``: the Slack preview escapes only ``& < >`` (which
  is what keeps ``<!channel>`` and ``<@U123>`` inert), so formatting characters in user text can
  still look like emphasis there. Jira and ADF output are exact.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast
from urllib.parse import quote

import mistune

__all__ = ["escape_markdown", "escape_mrkdwn", "to_adf", "to_jira_wiki", "to_slack_mrkdwn"]

Token = dict[str, Any]
AdfNode = dict[str, Any]

_MARKDOWN: Final = mistune.create_markdown(renderer=None, plugins=["table", "strikethrough", "url"])


def _parse(markdown: str) -> list[Token]:
    return cast(list[Token], _MARKDOWN(markdown))


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


# --------------------------------------------------------------------------------------------
# Inline content as flat runs of text with marks (shared by the three renderers)

_STRONG: Final = "strong"
_EM: Final = "em"
_STRIKE: Final = "strike"
_CODE: Final = "code"
_MARK_ORDER: Final = (_STRONG, _EM, _STRIKE, _CODE)  # opening order: code innermost
_NO_MARKS: Final[frozenset[str]] = frozenset()

_BR_TAG: Final = re.compile(r"<br\s*/?>", re.IGNORECASE)
_SAFE_SCHEMES: Final = frozenset({"http", "https", "mailto"})
_URL_SCHEME: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# Characters percent-encoded in link targets: they would end or confuse Jira's [text|url] and
# Slack's <url|text>, and are never needed unencoded.
_URL_UNSAFE: Final = frozenset(' "<>[]{}|\\^`')


@dataclass(frozen=True, slots=True)
class _Text:
    text: str
    marks: frozenset[str] = _NO_MARKS
    href: str | None = None


@dataclass(frozen=True, slots=True)
class _Break:
    """A hard line break."""


@dataclass(frozen=True, slots=True)
class _Link:
    """Consecutive runs sharing one link target; ``marks`` are those common to all of them."""

    href: str
    runs: tuple[_Text, ...]
    marks: frozenset[str]

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)


_Run = _Text | _Break
_Item = _Text | _Break | _Link

_BREAK: Final = _Break()


def _safe_url(url: str) -> str | None:
    url = url.strip()
    match = _URL_SCHEME.match(url)
    if match is None or match.group(1).lower() not in _SAFE_SCHEMES:
        return None
    if len(url) == len(match.group(0)):
        return None
    return "".join(
        quote(c, safe="") if c in _URL_UNSAFE or ord(c) < 0x20 or ord(c) == 0x7F else c for c in url
    )


def _plain(tokens: Iterable[Token]) -> str:
    parts: list[str] = []
    for tok in tokens:
        if "children" in tok:
            parts.append(_plain(tok["children"]))
        elif tok["type"] in ("softbreak", "linebreak"):
            parts.append(" ")
        else:
            parts.append(str(tok.get("raw", "")))
    return "".join(parts)


def _add_text(out: list[_Run], text: str, marks: frozenset[str], href: str | None) -> None:
    # An inline token never spans lines in any output: a newline left in raw text (multi-line
    # inline HTML, for one) becomes a line break.
    for i, line in enumerate(text.split("\n")):
        if i:
            out.append(_BREAK)
        if line:
            out.append(_Text(line, marks, href))


def _collect(
    tokens: Iterable[Token], marks: frozenset[str], href: str | None, out: list[_Run]
) -> None:
    for tok in tokens:
        kind = tok["type"]
        children: list[Token] = tok.get("children") or []
        attrs: dict[str, Any] = tok.get("attrs") or {}
        if kind == "text":
            _add_text(out, str(tok.get("raw", "")), marks, href)
        elif kind == "emphasis":
            _collect(children, marks | {_EM}, href, out)
        elif kind == "strong":
            _collect(children, marks | {_STRONG}, href, out)
        elif kind == "strikethrough":
            _collect(children, marks | {_STRIKE}, href, out)
        elif kind == "codespan":
            _add_text(out, str(tok.get("raw", "")), marks | {_CODE}, href)
        elif kind == "softbreak":
            _add_text(out, " ", marks, href)
        elif kind == "linebreak":
            out.append(_BREAK)
        elif kind == "inline_html":
            raw = str(tok.get("raw", ""))
            if _BR_TAG.fullmatch(raw):
                out.append(_BREAK)
            else:
                _add_text(out, raw, marks, href)
        elif kind == "link":
            target = _safe_url(str(attrs.get("url", "")))
            _collect(children, marks, href or target, out)
        elif kind == "image":
            url = str(attrs.get("url", ""))
            _add_text(out, _plain(children) or url, marks, href or _safe_url(url))
        elif children:
            _collect(children, marks, href, out)
        elif "raw" in tok or "text" in tok:
            _add_text(out, str(tok.get("raw", tok.get("text", ""))), marks, href)


def _runs(tokens: Iterable[Token], extra: frozenset[str] = _NO_MARKS) -> list[_Run]:
    """Flatten inline tokens; merge neighbours with equal marks; no empty text, no edge breaks."""
    collected: list[_Run] = []
    _collect(tokens, extra, None, collected)
    runs: list[_Run] = []
    pending: list[_Text] = []  # neighbours with equal marks and link, joined once

    def flush() -> None:
        if pending:
            first = pending[0]
            runs.append(_Text("".join(p.text for p in pending), first.marks, first.href))
            pending.clear()

    for run in collected:
        if isinstance(run, _Text):
            if pending and (pending[0].marks, pending[0].href) != (run.marks, run.href):
                flush()
            pending.append(run)
        else:
            flush()
            runs.append(run)
    flush()
    start, end = 0, len(runs)
    while start < end and isinstance(runs[start], _Break):
        start += 1
    while end > start and isinstance(runs[end - 1], _Break):
        end -= 1
    return runs[start:end]


def _group_links(runs: Sequence[_Run]) -> list[_Item]:
    items: list[_Item] = []
    i = 0
    while i < len(runs):
        run = runs[i]
        if isinstance(run, _Text) and run.href is not None:
            group: list[_Text] = []
            while i < len(runs):
                nxt = runs[i]
                if not (isinstance(nxt, _Text) and nxt.href == run.href):
                    break
                group.append(nxt)
                i += 1
            common = frozenset.intersection(*(g.marks for g in group))
            inner = tuple(_Text(g.text, g.marks - common) for g in group)
            items.append(_Link(run.href, inner, common))
        else:
            items.append(run)
            i += 1
    return items


# Delimiter-based targets (Jira, Slack) need marks as properly nested open/close pairs whose
# content neither starts nor ends with whitespace. _plan turns runs into such a sequence.

_WS: Final = " \t"


@dataclass(frozen=True, slots=True)
class _Open:
    mark: str
    pair: int


@dataclass(frozen=True, slots=True)
class _Close:
    mark: str
    pair: int


_Step = _Text | _Break | _Link | _Open | _Close


def _plan(items: Sequence[_Item]) -> list[_Step]:
    plan: list[_Step] = []
    stack: list[_Open] = []
    pairs = 0

    def close_unwanted(want: frozenset[str]) -> None:
        keep = next((i for i, o in enumerate(stack) if o.mark not in want), len(stack))
        while len(stack) > keep:
            opened = stack.pop()
            plan.append(_Close(opened.mark, opened.pair))

    def open_missing(want: frozenset[str]) -> None:
        nonlocal pairs
        have = {o.mark for o in stack}
        for mark in _MARK_ORDER:
            if mark in want and mark not in have:
                pairs += 1
                stack.append(_Open(mark, pairs))
                plan.append(stack[-1])

    for index, item in enumerate(items):
        if isinstance(item, _Break):
            close_unwanted(_NO_MARKS)
            plan.append(item)
            continue
        close_unwanted(item.marks)
        if isinstance(item, _Link):
            open_missing(item.marks)
            plan.append(item)
            continue
        text = item.text
        if not item.marks <= {o.mark for o in stack}:
            body = text.lstrip(_WS)
            if len(body) < len(text):
                plan.append(_Text(text[: len(text) - len(body)]))
                text = body
            if not text:
                continue
            open_missing(item.marks)
        following = items[index + 1] if index + 1 < len(items) else None
        next_marks = following.marks if isinstance(following, _Text | _Link) else _NO_MARKS
        if any(o.mark not in next_marks for o in stack):
            body = text.rstrip(_WS)
            if body:
                plan.append(_Text(body))
            close_unwanted(next_marks)
            if len(body) < len(text):
                plan.append(_Text(text[len(body) :]))
        else:
            plan.append(_Text(text))
    close_unwanted(_NO_MARKS)
    return plan


def _strip_marks(runs: Iterable[_Run], marks: frozenset[str]) -> list[_Run]:
    return [_Text(r.text, r.marks - marks, r.href) if isinstance(r, _Text) else r for r in runs]


def _with_mark(runs: Iterable[_Run], mark: str) -> list[_Run]:
    return [
        _Text(r.text, r.marks | {mark}, r.href)
        if isinstance(r, _Text) and _CODE not in r.marks
        else r
        for r in runs
    ]


def _literal_runs(raw: str) -> list[_Run]:
    """Literal text (raw HTML blocks): lines become line breaks."""
    runs: list[_Run] = []
    _add_text(runs, raw.strip("\n"), _NO_MARKS, None)
    return runs


def _code_text(token: Token) -> str:
    raw = str(token.get("raw", ""))
    return raw[:-1] if raw.endswith("\n") else raw


def _code_language(token: Token) -> str:
    attrs: dict[str, Any] = token.get("attrs") or {}
    info = str(attrs.get("info") or "").strip()
    return info.split()[0] if info else ""


def _children(token: Token) -> list[Token]:
    return list(token.get("children") or [])


def _table_rows(token: Token) -> list[tuple[bool, list[Token]]]:
    """(is_header, cells) per row, header row first."""
    rows: list[tuple[bool, list[Token]]] = []
    for part in _children(token):
        if part["type"] == "table_head":
            rows.append((True, _children(part)))
        elif part["type"] == "table_body":
            rows.extend((False, _children(row)) for row in _children(part))
    return rows


def _is_letter_or_digit(char: str) -> bool:
    return char.isalpha() or char.isdecimal()


# --------------------------------------------------------------------------------------------
# Jira wiki markup

_JIRA_DELIMS: Final = {_STRONG: "*", _EM: "_", _STRIKE: "-"}
# Backslash escapes Jira's renderer understands (anything else keeps its backslash).
_JIRA_ESCAPABLE: Final = frozenset("-#*_+?^~|%{}[]()!@")
_JIRA_PHRASE: Final = frozenset("*_-+^~")
_JIRA_ALWAYS: Final = frozenset("{}[]|")
_JIRA_EMOTICON: Final = re.compile(
    r"\((?:y|n|i|/|x|!|\+|-|\?|on|off|\*[rgby]?|flagoff|flag)\)", re.IGNORECASE
)
_JIRA_ENTITY: Final = re.compile(r"&(?:#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);")
_JIRA_LINE_MARKER: Final = re.compile(r"\s*([*#-])[*#-]*(?:\s|$)")
_JIRA_LINE_KEYWORD: Final = re.compile(r"\s*(?:h[1-6]|bq)(?=\.)", re.IGNORECASE)
_ASCII_ALNUM: Final = frozenset(string.ascii_letters + string.digits)
# Languages Jira's {code} highlighter knows (others get an error panel on Data Center).
# fmt: off
_JIRA_LANGUAGES: Final = frozenset({
    "actionscript", "ada", "applescript", "bash", "c", "c#", "c++", "cpp", "css", "erlang",
    "go", "groovy", "haskell", "html", "java", "javascript", "js", "json", "lua", "nyan",
    "objc", "perl", "php", "python", "r", "ruby", "scala", "sh", "sql", "swift",
    "visualbasic", "xml", "yaml",
})
# fmt: on
_JIRA_LANGUAGE_ALIASES: Final = {
    "py": "python",
    "python3": "python",
    "yml": "yaml",
    "shell": "bash",
    "zsh": "bash",
    "console": "bash",
    "shell-session": "bash",
    "golang": "go",
    "rb": "ruby",
    "cs": "c#",
    "csharp": "c#",
    "objective-c": "objc",
    "jsx": "javascript",
    "node": "javascript",
    "htm": "html",
    "vb": "visualbasic",
}


def _jira_word_blocks_delimiter(char: str | None) -> bool:
    """True if a Jira renderer would not take ``*``/``_``/``-`` next to this char as a
    delimiter (Data Center: letters and digits; Cloud's converter: also any non-ASCII)."""
    if char is None:
        return False
    return _is_letter_or_digit(char) or (ord(char) > 0x7F and char != "\xa0")


def _jira_escape(text: str, prev: str | None, nxt: str | None, line_start: bool) -> str:
    """Escape literal text for Jira wiki markup.

    ``prev``/``nxt`` are the characters around the text in the output (None: line start/end).
    Escapes only what Jira could interpret here: ``{ } [ ] |`` always, phrase delimiters
    ``* _ - + ^ ~`` where they could open or close formatting, ``!`` where it could open an
    image, ``??``, ``--``, emoticons, entity look-alikes, and list/heading/quote markers at
    the start of a line. A backslash is literal in Jira unless a special character follows;
    only then is it written as an entity.
    """
    out: list[str] = []
    length = len(text)
    marker_at = keyword_at = -1  # where a line-start list marker / "h1." / "bq." is
    if line_start:
        marker = _JIRA_LINE_MARKER.match(text)
        if marker:
            marker_at = marker.start(1)
        keyword = _JIRA_LINE_KEYWORD.match(text)
        if keyword:
            keyword_at = keyword.end()
    for i, char in enumerate(text):
        p = text[i - 1] if i else prev
        q = text[i + 1] if i + 1 < length else nxt
        if char == "\\":
            out.append(
                "\\" if q is not None and q not in _JIRA_ESCAPABLE and q != "\\" else "&#92;"
            )
        elif char in _JIRA_ALWAYS or i == marker_at:
            out.append("\\" + char)
        elif i == keyword_at:
            out.append("&#46;")
        elif char in _JIRA_PHRASE:
            # Only a plain space stops a delimiter in both Jira renderers (Data Center
            # also stops at tabs, Cloud's converter does not).
            could_open = not (p is not None and _is_letter_or_digit(p)) and q not in (None, " ")
            could_close = p not in (None, " ") and not (q is not None and _is_letter_or_digit(q))
            dash_run = char == "-" and (p == "-" or q == "-")
            out.append("\\" + char if could_open or could_close or dash_run else char)
        elif char == "!":
            out.append("\\!" if q not in (None, " ") else "!")
        elif char == "?":
            out.append("\\?" if p == "?" or q == "?" else "?")
        elif char in "()":
            pp = text[i - 2] if i >= 2 else None
            smiley = p is not None and (p in ":;" or (p == "-" and pp is not None and pp in ":;"))
            emoticon = char == "(" and _JIRA_EMOTICON.match(text, i) is not None
            out.append("\\" + char if smiley or emoticon else char)
        elif char == ":":
            q2 = text[i + 2] if i + 2 < length else None
            smiley = q is not None and q in "PpDd" and q2 not in _ASCII_ALNUM
            out.append("&#58;" if smiley else ":")
        elif char == "&":
            out.append("&amp;" if _JIRA_ENTITY.match(text, i) else "&")
        else:
            out.append(char)
    return "".join(out)


def _jira_marker(step: _Open | _Close, forced: bool) -> str:
    if step.mark == _CODE:
        return "{{" if isinstance(step, _Open) else "}}"
    delim = _JIRA_DELIMS[step.mark]
    return "{" + delim + "}" if forced else delim


def _jira_inline(
    runs: Sequence[_Run],
    *,
    prev: str | None = None,
    nxt: str | None = None,
    line_start: bool = True,
) -> str:
    plan = _plan(_group_links(runs))

    # A delimiter touching a letter or digit only works in its {*} form.
    forced: set[int] = set()
    opened_at: dict[int, int] = {}
    for index, step in enumerate(plan):
        if isinstance(step, _Open):
            opened_at[step.pair] = index
        elif isinstance(step, _Close):
            start = opened_at[step.pair]
            before = plan[start - 1] if start else None
            after = plan[index + 1] if index + 1 < len(plan) else None
            char_before = before.text[-1] if isinstance(before, _Text) else None
            if before is None:
                char_before = prev
            char_after = after.text[0] if isinstance(after, _Text) else None
            if after is None:
                char_after = nxt
            if _jira_word_blocks_delimiter(char_before) or _jira_word_blocks_delimiter(char_after):
                forced.add(step.pair)

    rendered: list[str | None] = []  # None: a line break, resolved below
    for step in plan:
        if isinstance(step, _Open | _Close):
            rendered.append(_jira_marker(step, step.pair in forced))
        elif isinstance(step, _Link):
            rendered.append(_jira_link(step))
        elif isinstance(step, _Break):
            rendered.append(None)
        else:
            rendered.append("")  # text: filled in below, once its neighbours are known

    def first_char(index: int) -> str | None:
        if index >= len(plan):
            return nxt
        step = plan[index]
        if isinstance(step, _Text):
            return step.text[0]
        piece = rendered[index]
        return "\\" if piece is None else piece[0]

    out: list[str | None] = []
    for index, step in enumerate(plan):
        if isinstance(step, _Text):
            before_piece = out[-1] if out else None
            if not out:
                char_before = prev
            elif before_piece is None:
                char_before = "\\"
            else:
                char_before = before_piece[-1] if before_piece else None
            out.append(
                _jira_escape(step.text, char_before, first_char(index + 1), line_start and not out)
            )
        else:
            out.append(rendered[index])

    # Jira reads "\\" as a line break unless a backslash follows later in the same word (so
    # that UNC paths survive). A space after ours keeps it a break whatever follows. It is
    # only added where needed or where the next character is markup or punctuation (which
    # Jira may not take as the start of a word after a backslash): a backslash follows in
    # this word, or the word runs to the end of this content and the line goes on after it
    # (a table cell's "|", a link's "|url]"). Right to left, so that it stays linear.
    result: list[str] = []
    seen_space = False  # whitespace somewhere to the right
    word_backslash = False  # a backslash between here and the next whitespace
    following: str | None = None  # the character right after this point
    for piece in reversed(out):
        if piece is None:
            needs_space = (
                word_backslash
                or (not seen_space and nxt is not None)
                or (following is not None and not following.isspace() and not following.isalnum())
            )
            piece = "\\\\ " if needs_space else "\\\\"
        result.append(piece)
        for char in reversed(piece):
            if char.isspace():
                seen_space, word_backslash = True, False
            elif char == "\\":
                word_backslash = True
        if piece:
            following = piece[0]
    return "".join(reversed(result))


def _jira_link(link: _Link) -> str:
    if all(not run.marks for run in link.runs) and link.text == link.href:
        return "[" + link.href + "]"
    alias = _jira_inline(list(link.runs), prev="[", nxt="|", line_start=False)
    return "[" + alias + "|" + link.href + "]"


def _jira_code_block(token: Token) -> str:
    code = _code_text(token)
    language = _code_language(token).lower()
    language = _JIRA_LANGUAGE_ALIASES.get(language, language)
    lowered = code.lower()
    if language in _JIRA_LANGUAGES and "{code" not in lowered:
        return "{code:" + language + "}\n" + code + "\n{code}"
    if "{noformat" in lowered:
        # No escape exists inside {noformat}: keep the closing tag from closing it early.
        code = re.sub(r"\{(?=noformat)", "{\u200b", code, flags=re.IGNORECASE)
    return "{noformat}\n" + code + "\n{noformat}"


def _jira_table(token: Token) -> str:
    lines: list[str] = []
    for is_header, cells in _table_rows(token):
        sep = "||" if is_header else "|"
        rendered = [_jira_inline(_runs(_children(c)), prev="|", nxt="|") or " " for c in cells]
        lines.append(sep + sep.join(rendered) + sep)
    return "\n".join(lines)


def _jira_list(token: Token, prefix: str) -> list[str]:
    marker = prefix + ("#" if (token.get("attrs") or {}).get("ordered") else "*")
    lines: list[str] = []
    for item in _children(token):
        head: list[str] = []  # content of the current "marker line" (may span lines: code)
        emitted = False
        for child in _children(item):
            kind = child["type"]
            if kind == "list":
                if head:
                    lines.append(marker + " " + "\n".join(head))
                    head = []
                lines.extend(_jira_list(child, marker))
                emitted = True
            elif kind in ("paragraph", "block_text"):
                head.append(_jira_inline(_runs(_children(child))))
            elif kind == "heading":
                head.append(_jira_inline(_runs(_children(child), frozenset({_STRONG}))))
            elif kind != "blank_line":
                head.extend(_jira_blocks([child], in_quote=False))
        if head or not emitted:
            lines.append(marker + " " + "\n".join(head))
    return lines


def _jira_blocks(tokens: Iterable[Token], *, in_quote: bool) -> list[str]:
    blocks: list[str] = []
    for token in tokens:
        kind = token["type"]
        if kind in ("paragraph", "block_text"):
            text = _jira_inline(_runs(_children(token)))
            if text:
                blocks.append(text)
        elif kind == "heading":
            level = int((token.get("attrs") or {}).get("level", 1))
            blocks.append(f"h{level}. " + _jira_inline(_runs(_children(token)), prev=" "))
        elif kind == "list":
            blocks.append("\n".join(_jira_list(token, "")))
        elif kind == "block_code":
            blocks.append(_jira_code_block(token))
        elif kind == "block_quote":
            inner = _jira_blocks(_children(token), in_quote=True)
            if in_quote:
                blocks.extend(inner)  # {quote} cannot nest
            elif inner:
                blocks.append("{quote}\n" + "\n\n".join(inner) + "\n{quote}")
        elif kind == "thematic_break":
            blocks.append("----")
        elif kind == "table":
            blocks.append(_jira_table(token))
        elif kind == "block_html":
            blocks.append(_jira_inline(_literal_runs(str(token.get("raw", "")))))
        elif kind == "blank_line":
            continue
        elif _children(token):
            blocks.extend(_jira_blocks(_children(token), in_quote=in_quote))
        elif token.get("raw") or token.get("text"):
            raw = str(token.get("raw", token.get("text", "")))
            blocks.append(_jira_inline(_literal_runs(raw)))
    return [b for b in blocks if b]


def to_jira_wiki(markdown: str) -> str:
    """Convert Markdown to Jira wiki markup (blocks separated by blank lines, no trailing
    newline). Literal text is escaped so that it cannot turn into Jira markup."""
    return "\n\n".join(_jira_blocks(_parse(markdown), in_quote=False))


# --------------------------------------------------------------------------------------------
# Atlassian Document Format

_ADF_MARK_ORDER: Final = (_STRONG, _EM, _STRIKE, _CODE)


def _adf_inline(runs: Iterable[_Run]) -> list[AdfNode]:
    nodes: list[AdfNode] = []
    for run in runs:
        if isinstance(run, _Break):
            nodes.append({"type": "hardBreak"})
            continue
        if not run.text:
            continue
        # The code mark may only be combined with link.
        wanted = {_CODE} if _CODE in run.marks else run.marks
        marks: list[AdfNode] = [{"type": m} for m in _ADF_MARK_ORDER if m in wanted]
        if run.href is not None:
            marks.append({"type": "link", "attrs": {"href": run.href}})
        node: AdfNode = {"type": "text", "text": run.text}
        if marks:
            node["marks"] = marks
        previous = nodes[-1] if nodes else None
        if (
            previous is not None
            and previous["type"] == "text"
            and previous.get("marks") == node.get("marks")
        ):
            previous["text"] += node["text"]
        else:
            nodes.append(node)
    return nodes


def _adf_paragraph(runs: Iterable[_Run]) -> AdfNode:
    return {"type": "paragraph", "content": _adf_inline(runs)}


def _adf_code_block(token: Token) -> AdfNode:
    node: AdfNode = {"type": "codeBlock"}
    language = _code_language(token)
    if language:
        node["attrs"] = {"language": language}
    code = _code_text(token)
    node["content"] = [{"type": "text", "text": code}] if code else []
    return node


def _adf_table(token: Token) -> AdfNode:
    rows: list[AdfNode] = []
    for is_header, cells in _table_rows(token):
        cell_type = "tableHeader" if is_header else "tableCell"
        rows.append(
            {
                "type": "tableRow",
                "content": [
                    {"type": cell_type, "content": [_adf_paragraph(_runs(_children(c)))]}
                    for c in cells
                ],
            }
        )
    return {
        "type": "table",
        "attrs": {"isNumberColumnEnabled": False, "layout": "default"},
        "content": rows,
    }


def _adf_list(token: Token) -> AdfNode:
    attrs: dict[str, Any] = token.get("attrs") or {}
    items: list[AdfNode] = []
    for item in _children(token):
        content = _adf_blocks(_children(item), container="listItem")
        if not content or content[0]["type"] not in ("paragraph", "codeBlock"):
            content.insert(0, {"type": "paragraph", "content": []})
        items.append({"type": "listItem", "content": content})
    if attrs.get("ordered"):
        node: AdfNode = {"type": "orderedList", "content": items}
        start = attrs.get("start")
        if isinstance(start, int) and start != 1:
            node["attrs"] = {"order": max(start, 0)}
        return node
    return {"type": "bulletList", "content": items}


def _adf_blocks(tokens: Iterable[Token], *, container: str) -> list[AdfNode]:
    """Block nodes for ``container`` ("doc", "listItem" or "blockquote"; the latter two only
    take paragraphs, lists and code blocks)."""
    restricted = container != "doc"
    nodes: list[AdfNode] = []
    for token in tokens:
        kind = token["type"]
        if kind in ("paragraph", "block_text"):
            nodes.append(_adf_paragraph(_runs(_children(token))))
        elif kind == "heading":
            runs = _runs(_children(token))
            if restricted:
                nodes.append(_adf_paragraph(_with_mark(runs, _STRONG)))
            else:
                level = int((token.get("attrs") or {}).get("level", 1))
                nodes.append(
                    {"type": "heading", "attrs": {"level": level}, "content": _adf_inline(runs)}
                )
        elif kind == "list":
            nodes.append(_adf_list(token))
        elif kind == "block_code":
            nodes.append(_adf_code_block(token))
        elif kind == "block_quote":
            inner = _adf_blocks(_children(token), container="blockquote")
            if restricted:
                nodes.extend(inner)
            else:
                nodes.append({"type": "blockquote", "content": inner or [_adf_paragraph([])]})
        elif kind == "thematic_break":
            if not restricted:
                nodes.append({"type": "rule"})
        elif kind == "table":  # the GFM table plugin only parses tables at the top level
            nodes.append(_adf_table(token))
        elif kind == "block_html":
            nodes.append(_adf_paragraph(_literal_runs(str(token.get("raw", "")))))
        elif kind == "blank_line":
            continue
        elif _children(token):
            nodes.extend(_adf_blocks(_children(token), container=container))
        elif token.get("raw") or token.get("text"):
            raw = str(token.get("raw", token.get("text", "")))
            nodes.append(_adf_paragraph(_literal_runs(raw)))
    return nodes


def to_adf(markdown: str) -> dict[str, Any]:
    """Convert Markdown to an Atlassian Document Format document (``{"type": "doc",
    "version": 1, "content": [...]}``). Text nodes are never empty and the ``code`` mark is
    only combined with ``link``."""
    return {"type": "doc", "version": 1, "content": _adf_blocks(_parse(markdown), container="doc")}


# --------------------------------------------------------------------------------------------
# Slack mrkdwn

_SLACK_DELIMS: Final = {_STRONG: "*", _EM: "_", _STRIKE: "~", _CODE: "`"}
_SLACK_INDENT: Final = "    "
_SLACK_RULE: Final = "\u2500" * 20


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_mrkdwn(text: str) -> str:
    """Untrusted text (a title, a name someone typed) for a message that Slack reads as mrkdwn:
    `& < >` escaped, so `<!channel>`, `<@U…>` or `<url|label>` in it stay text."""
    return _slack_escape(text)


def _slack_fence_safe(text: str) -> str:
    # Nothing escapes ``` inside a Slack code block; keep it from closing the block early.
    return text.replace("```", "`\u200b``")


def _slack_inline(runs: Sequence[_Run]) -> str:
    # Slack inline code cannot contain a backtick: such text loses the code mark.
    runs = [
        _Text(r.text, r.marks - {_CODE}, r.href)
        if isinstance(r, _Text) and _CODE in r.marks and "`" in r.text
        else r
        for r in runs
    ]
    out: list[str] = []
    for step in _plan(_group_links(runs)):
        if isinstance(step, _Open | _Close):
            out.append(_SLACK_DELIMS[step.mark])
        elif isinstance(step, _Break):
            out.append("\n")
        elif isinstance(step, _Link):
            text = step.text
            href = _slack_escape(step.href)
            if text == step.href:
                out.append("<" + href + ">")
            else:
                out.append("<" + href + "|" + _slack_escape(text) + ">")
        else:
            out.append(_slack_escape(step.text))
    return "".join(out)


def _display_width(text: str) -> int:
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _pad(text: str, width: int, align: str | None) -> str:
    gap = width - _display_width(text)
    if align == "right":
        return " " * gap + text
    if align == "center":
        return " " * (gap // 2) + text + " " * (gap - gap // 2)
    return text + " " * gap


def _slack_table(token: Token) -> str:
    rows: list[tuple[bool, list[str]]] = []
    aligns: list[str | None] = []
    for is_header, cell_tokens in _table_rows(token):
        texts = []
        for cell in cell_tokens:
            runs = _runs(_children(cell))
            texts.append("".join(r.text if isinstance(r, _Text) else " " for r in runs))
            if is_header:
                aligns.append((cell.get("attrs") or {}).get("align"))
        rows.append((is_header, texts))
    columns = max((len(cells) for _, cells in rows), default=0)
    aligns += [None] * (columns - len(aligns))
    widths = [
        max((_display_width(c[i]) for _, c in rows if i < len(c)), default=0)
        for i in range(columns)
    ]
    lines: list[str] = []
    for is_header, cells in rows:
        padded = [_pad(c, widths[i], aligns[i]) for i, c in enumerate(cells)]
        lines.append(" | ".join(padded).rstrip())
        if is_header:
            lines.append("-+-".join("-" * w for w in widths))
    body = _slack_fence_safe(_slack_escape("\n".join(lines)))
    return "```\n" + body + "\n```"


def _slack_code_block(token: Token) -> str:
    return "```\n" + _slack_fence_safe(_slack_escape(_code_text(token))) + "\n```"


def _slack_list(token: Token, depth: int) -> list[str]:
    attrs: dict[str, Any] = token.get("attrs") or {}
    number = attrs.get("start", 1) if attrs.get("ordered") else None
    indent = _SLACK_INDENT * depth
    lines: list[str] = []
    for item in _children(token):
        bullet = "\u2022 " if number is None else f"{number}. "
        if number is not None:
            number += 1
        first = True
        for child in _children(item):
            if child["type"] == "blank_line":
                continue
            if child["type"] == "list":
                lines.extend(_slack_list(child, depth + 1))
                continue
            for block in _slack_blocks([child]):
                hanging = indent + " " * len(bullet)
                block_lines = block.split("\n")
                lead = indent + bullet if first else hanging
                lines.append(lead + block_lines[0])
                lines.extend(hanging + line if line else "" for line in block_lines[1:])
                first = False
        if first:
            lines.append(indent + bullet.rstrip())
    return lines


def _slack_quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.split("\n"))


def _slack_blocks(tokens: Iterable[Token], *, in_quote: bool = False) -> list[str]:
    blocks: list[str] = []
    for token in tokens:
        kind = token["type"]
        if kind in ("paragraph", "block_text"):
            blocks.append(_slack_inline(_runs(_children(token))))
        elif kind == "heading":
            # A heading is a bold line; marks inside it other than bold are kept.
            runs = _strip_marks(_runs(_children(token)), frozenset({_STRONG}))
            blocks.append(_slack_inline(_with_mark(runs, _STRONG)))
        elif kind == "list":
            blocks.append("\n".join(_slack_list(token, 0)))
        elif kind == "block_code":
            blocks.append(_slack_code_block(token))
        elif kind == "block_quote":
            inner = _slack_blocks(_children(token), in_quote=True)
            if in_quote:
                blocks.extend(inner)  # Slack quotes do not nest
            elif inner:
                blocks.append(_slack_quote("\n\n".join(inner)))
        elif kind == "thematic_break":
            blocks.append(_SLACK_RULE)
        elif kind == "table":
            blocks.append(_slack_table(token))
        elif kind == "block_html":
            blocks.append(_slack_escape(str(token.get("raw", "")).strip("\n")))
        elif kind == "blank_line":
            continue
        elif _children(token):
            blocks.extend(_slack_blocks(_children(token), in_quote=in_quote))
        elif token.get("raw") or token.get("text"):
            blocks.append(_slack_escape(str(token.get("raw", token.get("text", "")))))
    return [b for b in blocks if b]


def to_slack_mrkdwn(markdown: str) -> str:
    """Convert Markdown to Slack mrkdwn for a preview. Text is escaped for ``& < >`` only (the
    escapes Slack defines), which keeps ``<!channel>``-style mentions in text inert."""
    return "\n\n".join(_slack_blocks(_parse(markdown)))

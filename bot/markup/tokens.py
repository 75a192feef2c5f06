"""The Markdown parser and the flat runs of marked text that the three renderers share."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast
from urllib.parse import quote

import mistune

Token = dict[str, Any]
AdfNode = dict[str, Any]

_MARKDOWN: Final = mistune.create_markdown(renderer=None, plugins=["table", "strikethrough", "url"])


def parse_markdown(markdown: str) -> list[Token]:
    return cast(list[Token], _MARKDOWN(markdown))


# --------------------------------------------------------------------------------------------
# Inline content as flat runs of text with marks (shared by the three renderers)

STRONG: Final = "strong"
EM: Final = "em"
STRIKE: Final = "strike"
CODE: Final = "code"
_MARK_ORDER: Final = (STRONG, EM, STRIKE, CODE)  # opening order: code innermost
_NO_MARKS: Final[frozenset[str]] = frozenset()

_BR_TAG: Final = re.compile(r"<br\s*/?>", re.IGNORECASE)
_SAFE_SCHEMES: Final = frozenset({"http", "https", "mailto"})
_URL_SCHEME: Final = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# Characters percent-encoded in link targets: they would end or confuse Jira's [text|url] and
# Slack's <url|text>, and are never needed unencoded.
_URL_UNSAFE: Final = frozenset(' "<>[]{}|\\^`')


@dataclass(frozen=True, slots=True)
class TextRun:
    text: str
    marks: frozenset[str] = _NO_MARKS
    href: str | None = None


@dataclass(frozen=True, slots=True)
class Break:
    """A hard line break."""


@dataclass(frozen=True, slots=True)
class Link:
    """Consecutive runs sharing one link target; ``marks`` are those common to all of them."""

    href: str
    runs: tuple[TextRun, ...]
    marks: frozenset[str]

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)


Run = TextRun | Break
_Item = TextRun | Break | Link

_BREAK: Final = Break()


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


def _add_text(out: list[Run], text: str, marks: frozenset[str], href: str | None) -> None:
    # An inline token never spans lines in any output: a newline left in raw text (multi-line
    # inline HTML, for one) becomes a line break.
    for i, line in enumerate(text.split("\n")):
        if i:
            out.append(_BREAK)
        if line:
            out.append(TextRun(line, marks, href))


def _collect(
    tokens: Iterable[Token], marks: frozenset[str], href: str | None, out: list[Run]
) -> None:
    for tok in tokens:
        kind = tok["type"]
        children: list[Token] = tok.get("children") or []
        attrs: dict[str, Any] = tok.get("attrs") or {}
        if kind == "text":
            _add_text(out, str(tok.get("raw", "")), marks, href)
        elif kind == "emphasis":
            _collect(children, marks | {EM}, href, out)
        elif kind == "strong":
            _collect(children, marks | {STRONG}, href, out)
        elif kind == "strikethrough":
            _collect(children, marks | {STRIKE}, href, out)
        elif kind == "codespan":
            _add_text(out, str(tok.get("raw", "")), marks | {CODE}, href)
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


def inline_runs(tokens: Iterable[Token], extra: frozenset[str] = _NO_MARKS) -> list[Run]:
    """Flatten inline tokens; merge neighbours with equal marks; no empty text, no edge breaks."""
    collected: list[Run] = []
    _collect(tokens, extra, None, collected)
    runs: list[Run] = []
    pending: list[TextRun] = []  # neighbours with equal marks and link, joined once

    def flush() -> None:
        if pending:
            first = pending[0]
            runs.append(TextRun("".join(p.text for p in pending), first.marks, first.href))
            pending.clear()

    for run in collected:
        if isinstance(run, TextRun):
            if pending and (pending[0].marks, pending[0].href) != (run.marks, run.href):
                flush()
            pending.append(run)
        else:
            flush()
            runs.append(run)
    flush()
    start, end = 0, len(runs)
    while start < end and isinstance(runs[start], Break):
        start += 1
    while end > start and isinstance(runs[end - 1], Break):
        end -= 1
    return runs[start:end]


def group_links(runs: Sequence[Run]) -> list[_Item]:
    items: list[_Item] = []
    i = 0
    while i < len(runs):
        run = runs[i]
        if isinstance(run, TextRun) and run.href is not None:
            group: list[TextRun] = []
            while i < len(runs):
                nxt = runs[i]
                if not (isinstance(nxt, TextRun) and nxt.href == run.href):
                    break
                group.append(nxt)
                i += 1
            common = frozenset.intersection(*(g.marks for g in group))
            inner = tuple(TextRun(g.text, g.marks - common) for g in group)
            items.append(Link(run.href, inner, common))
        else:
            items.append(run)
            i += 1
    return items


# Delimiter-based targets (Jira, Slack) need marks as properly nested open/close pairs whose
# content neither starts nor ends with whitespace. plan_steps turns runs into such a sequence.

_WS: Final = " \t"


@dataclass(frozen=True, slots=True)
class Open:
    mark: str
    pair: int


@dataclass(frozen=True, slots=True)
class Close:
    mark: str
    pair: int


_Step = TextRun | Break | Link | Open | Close


def plan_steps(items: Sequence[_Item]) -> list[_Step]:
    plan: list[_Step] = []
    stack: list[Open] = []
    pairs = 0

    def close_unwanted(want: frozenset[str]) -> None:
        keep = next((i for i, o in enumerate(stack) if o.mark not in want), len(stack))
        while len(stack) > keep:
            opened = stack.pop()
            plan.append(Close(opened.mark, opened.pair))

    def open_missing(want: frozenset[str]) -> None:
        nonlocal pairs
        have = {o.mark for o in stack}
        for mark in _MARK_ORDER:
            if mark in want and mark not in have:
                pairs += 1
                stack.append(Open(mark, pairs))
                plan.append(stack[-1])

    for index, item in enumerate(items):
        if isinstance(item, Break):
            close_unwanted(_NO_MARKS)
            plan.append(item)
            continue
        close_unwanted(item.marks)
        if isinstance(item, Link):
            open_missing(item.marks)
            plan.append(item)
            continue
        text = item.text
        if not item.marks <= {o.mark for o in stack}:
            body = text.lstrip(_WS)
            if len(body) < len(text):
                plan.append(TextRun(text[: len(text) - len(body)]))
                text = body
            if not text:
                continue
            open_missing(item.marks)
        following = items[index + 1] if index + 1 < len(items) else None
        next_marks = following.marks if isinstance(following, TextRun | Link) else _NO_MARKS
        if any(o.mark not in next_marks for o in stack):
            body = text.rstrip(_WS)
            if body:
                plan.append(TextRun(body))
            close_unwanted(next_marks)
            if len(body) < len(text):
                plan.append(TextRun(text[len(body) :]))
        else:
            plan.append(TextRun(text))
    close_unwanted(_NO_MARKS)
    return plan


def strip_marks(runs: Iterable[Run], marks: frozenset[str]) -> list[Run]:
    return [TextRun(r.text, r.marks - marks, r.href) if isinstance(r, TextRun) else r for r in runs]


def with_mark(runs: Iterable[Run], mark: str) -> list[Run]:
    return [
        TextRun(r.text, r.marks | {mark}, r.href)
        if isinstance(r, TextRun) and CODE not in r.marks
        else r
        for r in runs
    ]


def literal_runs(raw: str) -> list[Run]:
    """Literal text (raw HTML blocks): lines become line breaks."""
    runs: list[Run] = []
    _add_text(runs, raw.strip("\n"), _NO_MARKS, None)
    return runs


def code_text(token: Token) -> str:
    raw = str(token.get("raw", ""))
    return raw[:-1] if raw.endswith("\n") else raw


def code_language(token: Token) -> str:
    attrs: dict[str, Any] = token.get("attrs") or {}
    info = str(attrs.get("info") or "").strip()
    return info.split()[0] if info else ""


def child_tokens(token: Token) -> list[Token]:
    return list(token.get("children") or [])


def table_rows(token: Token) -> list[tuple[bool, list[Token]]]:
    """(is_header, cells) per row, header row first."""
    rows: list[tuple[bool, list[Token]]] = []
    for part in child_tokens(token):
        if part["type"] == "table_head":
            rows.append((True, child_tokens(part)))
        elif part["type"] == "table_body":
            rows.extend((False, child_tokens(row)) for row in child_tokens(part))
    return rows


def is_letter_or_digit(char: str) -> bool:
    return char.isalpha() or char.isdecimal()

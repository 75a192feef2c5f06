"""Markdown → Slack mrkdwn, for previews; escape_mrkdwn for plain text in mrkdwn."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any, Final

from bot.markup.tokens import (
    CODE,
    EM,
    STRIKE,
    STRONG,
    Break,
    Close,
    Link,
    Open,
    Run,
    TextRun,
    Token,
    child_tokens,
    code_text,
    group_links,
    inline_runs,
    parse_markdown,
    plan_steps,
    strip_marks,
    table_rows,
    with_mark,
)

# --------------------------------------------------------------------------------------------
# Slack mrkdwn

_SLACK_DELIMS: Final = {STRONG: "*", EM: "_", STRIKE: "~", CODE: "`"}
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


def _slack_inline(runs: Sequence[Run]) -> str:
    # Slack inline code cannot contain a backtick: such text loses the code mark.
    runs = [
        TextRun(r.text, r.marks - {CODE}, r.href)
        if isinstance(r, TextRun) and CODE in r.marks and "`" in r.text
        else r
        for r in runs
    ]
    out: list[str] = []
    for step in plan_steps(group_links(runs)):
        if isinstance(step, Open | Close):
            out.append(_SLACK_DELIMS[step.mark])
        elif isinstance(step, Break):
            out.append("\n")
        elif isinstance(step, Link):
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
    for is_header, cell_tokens in table_rows(token):
        texts = []
        for cell in cell_tokens:
            runs = inline_runs(child_tokens(cell))
            texts.append("".join(r.text if isinstance(r, TextRun) else " " for r in runs))
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
    return "```\n" + _slack_fence_safe(_slack_escape(code_text(token))) + "\n```"


def _slack_list(token: Token, depth: int) -> list[str]:
    attrs: dict[str, Any] = token.get("attrs") or {}
    number = attrs.get("start", 1) if attrs.get("ordered") else None
    indent = _SLACK_INDENT * depth
    lines: list[str] = []
    for item in child_tokens(token):
        bullet = "\u2022 " if number is None else f"{number}. "
        if number is not None:
            number += 1
        first = True
        for child in child_tokens(item):
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
            blocks.append(_slack_inline(inline_runs(child_tokens(token))))
        elif kind == "heading":
            # A heading is a bold line; marks inside it other than bold are kept.
            runs = strip_marks(inline_runs(child_tokens(token)), frozenset({STRONG}))
            blocks.append(_slack_inline(with_mark(runs, STRONG)))
        elif kind == "list":
            blocks.append("\n".join(_slack_list(token, 0)))
        elif kind == "block_code":
            blocks.append(_slack_code_block(token))
        elif kind == "block_quote":
            inner = _slack_blocks(child_tokens(token), in_quote=True)
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
        elif child_tokens(token):
            blocks.extend(_slack_blocks(child_tokens(token), in_quote=in_quote))
        elif token.get("raw") or token.get("text"):
            blocks.append(_slack_escape(str(token.get("raw", token.get("text", "")))))
    return [b for b in blocks if b]


def to_slack_mrkdwn(markdown: str) -> str:
    """Convert Markdown to Slack mrkdwn for a preview. Text is escaped for ``& < >`` only (the
    escapes Slack defines), which keeps ``<!channel>``-style mentions in text inert."""
    return "\n\n".join(_slack_blocks(parse_markdown(markdown)))

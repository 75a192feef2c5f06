"""Markdown → Jira wiki markup (REST v2; Jira Data Center and Cloud)."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from typing import Final

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
    code_language,
    code_text,
    group_links,
    inline_runs,
    is_letter_or_digit,
    literal_runs,
    parse_markdown,
    plan_steps,
    table_rows,
)

# --------------------------------------------------------------------------------------------
# Jira wiki markup

_JIRA_DELIMS: Final = {STRONG: "*", EM: "_", STRIKE: "-"}
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
    return is_letter_or_digit(char) or (ord(char) > 0x7F and char != "\xa0")


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
            could_open = not (p is not None and is_letter_or_digit(p)) and q not in (None, " ")
            could_close = p not in (None, " ") and not (q is not None and is_letter_or_digit(q))
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


def _jira_marker(step: Open | Close, forced: bool) -> str:
    if step.mark == CODE:
        return "{{" if isinstance(step, Open) else "}}"
    delim = _JIRA_DELIMS[step.mark]
    return "{" + delim + "}" if forced else delim


def _jira_inline(
    runs: Sequence[Run],
    *,
    prev: str | None = None,
    nxt: str | None = None,
    line_start: bool = True,
) -> str:
    plan = plan_steps(group_links(runs))

    # A delimiter touching a letter or digit only works in its {*} form.
    forced: set[int] = set()
    opened_at: dict[int, int] = {}
    for index, step in enumerate(plan):
        if isinstance(step, Open):
            opened_at[step.pair] = index
        elif isinstance(step, Close):
            start = opened_at[step.pair]
            before = plan[start - 1] if start else None
            after = plan[index + 1] if index + 1 < len(plan) else None
            char_before = before.text[-1] if isinstance(before, TextRun) else None
            if before is None:
                char_before = prev
            char_after = after.text[0] if isinstance(after, TextRun) else None
            if after is None:
                char_after = nxt
            if _jira_word_blocks_delimiter(char_before) or _jira_word_blocks_delimiter(char_after):
                forced.add(step.pair)

    rendered: list[str | None] = []  # None: a line break, resolved below
    for step in plan:
        if isinstance(step, Open | Close):
            rendered.append(_jira_marker(step, step.pair in forced))
        elif isinstance(step, Link):
            rendered.append(_jira_link(step))
        elif isinstance(step, Break):
            rendered.append(None)
        else:
            rendered.append("")  # text: filled in below, once its neighbours are known

    def first_char(index: int) -> str | None:
        if index >= len(plan):
            return nxt
        step = plan[index]
        if isinstance(step, TextRun):
            return step.text[0]
        piece = rendered[index]
        return "\\" if piece is None else piece[0]

    out: list[str | None] = []
    for index, step in enumerate(plan):
        if isinstance(step, TextRun):
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


def _jira_link(link: Link) -> str:
    if all(not run.marks for run in link.runs) and link.text == link.href:
        return "[" + link.href + "]"
    alias = _jira_inline(list(link.runs), prev="[", nxt="|", line_start=False)
    return "[" + alias + "|" + link.href + "]"


def _jira_code_block(token: Token) -> str:
    code = code_text(token)
    language = code_language(token).lower()
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
    for is_header, cells in table_rows(token):
        sep = "||" if is_header else "|"
        rendered = [
            _jira_inline(inline_runs(child_tokens(c)), prev="|", nxt="|") or " " for c in cells
        ]
        lines.append(sep + sep.join(rendered) + sep)
    return "\n".join(lines)


def _jira_list(token: Token, prefix: str) -> list[str]:
    marker = prefix + ("#" if (token.get("attrs") or {}).get("ordered") else "*")
    lines: list[str] = []
    for item in child_tokens(token):
        head: list[str] = []  # content of the current "marker line" (may span lines: code)
        emitted = False
        for child in child_tokens(item):
            kind = child["type"]
            if kind == "list":
                if head:
                    lines.append(marker + " " + "\n".join(head))
                    head = []
                lines.extend(_jira_list(child, marker))
                emitted = True
            elif kind in ("paragraph", "block_text"):
                head.append(_jira_inline(inline_runs(child_tokens(child))))
            elif kind == "heading":
                head.append(_jira_inline(inline_runs(child_tokens(child), frozenset({STRONG}))))
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
            text = _jira_inline(inline_runs(child_tokens(token)))
            if text:
                blocks.append(text)
        elif kind == "heading":
            level = int((token.get("attrs") or {}).get("level", 1))
            blocks.append(f"h{level}. " + _jira_inline(inline_runs(child_tokens(token)), prev=" "))
        elif kind == "list":
            blocks.append("\n".join(_jira_list(token, "")))
        elif kind == "block_code":
            blocks.append(_jira_code_block(token))
        elif kind == "block_quote":
            inner = _jira_blocks(child_tokens(token), in_quote=True)
            if in_quote:
                blocks.extend(inner)  # {quote} cannot nest
            elif inner:
                blocks.append("{quote}\n" + "\n\n".join(inner) + "\n{quote}")
        elif kind == "thematic_break":
            blocks.append("----")
        elif kind == "table":
            blocks.append(_jira_table(token))
        elif kind == "block_html":
            blocks.append(_jira_inline(literal_runs(str(token.get("raw", "")))))
        elif kind == "blank_line":
            continue
        elif child_tokens(token):
            blocks.extend(_jira_blocks(child_tokens(token), in_quote=in_quote))
        elif token.get("raw") or token.get("text"):
            raw = str(token.get("raw", token.get("text", "")))
            blocks.append(_jira_inline(literal_runs(raw)))
    return [b for b in blocks if b]


def to_jira_wiki(markdown: str) -> str:
    """Convert Markdown to Jira wiki markup (blocks separated by blank lines, no trailing
    newline). Literal text is escaped so that it cannot turn into Jira markup."""
    return "\n\n".join(_jira_blocks(parse_markdown(markdown), in_quote=False))

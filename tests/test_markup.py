"""bot.markup: Markdown → Jira wiki markup / ADF / Slack mrkdwn, and escape_markdown.

Every ADF document produced here goes through `adf()`, which checks it with the structural
validator below (allowed children per node type, required attributes, marks)."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from bot.markup import escape_markdown, to_adf, to_jira_wiki, to_slack_mrkdwn

# ---------------------------------------------------------------------------------------------
# A small ADF validator: the subset of the ADF schema that bot.markup emits.

INLINE = {"text", "hardBreak"}
LIST_ITEM_CONTENT = {"paragraph", "bulletList", "orderedList", "codeBlock"}
CHILDREN: dict[str, set[str]] = {
    "doc": {
        "paragraph",
        "heading",
        "bulletList",
        "orderedList",
        "codeBlock",
        "blockquote",
        "rule",
        "table",
    },
    "paragraph": INLINE,
    "heading": INLINE,
    "bulletList": {"listItem"},
    "orderedList": {"listItem"},
    "listItem": LIST_ITEM_CONTENT,
    "blockquote": {"paragraph", "bulletList", "orderedList", "codeBlock"},
    "codeBlock": {"text"},
    "table": {"tableRow"},
    "tableRow": {"tableHeader", "tableCell"},
    "tableHeader": {"paragraph"},
    "tableCell": {"paragraph"},
    "rule": set(),
    "hardBreak": set(),
    "text": set(),
}
KEYS: dict[str, set[str]] = {
    "doc": {"type", "version", "content"},
    "heading": {"type", "attrs", "content"},
    "orderedList": {"type", "attrs", "content"},
    "codeBlock": {"type", "attrs", "content"},
    "table": {"type", "attrs", "content"},
    "text": {"type", "text", "marks"},
}
MUST_HAVE_CONTENT = {"bulletList", "orderedList", "listItem", "blockquote", "table", "tableRow"}
MARKS = {"strong", "em", "strike", "code", "link"}


def validate_adf(node: Any, parent: str | None = None) -> None:
    assert isinstance(node, dict), node
    kind = node.get("type")
    assert kind in CHILDREN, f"unknown node type {kind!r}"
    assert set(node) <= KEYS.get(kind, {"type", "content"}), f"{kind} has keys {set(node)}"
    if parent is not None:
        assert kind in CHILDREN[parent], f"{kind} is not allowed in {parent}"
    if kind == "doc":
        assert parent is None and node["version"] == 1
    content = node.get("content", [])
    assert isinstance(content, list)
    if CHILDREN[kind]:
        assert "content" in node or kind in {"paragraph", "heading", "codeBlock"}
    else:
        assert "content" not in node, f"{kind} cannot have content"
    if kind in MUST_HAVE_CONTENT or kind in {"tableHeader", "tableCell"}:
        assert content, f"{kind} needs at least one child"
    if kind == "listItem":
        assert content[0]["type"] in {"paragraph", "codeBlock"}, "a list cannot open a listItem"
    if kind in {"tableHeader", "tableCell"}:
        assert parent == "tableRow"
    if kind == "heading":
        assert node["attrs"]["level"] in range(1, 7)
    if kind == "orderedList" and "attrs" in node:
        assert set(node["attrs"]) == {"order"}
        assert isinstance(node["attrs"]["order"], int) and node["attrs"]["order"] >= 0
    if kind == "codeBlock" and "attrs" in node:
        assert set(node["attrs"]) == {"language"} and node["attrs"]["language"]
    if kind == "table":
        assert node["attrs"] == {"isNumberColumnEnabled": False, "layout": "default"}
        widths = {len(row["content"]) for row in content}
        assert len(widths) == 1, "ragged table"
    if kind == "text":
        text = node["text"]
        assert isinstance(text, str) and text, "empty text node"
        marks = node.get("marks")
        if marks is not None:
            assert marks, "empty marks list"
            assert parent != "codeBlock", "text in a codeBlock cannot have marks"
            types = [m["type"] for m in marks]
            assert len(types) == len(set(types)) and set(types) <= MARKS, types
            if "code" in types:
                assert set(types) <= {"code", "link"}, f"code combined with {types}"
            for mark in marks:
                if mark["type"] == "link":
                    assert set(mark) == {"type", "attrs"} and set(mark["attrs"]) == {"href"}
                    assert re.match(r"(https?|mailto):", mark["attrs"]["href"])
                else:
                    assert set(mark) == {"type"}
        if parent in {"paragraph", "heading"}:
            assert "\n" not in text
    for previous, child in itertools.pairwise(content):
        if previous["type"] == child["type"] == "text":
            assert previous.get("marks") != child.get("marks"), "unmerged text nodes"
    for child in content:
        validate_adf(child, kind)


def adf(markdown: str) -> list[dict[str, Any]]:
    doc = to_adf(markdown)
    assert set(doc) == {"type", "version", "content"} and doc["type"] == "doc"
    validate_adf(doc)
    return list(doc["content"])


def t(text: str, *marks: str, href: str | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "text", "text": text}
    mark_nodes: list[dict[str, Any]] = [{"type": m} for m in marks]
    if href is not None:
        mark_nodes.append({"type": "link", "attrs": {"href": href}})
    if mark_nodes:
        node["marks"] = mark_nodes
    return node


def p(*content: dict[str, Any]) -> dict[str, Any]:
    return {"type": "paragraph", "content": list(content)}


BR = {"type": "hardBreak"}


def bullets(*items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "bulletList", "content": [{"type": "listItem", "content": i} for i in items]}


def ordered(*items: list[dict[str, Any]], order: int | None = None) -> dict[str, Any]:
    node: dict[str, Any] = {
        "type": "orderedList",
        "content": [{"type": "listItem", "content": i} for i in items],
    }
    if order is not None:
        node["attrs"] = {"order": order}
    return node


def all_text(node: Any) -> str:
    """Concatenated text of all text nodes, a hardBreak counting as a newline."""
    if node.get("type") == "text":
        return str(node["text"])
    if node.get("type") == "hardBreak":
        return "\n"
    return "".join(all_text(child) for child in node.get("content", []))


def text_nodes(node: Any) -> list[dict[str, Any]]:
    if node.get("type") == "text":
        return [node]
    return [n for child in node.get("content", []) for n in text_nodes(child)]


# ---------------------------------------------------------------------------------------------
# Jira wiki markup: each construct

JIRA_CASES = [
    ("h1", "# Title", "h1. Title"),
    ("h2", "## Title", "h2. Title"),
    ("h3", "### Title", "h3. Title"),
    ("h4", "#### Title", "h4. Title"),
    ("h5", "##### Title", "h5. Title"),
    ("h6", "###### Title", "h6. Title"),
    ("setext heading", "Title\n-----", "h2. Title"),
    ("heading with marks", "# The *API* outage", "h1. The _API_ outage"),
    ("paragraph", "Hello world", "Hello world"),
    ("paragraphs", "one\n\ntwo", "one\n\ntwo"),
    ("soft break is a space", "one\ntwo", "one two"),
    ("hard break (spaces)", "one  \ntwo", "one\\\\two"),
    ("hard break (backslash)", "one\\\ntwo", "one\\\\two"),
    # Jira ignores "\\" when a backslash follows in the same word: a space keeps them breaks.
    ("hard break (<br>)", "one<br>two<br/>three<BR />four", "one\\\\ two\\\\ three\\\\four"),
    ("emphasis", "an *em* word", "an _em_ word"),
    ("strong", "a **strong** word", "a *strong* word"),
    ("strikethrough", "a ~~struck~~ word", "a -struck- word"),
    ("nested marks", "**bold *both* bold**", "*bold _both_ bold*"),
    ("strong em", "***both***", "*_both_*"),
    ("intraword marks use braces", "foo**bar**baz x*y*z", "foo{*}bar{*}baz x{_}y{_}z"),
    ("spaces move outside marks", "a **` x`**", "a  *{{x}}*"),
    ("marks close around line breaks", "**a  \nb**", "*a*\\\\ *b*"),
    ("inline code", "run `make test` now", "run {{make test}} now"),
    ("inline code is escaped", "`{{x}} *y* a|b`", "{{\\{\\{x\\}\\} \\*y\\* a\\|b}}"),
    ("code inside strong", "**see `x`**", "*see {{x}}*"),
    (
        "link",
        "[the runbook](https://wiki.example.com/a_b)",
        "[the runbook|https://wiki.example.com/a_b]",
    ),
    ("link with marks", "**[x](https://e.com)**", "*[x|https://e.com]*"),
    ("autolink", "<https://e.com/x>", "[https://e.com/x]"),
    ("bare url", "see https://e.com/x.", "see [https://e.com/x]."),
    ("email autolink", "<oncall@example.com>", "[oncall@example.com|mailto:oncall@example.com]"),
    ("url is percent-encoded", "[x](<https://e.com/a|b c>)", "[x|https://e.com/a%7Cb%20c]"),
    ("unsafe scheme drops link", "[x](javascript:alert(1))", "x"),
    ("relative url drops link", "[x](/incidents/1)", "x"),
    ("image becomes link", "![graph](https://e.com/g.png)", "[graph|https://e.com/g.png]"),
    ("bullets", "- a\n- b", "* a\n* b"),
    ("ordered", "1. a\n2. b", "# a\n# b"),
    ("nested mixed lists", "- a\n  - b\n    1. c\n- d", "* a\n** b\n**# c\n* d"),
    ("bullets in ordered", "1. a\n   - b\n2. c", "# a\n#* b\n# c"),
    ("loose list", "- a\n\n- b", "* a\n* b"),
    ("item with two paragraphs", "- a\n\n  b", "* a\nb"),
    ("item starting with a list", "- - a", "** a"),
    ("empty item", "-\n- b", "* \n* b"),
    ("code in item", "- run:\n  ```sh\n  make\n  ```", "* run:\n{code:sh}\nmake\n{code}"),
    ("code block", "```python\nx = 1\n```", "{code:python}\nx = 1\n{code}"),
    ("code language alias", "```py\nx\n```", "{code:python}\nx\n{code}"),
    ("code info string", "```yaml title=x\na: 1\n```", "{code:yaml}\na: 1\n{code}"),
    ("code unknown language", "```rust\nx\n```", "{noformat}\nx\n{noformat}"),
    ("code without language", "```\nx\n```", "{noformat}\nx\n{noformat}"),
    ("indented code", "    x = 1", "{noformat}\nx = 1\n{noformat}"),
    ("code is literal", "```\n*a* {b} [c|d]\n```", "{noformat}\n*a* {b} [c|d]\n{noformat}"),
    ("{code} in code", "```python\nx {code} y\n```", "{noformat}\nx {code} y\n{noformat}"),
    (
        "both terminators in code",
        "```\n{code}{noformat}\n```",
        "{noformat}\n{code}{\u200bnoformat}\n{noformat}",
    ),
    ("block quote", "> quoted", "{quote}\nquoted\n{quote}"),
    ("quote with blocks", "> a\n>\n> - b", "{quote}\na\n\n* b\n{quote}"),
    ("nested quotes are flattened", "> a\n> > b", "{quote}\na\n\nb\n{quote}"),
    ("thematic break", "---", "----"),
    ("table", "| a | b |\n|---|:-:|\n| 1 | 2 |", "||a||b||\n|1|2|"),
    ("table empty cell", "| a | b |\n|---|---|\n| | 2 |", "||a||b||\n| |2|"),
    ("table pipe in cell", "| a |\n|---|\n| x \\| y |", "||a||\n|x \\| y|"),
    ("table marks in cell", "| a |\n|---|\n| **x** |", "||a||\n|*x*|"),
    ("table break in cell", "| a |\n|---|\n| x<br>y |", "||a||\n|x\\\\ y|"),
    ("html block is text", "<div>\n<b>x</b>\n</div>", "<div>\\\\ <b>x</b>\\\\ </div>"),
    ("inline html is text", "a <span>b</span>", "a <span>b</span>"),
    ("entities stay literal", "&copy; R&D", "&amp;copy; R&D"),
    ("empty", "", ""),
]


@pytest.mark.parametrize(
    ("markdown", "expected"), [c[1:] for c in JIRA_CASES], ids=[c[0] for c in JIRA_CASES]
)
def test_jira_wiki(markdown: str, expected: str) -> None:
    assert to_jira_wiki(markdown) == expected


def test_jira_document() -> None:
    markdown = (
        "# Post-mortem\n\nSummary with **impact**.\n\n## Timeline\n\n- 10:02 alert\n- 10:05 page\n\n"
        "| When | What |\n|---|---|\n| 10:02 | alert |\n"
    )
    assert to_jira_wiki(markdown) == (
        "h1. Post-mortem\n\nSummary with *impact*.\n\nh2. Timeline\n\n* 10:02 alert\n* 10:05 page"
        "\n\n||When||What||\n|10:02|alert|"
    )


# Literal text (through escape_markdown, in a paragraph) → wiki markup: escape only where
# Jira would interpret something.
JIRA_ESCAPES = [
    ("prose stays plain", "on-call: snake_case, 2*3, a - b, (v2) ok? yes! 10:00", None),
    ("delimiters next to punctuation", "C++ x-", "C\\+\\+ x\\-"),
    ("always escaped", "a {b} [c] d|e", "a \\{b\\} \\[c\\] d\\|e"),
    ("phrase openers", "x *y _z -w +v ^u ~t", "x \\*y \\_z \\-w \\+v \\^u \\~t"),
    ("phrase closers", "y* z_ w- v+", "y\\* z\\_ w\\- v\\+"),
    ("emphasis look-alikes", "*bold* _it_ -del- +ins+", "\\*bold\\* \\_it\\_ \\-del\\- \\+ins\\+"),
    ("dash runs", "a -- b --- c", "a \\-\\- b \\-\\-\\- c"),
    ("image look-alike", "see !img.png! now!", "see \\!img.png! now!"),
    ("citation look-alike", "what?? ok?", "what\\?\\? ok?"),
    ("emoticons", "(y) (on) (*r) :) :( ;-) :D", "\\(y) \\(on) \\(\\*r) :\\) :\\( ;\\-\\) &#58;D"),
    ("entity look-alikes", "&amp; &#123; &x", "&amp;amp; &amp;#123; &x"),
    ("backslashes", "C:\\Users\\me", "C:\\Users\\me"),
    ("backslash before special", "a\\*b \\\\srv end\\", "a&#92;\\*b &#92;\\srv end&#92;"),
    ("list marker at line start", "* item", "\\* item"),
    ("numbered marker at line start", "# item", "\\# item"),
    ("dash marker at line start", "- item", "\\- item"),
    ("heading keyword at line start", "h1. Title", "h1&#46; Title"),
    ("quote keyword at line start", "bq. quote", "bq&#46; quote"),
    ("ruler at line start", "----", "\\-\\-\\-\\-"),
    ("markers mid-line are plain", "a * b # c", "a * b # c"),
    ("newline is a line break", "one\ntwo", "one\\\\two"),
    ("line break before an escape", "one\n*two", "one\\\\ \\*two"),
    ("line break before punctuation", "one\n(two)", "one\\\\ (two)"),
    ("html is text", "<b>x</b> <!channel>", "<b>x</b> <\\!channel>"),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in JIRA_ESCAPES], ids=[c[0] for c in JIRA_ESCAPES]
)
def test_jira_escapes_only_what_jira_interprets(text: str, expected: str | None) -> None:
    wiki = to_jira_wiki(escape_markdown(text))
    assert wiki == (text if expected is None else expected)
    assert jira_problems(wiki) == []


# A model of what Jira's renderer would interpret, applied to wiki markup that should be plain
# text: escapes are removed (masked) first, then anything left that could be markup is reported.
JIRA_ESCAPE_SEQ = re.compile(r"\\\\ ?|\\[-#*_+?^~|%{}\[\]()!@]|&#92;|&#46;|&#58;|&amp;")
JIRA_MASK_SEQ = re.compile(r"\\\\|\\[-#*_+?^~|%{}\[\]()!@]|&#92;|&#46;|&#58;|&amp;")
JIRA_ENTITIES = {"&#92;": "\\", "&#46;": ".", "&#58;": ":", "&amp;": "&"}


def jira_plain(wiki: str) -> str:
    """The text Jira shows for wiki markup made only of text, escapes and line breaks."""

    def decode(match: re.Match[str]) -> str:
        seq = match.group(0)
        if seq.startswith("\\\\"):
            return "\n"
        return seq[1] if seq.startswith("\\") else JIRA_ENTITIES[seq]

    return JIRA_ESCAPE_SEQ.sub(decode, wiki)


def jira_problems(wiki: str) -> list[str]:
    problems = []
    for line in wiki.split("\n"):
        # Jira's forced line break: "\\" not preceded by a backslash, nor followed by one later
        # in the same word.
        if re.search(r"\\\\(?=\S*\\)|\\\\\\", line):
            problems.append("a line break Jira would not take as one")
        masked = JIRA_MASK_SEQ.sub("\x01", line)

        def word(c: str | None) -> bool:
            return c is not None and (c.isalpha() or c.isdecimal())

        for i, char in enumerate(masked):
            before = masked[i - 1] if i else None
            after = masked[i + 1] if i + 1 < len(masked) else None
            if char in "{}[]|":
                problems.append(f"unescaped {char!r}")
            if char in "*_-+^~":
                opens = not word(before) and after not in (None, " ")
                closes = before not in (None, " ") and not word(after)
                if opens or closes:
                    problems.append(f"{char!r} could format text at {i}")
            if char == "!" and after not in (None, " "):
                problems.append("'!' could embed an image")
            if char == "\\" and (after is None or after in "-#*_+?^~|%{}[]()!@\\"):
                problems.append("a backslash would escape or break")
        for pattern, what in [
            (r"\?\?", "citation"),
            (r"--", "dash"),
            (r"(?i)\((?:y|n|i|/|x|!|\+|-|\?|on|off|\*[rgby]?|flag|flagoff)\)", "emoticon"),
            (r":-?[()]|:-?[PpD](?![A-Za-z0-9])|;-?\)", "smiley"),
            (r"&(?:#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);", "entity"),
            (r"^\s*[*#-]+\s", "list"),
            (r"^\s*(?:h[1-6]|bq)\.", "heading or quote"),
        ]:
            if re.search(pattern, masked):
                problems.append(what)
    return problems


# ---------------------------------------------------------------------------------------------
# ADF: each construct

ADF_CASES: list[tuple[str, str, list[dict[str, Any]]]] = [
    *[
        (
            f"h{n}",
            "#" * n + " Title",
            [{"type": "heading", "attrs": {"level": n}, "content": [t("Title")]}],
        )
        for n in range(1, 7)
    ],
    ("paragraph", "Hello world", [p(t("Hello world"))]),
    ("paragraphs", "one\n\ntwo", [p(t("one")), p(t("two"))]),
    ("soft break", "one\ntwo", [p(t("one two"))]),
    ("hard break", "one  \ntwo", [p(t("one"), BR, t("two"))]),
    ("br tag", "one<br>two", [p(t("one"), BR, t("two"))]),
    ("emphasis", "*a*", [p(t("a", "em"))]),
    ("strong", "**a**", [p(t("a", "strong"))]),
    ("strikethrough", "~~a~~", [p(t("a", "strike"))]),
    (
        "nested marks",
        "**a *b* c**",
        [p(t("a ", "strong"), t("b", "strong", "em"), t(" c", "strong"))],
    ),
    ("inline code", "`x`", [p(t("x", "code"))]),
    ("code drops other marks", "**`x`**", [p(t("x", "code"))]),
    ("link", "[a](https://e.com)", [p(t("a", href="https://e.com"))]),
    (
        "link with marks",
        "[**a** b](https://e.com)",
        [p(t("a", "strong", href="https://e.com"), t(" b", href="https://e.com"))],
    ),
    ("code link", "[`a`](https://e.com)", [p(t("a", "code", href="https://e.com"))]),
    ("autolink", "<https://e.com>", [p(t("https://e.com", href="https://e.com"))]),
    ("bare url", "at https://e.com", [p(t("at "), t("https://e.com", href="https://e.com"))]),
    ("unsafe link", "[a](javascript:x)", [p(t("a"))]),
    ("image", "![alt](https://e.com/i.png)", [p(t("alt", href="https://e.com/i.png"))]),
    ("bullets", "- a\n- b", [bullets([p(t("a"))], [p(t("b"))])]),
    ("ordered", "1. a\n2. b", [ordered([p(t("a"))], [p(t("b"))])]),
    ("ordered from 3", "3. a", [ordered([p(t("a"))], order=3)]),
    ("ordered from 0", "0. a", [ordered([p(t("a"))], order=0)]),
    (
        "nested lists",
        "- a\n  1. b\n     - c",
        [bullets([p(t("a")), ordered([p(t("b")), bullets([p(t("c"))])])])],
    ),
    ("item starting with a list", "- - a", [bullets([p(), bullets([p(t("a"))])])]),
    ("empty item", "-", [bullets([p()])]),
    ("item with two paragraphs", "- a\n\n  b", [bullets([p(t("a")), p(t("b"))])]),
    (
        "heading in item is bold",
        "- # h",
        [bullets([p(t("h", "strong"))])],
    ),
    (
        "code block",
        "```python\nx = 1\n```",
        [{"type": "codeBlock", "attrs": {"language": "python"}, "content": [t("x = 1")]}],
    ),
    ("code without language", "```\nx\n```", [{"type": "codeBlock", "content": [t("x")]}]),
    ("empty code block", "```\n```", [{"type": "codeBlock", "content": []}]),
    ("code is literal", "```\n*a* <b>\n```", [{"type": "codeBlock", "content": [t("*a* <b>")]}]),
    ("block quote", "> a", [{"type": "blockquote", "content": [p(t("a"))]}]),
    ("empty quote", ">", [{"type": "blockquote", "content": [p()]}]),
    (
        "quote flattens nesting, headings and rules",
        "> # h\n> > b\n> ---\n> c",
        [{"type": "blockquote", "content": [p(t("h", "strong")), p(t("b")), p(t("c"))]}],
    ),
    (
        "quote in item is flattened",
        "- > a",
        [bullets([p(t("a"))])],
    ),
    ("rule", "---", [{"type": "rule"}]),
    (
        "table",
        "| a | b |\n|---|---|\n| 1 | |",
        [
            {
                "type": "table",
                "attrs": {"isNumberColumnEnabled": False, "layout": "default"},
                "content": [
                    {
                        "type": "tableRow",
                        "content": [
                            {"type": "tableHeader", "content": [p(t("a"))]},
                            {"type": "tableHeader", "content": [p(t("b"))]},
                        ],
                    },
                    {
                        "type": "tableRow",
                        "content": [
                            {"type": "tableCell", "content": [p(t("1"))]},
                            {"type": "tableCell", "content": [p()]},
                        ],
                    },
                ],
            }
        ],
    ),
    ("html block", "<div>\nx\n</div>", [p(t("<div>"), BR, t("x"), BR, t("</div>"))]),
    ("inline html", "a <b>x</b>", [p(t("a <b>x</b>"))]),
    ("empty heading", "#", [{"type": "heading", "attrs": {"level": 1}, "content": []}]),
    ("empty", "", []),
]


@pytest.mark.parametrize(
    ("markdown", "expected"), [c[1:] for c in ADF_CASES], ids=[c[0] for c in ADF_CASES]
)
def test_adf(markdown: str, expected: list[dict[str, Any]]) -> None:
    assert adf(markdown) == expected


def test_adf_document_shape() -> None:
    doc = to_adf("# Hi")
    assert doc["type"] == "doc" and doc["version"] == 1 and isinstance(doc["content"], list)


# ---------------------------------------------------------------------------------------------
# Slack mrkdwn: each construct

SLACK_CASES = [
    ("heading is a bold line", "# Title", "*Title*"),
    ("heading keeps other marks", "## The *API* **down**", "*The _API_ down*"),
    ("paragraphs", "one\n\ntwo", "one\n\ntwo"),
    ("soft break", "one\ntwo", "one two"),
    ("hard break", "one  \ntwo", "one\ntwo"),
    ("marks close around breaks", "**one  \ntwo**", "*one*\n*two*"),
    ("emphasis", "*a*", "_a_"),
    ("strong", "**a**", "*a*"),
    ("strike", "~~a~~", "~a~"),
    ("nested", "**a *b* c**", "*a _b_ c*"),
    ("code", "`x`", "`x`"),
    ("code with a backtick", "`` a`b ``", "a`b"),
    ("link", "[docs](https://e.com/a?b=1&c=2)", "<https://e.com/a?b=1&amp;c=2|docs>"),
    ("link text escaped", "[a <b> & c](https://e.com)", "<https://e.com|a &lt;b&gt; &amp; c>"),
    ("autolink", "<https://e.com>", "<https://e.com>"),
    ("email", "<a@e.com>", "<mailto:a@e.com|a@e.com>"),
    ("unsafe link", "[x](javascript:x)", "x"),
    ("image", "![alt](https://e.com/i.png)", "<https://e.com/i.png|alt>"),
    ("bullets", "- a\n- b", "\u2022 a\n\u2022 b"),
    ("nested bullets", "- a\n  - b\n    - c", "\u2022 a\n    \u2022 b\n        \u2022 c"),
    ("ordered", "1. a\n2. b", "1. a\n2. b"),
    ("ordered from 3", "3. a\n4. b", "3. a\n4. b"),
    ("mixed", "1. a\n   - b", "1. a\n    \u2022 b"),
    ("item paragraphs", "- a\n\n  b", "\u2022 a\n  b"),
    ("code block", "```python\nx = 1\n```", "```\nx = 1\n```"),
    ("code block escaped", "```\na < b && c\n```", "```\na &lt; b &amp;&amp; c\n```"),
    ("fence in code", "````\n```\n````", "```\n`\u200b``\n```"),
    ("quote", "> a\n>\n> b", "> a\n>\n> b"),
    ("nested quote", "> a\n> > b", "> a\n>\n> b"),
    ("rule", "***", "\u2500" * 20),
    (
        "table",
        "| Name | Count | Mid |\n|:--|--:|:-:|\n| a | 1 | x |\n| bbbb | 10 | yyy |",
        "```\nName | Count | Mid\n-----+-------+----\na    |     1 |  x\nbbbb |    10 | yyy\n```",
    ),
    ("table wide chars", "| h |\n|---|\n| 日本 |", "```\nh\n----\n日本\n```"),
    ("table escapes", "| a |\n|---|\n| <x> & y |", "```\na\n-------\n&lt;x&gt; &amp; y\n```"),
    ("mentions stay inert", "<!channel> <@U123> &", "&lt;!channel&gt; &lt;@U123&gt; &amp;"),
    ("html block", "<div>\nx\n</div>", "&lt;div&gt;\nx\n&lt;/div&gt;"),
    ("empty", "", ""),
]


@pytest.mark.parametrize(
    ("markdown", "expected"), [c[1:] for c in SLACK_CASES], ids=[c[0] for c in SLACK_CASES]
)
def test_slack_mrkdwn(markdown: str, expected: str) -> None:
    assert to_slack_mrkdwn(markdown) == expected


# ---------------------------------------------------------------------------------------------
# escape_markdown

HOSTILE = (
    "*bold* _x_ [a|b] {code} |pipe| <!channel> <script>alert(1)</script> # heading - item 1. item"
)


def test_escape_markdown_output_is_one_line_of_escapes() -> None:
    escaped = escape_markdown("a*b\nc\r\nd\re")
    assert escaped == "a\\*b<br>c<br>d<br>e"
    assert escape_markdown("  \t padded  \n") == "padded"
    assert escape_markdown("") == escape_markdown(" \n ") == ""
    assert escape_markdown("plain words 123") == "plain words 123"


@pytest.mark.parametrize(
    "template",
    [
        "{}",
        "# {}",
        "- {}",
        "1. {}",
        "> {}",
        "**{}**",
        "Title: {}",
        "[{}](https://e.com)",
        "| h |\n|---|\n| {} |",
    ],
)
def test_hostile_text_is_literal_everywhere(template: str) -> None:
    markdown = template.format(escape_markdown(HOSTILE))

    nodes = text_nodes(to_adf(markdown))
    validate_adf(to_adf(markdown))
    carrying = [n for n in nodes if HOSTILE in n["text"]]
    assert len(carrying) == 1, nodes
    expected_marks = {
        "**{}**": [{"type": "strong"}],
        "[{}](https://e.com)": [{"type": "link", "attrs": {"href": "https://e.com"}}],
    }.get(template)
    assert carrying[0].get("marks") == expected_marks
    if template in ("{}", "# {}", "- {}", "1. {}", "> {}"):
        assert carrying[0] == {"type": "text", "text": HOSTILE}  # one plain node, exactly

    wiki = to_jira_wiki(markdown)
    assert "\\[a\\|b\\] \\{code\\} \\|pipe\\|" in wiki
    assert "\\*bold\\* \\_x\\_" in wiki
    assert "<\\!channel> <script>alert(1)</script> # heading - item 1. item" in wiki

    slack = to_slack_mrkdwn(markdown)
    assert "&lt;!channel&gt; &lt;script&gt;alert(1)&lt;/script&gt;" in slack
    assert "<!channel>" not in slack and "<script>" not in slack


def test_hostile_text_jira_paragraph_is_exact() -> None:
    wiki = to_jira_wiki(escape_markdown(HOSTILE))
    assert wiki == (
        "\\*bold\\* \\_x\\_ \\[a\\|b\\] \\{code\\} \\|pipe\\| <\\!channel> "
        "<script>alert(1)</script> # heading - item 1. item"
    )
    assert jira_problems(wiki) == []
    assert jira_plain(wiki) == HOSTILE


def test_newlines_stay_inside_their_block() -> None:
    note = "first line\n- not a list\n# not a heading"
    cell = escape_markdown(note)
    table = f"| when | note |\n|---|---|\n| 10:02 | {cell} |\n| 10:05 | next |"
    content = adf(table)
    assert len(content) == 1 and len(content[0]["content"]) == 3  # header + 2 rows: intact
    assert content[0]["content"][1]["content"][1]["content"] == [
        p(t("first line"), BR, t("- not a list"), BR, t("# not a heading"))
    ]
    assert to_jira_wiki(table).splitlines()[1] == (
        "|10:02|first line\\\\ \\- not a list\\\\ # not a heading|"
    )
    assert "first line\n- not a list\n# not a heading" in to_slack_mrkdwn(f"Note: {cell}")
    assert adf(f"- {cell}") == [
        bullets([p(t("first line"), BR, t("- not a list"), BR, t("# not a heading"))])
    ]
    assert adf(f"## {cell}")[0]["type"] == "heading" and len(adf(f"## {cell}")) == 1


def test_whitespace_cannot_make_code_blocks_or_breaks() -> None:
    assert adf(escape_markdown("    indented")) == [p(t("indented"))]
    assert adf(escape_markdown("trailing  ") + "\nnext") == [p(t("trailing next"))]


# ---------------------------------------------------------------------------------------------
# Properties

PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
MARKDOWNISH = st.lists(
    st.sampled_from(
        [
            *"ab *_~`#->|[](){}!?\\:;&<>=+^1.\n\t ",
            "<br>",
            "```",
            "**",
            "~~",
            "| a | b |\n|---|---|\n",
            "\n\n",
            "    ",
            "- ",
            "1. ",
            "> ",
            "https://e.com",
            "[a](https://e.com)",
            "![i](https://e.com/i)",
            "&amp;",
        ]
    ),
    max_size=30,
).map("".join)


def normalised(text: str) -> str:
    """What escape_markdown promises to keep: the text with line endings normalised to "\\n"
    and leading/trailing whitespace (str.strip) removed; nothing else changes."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


@PROPERTY_SETTINGS
@given(st.text())
def test_property_adf_text_is_the_escaped_text(text: str) -> None:
    """Concatenating the ADF text nodes (a hardBreak as "\\n") gives back normalised(text), in
    a paragraph and in a table cell, with no empty text node and no marks."""
    escaped = escape_markdown(text)
    assert "\n" not in escaped
    for markdown in (escaped, f"| h |\n|---|\n| {escaped} |"):
        doc = to_adf(markdown)
        validate_adf(doc)
        prefix = "h" if markdown.startswith("|") else ""
        assert all_text(doc) == prefix + normalised(text)
        nodes = text_nodes(doc)
        assert all(node["text"] for node in nodes)
        assert all("marks" not in node for node in nodes)


@PROPERTY_SETTINGS
@given(st.text())
def test_property_jira_shows_the_escaped_text(text: str) -> None:
    """Jira shows exactly the text (spaces right after a line break aside: HTML drops them
    and the wiki line break may add one), and nothing in it can be interpreted as markup —
    in a paragraph, a list item, a heading and a table cell."""
    escaped = escape_markdown(text)
    expected = re.sub("\n ", "\n", normalised(text))
    contents = [
        to_jira_wiki(escaped),
        to_jira_wiki(f"- {escaped}").removeprefix("* "),
        to_jira_wiki(f"### {escaped}").removeprefix("h3. "),
        to_jira_wiki(f"| h |\n|---|\n| {escaped} |").split("\n")[1][1:-1],
    ]
    for content in contents:
        if not expected:
            assert content.strip() == ""
            continue
        assert jira_problems(content) == []
        assert jira_plain(content) == expected


@pytest.mark.parametrize(
    "wiki",
    [
        "*bold*",
        "x _it_ y",
        "-del-",
        "{{mono}}",
        "[link|https://e.com]",
        "a|b",
        "!img.png!",
        "??cite??",
        "a -- b",
        "(y)",
        ":)",
        "&copy;",
        "* item",
        "# item",
        "h1. x",
        "bq. x",
        "a\\\\b\\c",
        "end\\",
    ],
)
def test_jira_checker_sees_markup(wiki: str) -> None:
    assert jira_problems(wiki) != []


@PROPERTY_SETTINGS
@given(st.text())
def test_property_slack_escapes_control_characters(text: str) -> None:
    slack = to_slack_mrkdwn(escape_markdown(text))
    assert "<" not in slack and ">" not in slack
    assert re.fullmatch(r"(?:[^&]|&amp;|&lt;|&gt;)*", slack, re.DOTALL)
    decoded = slack.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert decoded == normalised(text)


@PROPERTY_SETTINGS
@given(st.one_of(st.text(), MARKDOWNISH))
def test_property_never_raises_and_adf_is_valid(markdown: str) -> None:
    assert isinstance(to_jira_wiki(markdown), str)
    assert isinstance(to_slack_mrkdwn(markdown), str)
    validate_adf(to_adf(markdown))

"""Rich text: Atlassian Document Format (REST v3) and wiki markup (REST v2).

Jira Cloud keeps one document and answers v2 with wiki markup and v3 with ADF. The emulator
keeps what was written and converts on the way out: plain paragraphs, line breaks, headings,
lists, code blocks, quotes, rules and the common text marks survive the round trip; other node
types are kept in ADF and flattened to their text in wiki markup.
"""

from __future__ import annotations

import re
from typing import Any

from .records import JSON, Text

NOT_A_DOCUMENT = "Operation value must be an Atlassian Document (see the Atlassian Document Format)"
NOT_A_STRING = "Operation value must be a string"
INVALID_DOCUMENT = "INVALID_INPUT"

_BLOCKS = {
    "paragraph",
    "heading",
    "bulletList",
    "orderedList",
    "listItem",
    "codeBlock",
    "blockquote",
    "rule",
    "panel",
    "table",
    "tableRow",
    "tableHeader",
    "tableCell",
    "mediaSingle",
    "mediaGroup",
    "media",
    "expand",
    "nestedExpand",
    "taskList",
    "taskItem",
    "decisionList",
    "decisionItem",
    "blockCard",
    "embedCard",
    "extension",
    "bodiedExtension",
}
_INLINES = {
    "text",
    "hardBreak",
    "mention",
    "emoji",
    "date",
    "status",
    "inlineCard",
    "inlineExtension",
    "placeholder",
    "mediaInline",
}
_HEADING = re.compile(r"^h([1-6])\.\s+(.*)$")


def is_document(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.get("type") == "doc"
        and value.get("version") == 1
        and isinstance(value.get("content"), list)
    )


def check_document(value: Any) -> str | None:
    """None for a well-formed document, else Jira's error text for the field."""
    if not is_document(value):
        return NOT_A_DOCUMENT
    return None if all(_node_ok(n) for n in value["content"]) else INVALID_DOCUMENT


def _node_ok(node: Any) -> bool:
    if not isinstance(node, dict) or not isinstance(node.get("type"), str):
        return False
    kind = node["type"]
    if kind not in _BLOCKS and kind not in _INLINES:
        return False
    if kind == "text" and not (isinstance(node.get("text"), str) and node["text"]):
        return False
    content = node.get("content", [])
    return isinstance(content, list) and all(_node_ok(n) for n in content)


# ------------------------------------------------------------ wiki -> ADF
def _text(value: str) -> JSON:
    return {"type": "text", "text": value}


def _inline(lines: list[str]) -> list[JSON]:
    out: list[JSON] = []
    for i, line in enumerate(lines):
        if i:
            out.append({"type": "hardBreak"})
        if line:
            out.append(_text(line))
    return out


def wiki_to_document(wiki: str) -> JSON:
    """Paragraphs (blank-line separated, single newlines as hard breaks), ``hN.`` headings,
    ``*``/``#`` lists, ``{code}`` blocks, ``{quote}`` and ``----``."""
    blocks: list[JSON] = []
    lines = wiki.replace("\r\n", "\n").split("\n")
    i = 0
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append({"type": "paragraph", "content": _inline(paragraph)})
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        heading = _HEADING.match(line)
        if line.startswith("{code"):
            flush()
            language = line[5:].strip("}:").strip()
            body: list[str] = []
            i += 1
            while i < len(lines) and not lines[i].startswith("{code}"):
                body.append(lines[i])
                i += 1
            node: JSON = {"type": "codeBlock", "content": [_text("\n".join(body))] if body else []}
            if language:
                node["attrs"] = {"language": language}
            blocks.append(node)
        elif line == "{quote}":
            flush()
            quoted: list[str] = []
            i += 1
            while i < len(lines) and lines[i] != "{quote}":
                quoted.append(lines[i])
                i += 1
            inner = wiki_to_document("\n".join(quoted))["content"]
            blocks.append({"type": "blockquote", "content": inner})
        elif heading:
            flush()
            level, title = int(heading.group(1)), heading.group(2)
            blocks.append({"type": "heading", "attrs": {"level": level}, "content": [_text(title)]})
        elif line == "----":
            flush()
            blocks.append({"type": "rule"})
        elif line.startswith(("* ", "# ")):
            flush()
            marker = line[0]
            items: list[JSON] = []
            while i < len(lines) and lines[i].startswith(f"{marker} "):
                para = {"type": "paragraph", "content": _inline([lines[i][2:]])}
                items.append({"type": "listItem", "content": [para]})
                i += 1
            kind = "bulletList" if marker == "*" else "orderedList"
            blocks.append({"type": kind, "content": items})
            continue
        elif line == "":
            flush()
        else:
            paragraph.append(line)
        i += 1
    flush()
    return {"type": "doc", "version": 1, "content": blocks}


# ------------------------------------------------------------ ADF -> wiki
def _marked(text: str, marks: list[Any]) -> str:
    for mark in marks:
        kind = mark.get("type") if isinstance(mark, dict) else None
        if kind == "strong":
            text = f"*{text}*"
        elif kind == "em":
            text = f"_{text}_"
        elif kind == "code":
            text = "{{" + text + "}}"
        elif kind == "strike":
            text = f"-{text}-"
        elif kind == "underline":
            text = f"+{text}+"
        elif kind == "link":
            href = (mark.get("attrs") or {}).get("href", "")
            text = f"[{text}|{href}]"
    return text


def _inline_wiki(nodes: list[Any]) -> str:
    out = []
    for node in nodes:
        kind = node.get("type")
        attrs = node.get("attrs") or {}
        if kind == "text":
            out.append(_marked(node.get("text", ""), node.get("marks") or []))
        elif kind == "hardBreak":
            out.append("\n")
        elif kind == "mention":
            out.append(f"[~accountid:{attrs.get('id', '')}]")
        elif kind == "emoji":
            out.append(attrs.get("text") or attrs.get("shortName", ""))
        elif kind == "inlineCard":
            url = attrs.get("url", "")
            out.append(f"[{url}|{url}|smart-link]")
        else:
            out.append(_inline_wiki(node.get("content") or []))
    return "".join(out)


def _block_wiki(node: JSON) -> str:
    kind = node.get("type")
    content = node.get("content") or []
    attrs = node.get("attrs") or {}
    if kind == "paragraph":
        return _inline_wiki(content)
    if kind == "heading":
        return f"h{attrs.get('level', 1)}. {_inline_wiki(content)}"
    if kind in ("bulletList", "orderedList"):
        marker = "*" if kind == "bulletList" else "#"
        items = []
        for item in content:
            text = "\n".join(_block_wiki(b) for b in item.get("content") or [])
            items.append(f"{marker} {text}")
        return "\n".join(items)
    if kind == "codeBlock":
        language = attrs.get("language")
        opening = f"{{code:{language}}}" if language else "{code}"
        return f"{opening}\n{_inline_wiki(content)}\n{{code}}"
    if kind == "blockquote":
        return "{quote}\n" + "\n\n".join(_block_wiki(b) for b in content) + "\n{quote}"
    if kind == "rule":
        return "----"
    if kind in _INLINES:
        return _inline_wiki([node])
    return "\n\n".join(_block_wiki(b) for b in content)


def document_to_wiki(doc: JSON) -> str:
    return "\n\n".join(_block_wiki(b) for b in doc.get("content") or [])


def document_text(doc: JSON) -> str:
    """Every text node, space separated (what JQL ``~`` searches)."""
    parts: list[str] = []

    def walk(nodes: list[Any]) -> None:
        for node in nodes:
            if node.get("type") == "text":
                parts.append(node.get("text", ""))
            walk(node.get("content") or [])

    walk(doc.get("content") or [])
    return " ".join(parts)


# ----------------------------------------------------------- both forms
def as_wiki(text: Text | None) -> str | None:
    if text is None:
        return None
    if text.wiki is not None:
        return text.wiki
    return document_to_wiki(text.adf or {})


def as_document(text: Text | None) -> JSON | None:
    if text is None:
        return None
    if text.adf is not None:
        return text.adf
    return wiki_to_document(text.wiki or "")


def plain(text: Text | None) -> str:
    if text is None:
        return ""
    if text.wiki is not None:
        return text.wiki
    return document_text(text.adf or {})


def parse(value: Any, *, adf: bool) -> Text | None:
    """A written rich-text value (None clears it); raises ValueError with Jira's message."""
    if value is None:
        return None
    if adf:
        problem = check_document(value)
        if problem is not None:
            raise ValueError(problem)
        return Text(adf=value)
    if not isinstance(value, str):
        raise ValueError(NOT_A_STRING)
    return Text(wiki=value) if value else None  # Jira stores an empty string as null

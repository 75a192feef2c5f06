"""Markdown → Atlassian Document Format (REST v3; Jira Cloud)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from bot.markup.tokens import (
    CODE,
    EM,
    STRIKE,
    STRONG,
    AdfNode,
    Break,
    Run,
    Token,
    child_tokens,
    code_language,
    code_text,
    inline_runs,
    literal_runs,
    parse_markdown,
    table_rows,
    with_mark,
)

# --------------------------------------------------------------------------------------------
# Atlassian Document Format

_ADF_MARK_ORDER: Final = (STRONG, EM, STRIKE, CODE)


def _adf_inline(runs: Iterable[Run]) -> list[AdfNode]:
    nodes: list[AdfNode] = []
    for run in runs:
        if isinstance(run, Break):
            nodes.append({"type": "hardBreak"})
            continue
        if not run.text:
            continue
        # The code mark may only be combined with link.
        wanted = {CODE} if CODE in run.marks else run.marks
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


def _adf_paragraph(runs: Iterable[Run]) -> AdfNode:
    return {"type": "paragraph", "content": _adf_inline(runs)}


def _adf_code_block(token: Token) -> AdfNode:
    node: AdfNode = {"type": "codeBlock"}
    language = code_language(token)
    if language:
        node["attrs"] = {"language": language}
    code = code_text(token)
    node["content"] = [{"type": "text", "text": code}] if code else []
    return node


def _adf_table(token: Token) -> AdfNode:
    rows: list[AdfNode] = []
    for is_header, cells in table_rows(token):
        cell_type = "tableHeader" if is_header else "tableCell"
        rows.append(
            {
                "type": "tableRow",
                "content": [
                    {"type": cell_type, "content": [_adf_paragraph(inline_runs(child_tokens(c)))]}
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
    for item in child_tokens(token):
        content = _adf_blocks(child_tokens(item), container="listItem")
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
            nodes.append(_adf_paragraph(inline_runs(child_tokens(token))))
        elif kind == "heading":
            runs = inline_runs(child_tokens(token))
            if restricted:
                nodes.append(_adf_paragraph(with_mark(runs, STRONG)))
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
            inner = _adf_blocks(child_tokens(token), container="blockquote")
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
            nodes.append(_adf_paragraph(literal_runs(str(token.get("raw", "")))))
        elif kind == "blank_line":
            continue
        elif child_tokens(token):
            nodes.extend(_adf_blocks(child_tokens(token), container=container))
        elif token.get("raw") or token.get("text"):
            raw = str(token.get("raw", token.get("text", "")))
            nodes.append(_adf_paragraph(literal_runs(raw)))
    return nodes


def to_adf(markdown: str) -> dict[str, Any]:
    """Convert Markdown to an Atlassian Document Format document (``{"type": "doc",
    "version": 1, "content": [...]}``). Text nodes are never empty and the ``code`` mark is
    only combined with ``link``."""
    return {
        "type": "doc",
        "version": 1,
        "content": _adf_blocks(parse_markdown(markdown), container="doc"),
    }

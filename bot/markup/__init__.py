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

from bot.markup.adf import to_adf
from bot.markup.jira_wiki import to_jira_wiki
from bot.markup.markdown_escape import escape_markdown
from bot.markup.slack_mrkdwn import escape_mrkdwn, to_slack_mrkdwn

__all__ = ["escape_markdown", "escape_mrkdwn", "to_adf", "to_jira_wiki", "to_slack_mrkdwn"]

"""Hostile input for the fuzz tests, and the checks that it stayed inert: Slack markup that
leaked out of user text, Jira wiki markup that did, and a consistency check of the database."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import select

from bot.core.milestones import Milestone, order_errors
from bot.sandbox import Sandbox
from bot.store.models import Incident, MilestoneRow

# -- hostile text -------------------------------------------------------------------------------

# Slack markup that must never come out of user text unescaped: it would ping the channel, ping
# someone, or render a link the bot never meant.
SLACK_MARKUP = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<!subteam^SEVIL01>",
    "<@UEVIL01>",
    "<@UEVIL02|boss>",
    "<https://evil.example/login|Click to keep your job>",
    "<#CEVIL01>",
]
# Jira wiki markup that must stay text in the post-mortem: a mention, raw HTML, links, images.
JIRA_MARKUP = [
    "[~accountid:5b10ac8d82e05b22cc7d4ef5]",
    "{html}<img src=x onerror=alert(1)>{html}",
    "[click|javascript:alert(1)]",
    "!https://evil.example/pixel.png!",
    "{color:red}ALARM{color}",
]
HTML = ["<script>alert(1)</script>", '"><svg onload=alert(1)>', "<img src=x onerror=alert(1)>"]
ODD = [
    "*bold* _it_ ~strike~ `code` ```block```",
    "\u202eevil\u202c right-to-left",  # RTL override
    "zero\u200bwidth\u200d\ufeffjoiners",
    "nul\x00byte",
    "\x1b[31mansi\x1b[0m",
    "😀🔥👩‍👩‍👧‍👦 emoji",
    "Ünïcödé ﷽ 𝕏 \U0010fffd",
    "line\nbreak\r\nand\ttab",
    "%s %n {0} {{7*7}} ${7*7}",
    "'; DROP TABLE incident; --",
    "../../../etc/passwd",
    "   ",
    "",
]
LONG = ["A" * 2000, "<!channel>" * 150, "é" * 3000]
HOSTILE = SLACK_MARKUP + JIRA_MARKUP + HTML + ODD + LONG


def hostile_text(max_size: int = 24) -> st.SearchStrategy[str]:
    """Mostly the hand-picked hostile strings, mixed with arbitrary unicode (kept cheap to
    draw: the fuzz tests send thousands)."""
    picked = st.sampled_from(HOSTILE)
    arbitrary = st.text(st.characters(codec="utf-8"), max_size=max_size)
    return st.one_of(picked, arbitrary, st.tuples(picked, arbitrary, picked).map(" ".join))


def json_values(text: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[Any]:
    """Any JSON value: wrong types, nesting, huge and odd numbers, hostile strings."""
    text = text or hostile_text()
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        text,
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=3), st.dictionaries(text, children, max_size=3)
        ),
        max_leaves=6,
    )


JSON_VALUES = json_values()
TEXT = hostile_text()
TIMES = st.one_of(
    st.sampled_from(
        [
            "2026-11-26T06:58:12.345678901Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2026-11-26T06:58:12",  # naive
            "2026-13-45T99:99:99Z",
            "yesterday",
            "0001-01-01T00:00:00+14:00",  # before year 1 in UTC
            "9999-12-31T23:59:59-14:00",  # after year 9999 in UTC
            "",
        ]
    ),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    JSON_VALUES,
)
LINKS = st.one_of(
    st.sampled_from(
        [
            "https://grafana.example.com/d/x?orgId=1&from=now-1h",
            "javascript:alert(1)",
            "http://x|y> <!channel> <http://z",
            "https://evil.example|pwn> <!here> <https://evil.example",
            "https://ok.example/<@UEVIL01>",
            "https://ok.example/a b\nc",
        ]
    ),
    TEXT,
)


# Slack signature headers no Slack request carries: a timestamp that is not decimal digits, a
# signature that is not `v0=` and 64 lowercase hex digits. Each must be refused with a 401 (some
# made Bolt's verifier raise: a 500 and a traceback). Latin-1 only: HTTP carries nothing else.
BAD_TIMESTAMPS = [
    "abc",
    "1e9",
    "0x10",
    "",
    " 12",
    "1" * 30,
    "-5",
    "-1700000000",
    "+1700000000",
    "1_700_000_000",
    "12.5",
    "NaN",
    "1700000000 ",
    "17000000\xa000",
]
BAD_SIGNATURES = [
    "",
    "v0=",
    "v0=" + "g" * 64,
    "v0=" + "A" * 64,
    "v0=" + "0" * 63,
    "v0=" + "0" * 65,
    "v1=" + "0" * 64,
    "V0=" + "0" * 64,
    "sha256=" + "0" * 64,
    "v0=" + "0" * 64 + ",v0=" + "0" * 64,
    "v0 = " + "0" * 64,
]
HEADER_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=80,
)
BAD_TIMESTAMP = st.one_of(st.sampled_from(BAD_TIMESTAMPS), HEADER_TEXT)
BAD_SIGNATURE = st.one_of(st.sampled_from(BAD_SIGNATURES), HEADER_TEXT)

# -- Slack markup that leaked -------------------------------------------------------------------

# A link to evil.example is fine where an alert or PagerDuty gave it as a link (the bot shows
# those); a leak is one whose label came from user text, or that user text broke out of.
_LEAK = re.compile(
    r"<!channel>|<!here>|<!everyone>|<!subteam\^SEVIL|<@UEVIL|<#CEVIL"
    r"|<https://evil\.example[^|>]*\|(?:Click|pwn)"
)


@dataclass(frozen=True)
class Leak:
    where: str  # the Web API method, or "ephemeral:<source>"
    path: str  # where in the message: "/text", "/blocks[2]/text/text" …
    block_id: str | None
    text: str
    blocks: frozenset[str] = frozenset()  # the block ids of the whole message

    def __str__(self) -> str:
        return f"{self.where} {self.path} ({self.block_id}): {self.text[:200]!r}"


def _mrkdwn(
    node: Any, path: str = "", block: str | None = None
) -> Iterator[tuple[str, str | None, str]]:
    """Every text Slack parses as markup: top-level `text` and mrkdwn objects (plain_text and
    button values are never parsed)."""
    if isinstance(node, dict):
        if node.get("type") == "plain_text":
            return
        block = str(node["block_id"]) if "block_id" in node else block
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield f"{path}/{key}", block, value
            else:
                yield from _mrkdwn(value, f"{path}/{key}", block)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _mrkdwn(value, f"{path}[{i}]", block)


def _block_ids(blocks: Any) -> frozenset[str]:
    if not isinstance(blocks, list):
        return frozenset()
    return frozenset(str(b["block_id"]) for b in blocks if isinstance(b, dict) and "block_id" in b)


# Every Web API method whose arguments Slack shows as markup: messages and modals (their mrkdwn
# parts), and the channel's topic and purpose and bookmark titles (plain strings Slack still
# renders mentions and links in).
MESSAGE_METHODS = frozenset(
    {
        "chat.postMessage",
        "chat.update",
        "chat.postEphemeral",
        "chat.scheduleMessage",
        "views.open",
        "views.update",
        "views.push",
        "views.publish",
    }
)
STRING_ARGUMENTS = {
    "conversations.setTopic": "topic",
    "conversations.setPurpose": "purpose",
    "conversations.create": "name",
    "bookmarks.add": "title",
    "bookmarks.edit": "title",
}


def slack_leaks(sb: Sandbox) -> list[Leak]:
    """Hostile Slack markup in what the bot sent: messages, updates, modals, the topic and
    purpose, bookmarks, ephemerals and response_url replies."""
    found = []
    for call in sb.slack.calls:
        if call.method in STRING_ARGUMENTS:
            value = call.params.get(STRING_ARGUMENTS[call.method])
            if isinstance(value, str) and _LEAK.search(value):
                found.append(Leak(call.method, f"/{STRING_ARGUMENTS[call.method]}", None, value))
            continue
        if call.method not in MESSAGE_METHODS:
            continue
        message = {k: call.params.get(k) for k in ("text", "blocks", "attachments", "view")}
        ids = _block_ids(message.get("blocks"))
        for path, block, value in _mrkdwn(message):
            if _LEAK.search(value):
                found.append(Leak(call.method, path, block, value, ids))
    for ephemeral in sb.slack.ephemerals():
        if ephemeral.get("source") == "slack_error":
            continue
        message = {k: ephemeral.get(k) for k in ("text", "blocks", "attachments")}
        for path, block, value in _mrkdwn(message):
            if _LEAK.search(value):
                found.append(Leak(f"ephemeral:{ephemeral.get('source')}", path, block, value))
    return found


# -- Jira wiki markup that leaked ----------------------------------------------------------------


def jira_leaks(description: str) -> list[str]:
    """Hostile wiki markup found as written, its first character not escaped with a backslash
    (so live markup), in a Jira description."""
    return [m for m in JIRA_MARKUP if re.search(r"(?<!\\)" + re.escape(m), description)]


# -- the database is consistent -------------------------------------------------------------------

_CHILDREN = {  # table → the column naming its incident (or run)
    "milestone": "incident_id",
    "timeline_entry": "incident_id",
    "role_assignment": "incident_id",
    "alert": "incident_id",
    "page": "incident_id",
    "timer": "incident_id",
    "playbook_run": "incident_id",
    "followup": "incident_id",
    "outbox": "incident_id",
}


def consistency_problems(sb: Sandbox) -> list[str]:
    """Every incident has its milestones, in order, and a timeline; no row points nowhere."""
    problems: list[str] = []
    catalog = sb.bot.catalog
    statuses = {s.id for s in catalog.statuses}
    severities = {s.id for s in catalog.severities}
    with sb.bot.db.read() as session:
        incidents = session.exec(select(Incident)).all()
        ids = {i.id for i in incidents}
        stamps: dict[int, dict[Milestone, Any]] = {}
        for row in session.exec(select(MilestoneRow)).all():
            stamps.setdefault(row.incident_id, {})[Milestone(row.kind)] = row.at
        for incident in incidents:
            assert incident.id is not None
            mine = stamps.get(incident.id, {})
            where = f"incident #{incident.id}"
            for error in order_errors(mine):
                problems.append(f"{where}: {error}")
            if not incident.imported and Milestone.DECLARED not in mine:
                problems.append(f"{where}: no declared_at")
            if Milestone.DETECTED not in mine and not incident.imported:
                problems.append(f"{where}: no detected_at")
            if incident.status not in statuses:
                problems.append(f"{where}: unknown status {incident.status!r}")
            if incident.severity not in severities:
                problems.append(f"{where}: unknown severity {incident.severity!r}")
            if any(at.tzinfo is None for at in mine.values()):
                problems.append(f"{where}: a naive milestone")
        for table, column in _CHILDREN.items():
            for (orphan,) in session.execute(
                text(
                    f'SELECT DISTINCT {column} FROM "{table}" WHERE {column} IS NOT NULL '
                    f"AND {column} NOT IN (SELECT id FROM incident)"
                )
            ).all():
                problems.append(f"{table}: rows of incident #{orphan}, which does not exist")
        orphan_steps = session.execute(
            text(
                "SELECT COUNT(*) FROM playbook_step WHERE run_id NOT IN (SELECT id FROM playbook_run)"
            )
        ).scalar_one()
        if orphan_steps:
            problems.append(f"playbook_step: {orphan_steps} rows of no playbook run")
        timelines = {
            iid
            for (iid,) in session.execute(text("SELECT DISTINCT incident_id FROM timeline_entry"))
        }
        for iid in ids - timelines:
            problems.append(f"incident #{iid}: an empty timeline")
    return problems

"""Fuzzing Slack: signed slash commands with hostile text, the declare form, and hostile
messages pinned onto the timeline. No answer is a 5xx and no command crashes; afterwards the
bot is healthy, its database consistent, no Slack message carries markup from user text, and
the post-mortem (Slack preview, Jira description, follow-up issues) keeps the text inert."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import assume, example, given, strategies as st

from tests.e2e.fuzz_rig import AUTH, FAILED, MIN_SENT_BY_MODULE, Fuzz, aftermath, sandbox
from tests.e2e.hostile import (
    BAD_SIGNATURE,
    BAD_TIMESTAMP,
    JIRA_MARKUP,
    SLACK_MARKUP,
    TEXT,
    jira_leaks,
)

MIN_SENT = MIN_SENT_BY_MODULE["slack"]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fz(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    yield from sandbox(request, tmp_path_factory)


IN_CHANNEL = [
    "note",
    "status",
    "status identified",
    "severity",
    "resolve",
    "followup",
    "page",
    "playbook",
    "commander",
    "comms",
    "timestamps",
    "postmortem",
    "ack",
    "followups",
    "status investigating",
]
ANYWHERE = ["declare sev4", "oncall", "list", "help", "drill", "", "nonsense"]


def test_fuzz_slash_commands(fz: Fuzz) -> None:
    slack = fz.sb.slack

    @fz.examples(300)
    @example(sub="declare sev4", text="<!channel> <@UEVIL01> nul\x00", where="general")
    @example(sub="status", text="<!here>", where="incident")
    @example(sub="drill", text="<@UEVIL01>", where="general")
    @given(
        sub=st.sampled_from(IN_CHANNEL + ANYWHERE),
        text=TEXT,
        where=st.sampled_from(["incident", "incident", "general"]),
    )
    def run(sub: str, text: str, where: str) -> None:
        if sub in ("commander", "comms", "followup", "page"):
            text = text.replace("<@", "<@!")  # a mention there would rightly be shown
        channel = fz.channel if where == "incident" or sub in IN_CHANNEL[:3] else fz.p.general
        if sub.startswith("declare"):
            channel = fz.p.general
        command = f"{sub} {text}" if sub else text
        before = len(slack.ephemerals(user_id=fz.p.bob))
        reply = slack.send_command(fz.p.bob, channel, command)
        fz.sent["slack"] += 1
        assert reply.status < 500 and reply.error is None, (reply.status, reply.error, reply.body)
        fz.sb.settle()
        answers = [str(e.get("text")) for e in slack.ephemerals(user_id=fz.p.bob)[before:]]
        assert not [a for a in answers if a.startswith(FAILED)], f"/incident {command!r} crashed"

    run()


def test_fuzz_declare_form(fz: Fuzz) -> None:
    slack = fz.sb.slack

    @fz.examples(25)
    @given(
        title=TEXT.map(lambda t: t.strip()[:150] or "x"),
        description=TEXT.map(lambda t: t[:2500]),
        severity=st.sampled_from(["SEV1", "SEV2", "SEV3", "SEV4"]),
        impact=st.one_of(st.integers(0, 2**31), st.just(None)),
    )
    def run(title: str, description: str, severity: str, impact: int | None) -> None:
        reply = slack.send_command(fz.p.carol, fz.p.general, "declare")
        fz.sent["slack"] += 1
        assert reply.status == 200
        fz.sb.settle()
        (view, *_) = slack.views(fz.p.carol)
        values: dict[str, Any] = {"title": title, "severity": severity, "description": description}
        if impact is not None:
            values["impact_started_at"] = impact
        try:
            submitted = slack.submit_view(fz.p.carol, view["id"], values)
        except (LookupError, ValueError):  # Slack's client itself would not submit this
            slack.close_view(fz.p.carol, view["id"])
            return
        fz.sent["slack"] += 1
        assert submitted.status < 500 and submitted.error is None, (
            submitted.status,
            submitted.body,
        )
        fz.sb.settle()
        for open_view in slack.views(fz.p.carol):
            slack.close_view(fz.p.carol, open_view["id"])

    run()


def test_fuzz_pinned_messages(fz: Fuzz) -> None:
    """A hostile message pinned with 📌 goes on the timeline (and into the post-mortem)."""
    slack = fz.sb.slack

    @fz.examples(40)
    @given(text=TEXT.filter(lambda t: t.strip() != ""))
    def run(text: str) -> None:
        ts = slack.post_user_message(fz.p.alice, fz.channel, text)
        reply = slack.add_reaction(fz.p.alice, fz.channel, ts, "pushpin")
        fz.sent["slack"] += 2
        assert reply is None or reply.status < 500
        fz.sb.settle()

    run()


def test_fuzz_signature_headers(fz: Fuzz) -> None:
    """A command whose signature headers are not shaped like Slack's (the other one as Slack
    would send it) is a 401 and declares nothing; the declares are checked in the aftermath."""
    slack = fz.sb.slack

    @fz.examples(60)
    @example(timestamp="abc", signature=None)
    @example(timestamp="1e9", signature=None)
    @example(timestamp="1" * 30, signature=None)
    @example(timestamp=None, signature="v0=" + "g" * 64)
    @given(
        timestamp=st.one_of(st.none(), BAD_TIMESTAMP),
        signature=st.one_of(st.none(), BAD_SIGNATURE),
    )
    def run(timestamp: str | None, signature: str | None) -> None:
        assume(timestamp is not None or signature is not None)
        headers = {}
        if timestamp is not None:
            headers["X-Slack-Request-Timestamp"] = timestamp
        if signature is not None:
            headers["X-Slack-Signature"] = signature
        reply = slack.send_command(
            fz.p.bob, fz.p.general, "declare sev4 Forged by the header fuzz", extra_headers=headers
        )
        fz.sent["slack"] += 1
        assert reply.status == 401, (headers, reply.status, reply.body)

    run()
    fz.sb.settle()
    listing = fz.http.get("/api/incidents?limit=500", headers=AUTH).json()["incidents"]
    assert [i["id"] for i in listing if "Forged" in i["title"]] == []


def test_zz_healthy_consistent_and_inert(fz: Fuzz, request: pytest.FixtureRequest) -> None:
    """The post-mortem of the incident that took the hostile commands and pins keeps the text
    inert in Jira (the draft and the follow-up issues), then the common checks."""
    slack = fz.sb.slack
    slack.send_command(fz.p.alice, fz.channel, "note " + " ".join(JIRA_MARKUP + SLACK_MARKUP))
    slack.send_command(fz.p.alice, fz.channel, "followup " + " ".join(JIRA_MARKUP))
    slack.send_command(fz.p.alice, fz.channel, "postmortem")
    slack.send_command(fz.p.alice, fz.channel, "postmortem export")
    fz.sb.settle()
    fz.sb.bot.runner.sweep()
    fz.sb.settle()
    issues = fz.sb.jira.issues()
    assert any("postmortem" in i["fields"]["labels"] for i in issues)
    for issue in issues:
        description = str(issue["fields"].get("description") or "")
        assert jira_leaks(description) == [], (issue["key"], jira_leaks(description))
    aftermath(fz, request, MIN_SENT)

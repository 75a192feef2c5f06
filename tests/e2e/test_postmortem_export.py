"""Closing an incident drafts its post-mortem into Jira (the emulator, over HTTPS with the real
client): one issue, follow-ups linked and assigned by email, links back, the channel told and
archived; faults retried until it lands exactly once; Jira's refusals explained."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.sandbox import Sandbox, ScriptedClock
from tests.e2e.conftest import People, command, ephemerals, run_incident


@pytest.fixture
def clocked(db_url: str) -> Iterator[tuple[Sandbox, ScriptedClock, People]]:
    clock = ScriptedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3))
    with Sandbox(db_url, clock=clock) as sb:
        yield sb, clock, people_of(sb)


def people_of(sb: Sandbox) -> People:
    return People(
        *(sb.slack.user_id(n) for n in ("alice", "bob", "carol")),
        sb.slack.channel_by_name("general")["id"],  # type: ignore[index]
    )


def texts(sb: Sandbox, channel: str) -> list[str]:
    return [str(m.get("text", "")) for m in sb.slack.messages(channel)]


def retry(sb: Sandbox, clock: ScriptedClock, seconds: float = 60) -> None:
    clock.advance(seconds=seconds)
    sb.bot.runner.sweep()
    sb.bot.flows.deliver(1)


def test_close_drafts_the_postmortem_into_jira_with_linked_followups(
    clocked: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, clock, p = clocked
    channel = run_incident(sb, p, clock)
    command(sb, p.alice, channel, "close")
    jira = sb.jira
    issues = {i["key"]: i for i in jira.issues()}
    postmortem = next(i for i in issues.values() if "postmortem" in i["fields"]["labels"])
    fields = postmortem["fields"]
    assert fields["summary"] == "Post-mortem: #1 Checkout returns 500s"
    assert fields["issuetype"]["name"] == "Task"
    assert {"postmortem", "sev2", "incidentbot-1"} <= set(fields["labels"])
    description = fields["description"]
    assert "h2. Timeline (UTC)" in description and "h2. Follow-up actions" in description
    assert "Rolled back release 2026.11.3" in description
    followups = [i for i in issues.values() if "postmortem-followup" in i["fields"]["labels"]]
    assert len(followups) == 2
    canary = next(i for i in followups if "canary" in i["fields"]["summary"])
    assert canary["fields"]["assignee"]["accountId"] == jira.account_id("bob")
    for f in followups:  # each linked to the post-mortem, and its key back in the draft
        assert any(
            {link["inwardIssue"], link["outwardIssue"]} == {postmortem["key"], f["key"]}
            for link in jira.links
        )
        assert f["key"] in description
    assert {c.auth_scheme for c in jira.calls} == {"Basic"}  # Cloud: email + API token
    remote = {r["globalId"]: r["object"]["url"] for r in jira.remote_links(postmortem["key"])}
    assert remote["incidentbot:1:slack"].endswith(f"channel={channel}")
    assert remote["incidentbot:1:review"] == f"{sb.url}/incidents/1"
    assert remote["incidentbot:1:pagerduty"].startswith("https://")  # the page SEV2 made
    # The channel has the link, the card shows it, and the channel is archived
    assert any(
        f"Post-mortem drafted in Jira: <{jira.url}/browse/{postmortem['key']}|{postmortem['key']}>"
        in t
        for t in texts(sb, channel)
    )
    card = next(
        m
        for m in sb.slack.messages(channel)
        if any(x.get("block_id") == "card.footer" for x in m.get("blocks") or [])
    )
    assert postmortem["key"] in str(card["blocks"])
    assert sb.slack.channel(channel)["is_archived"]  # type: ignore[index]


def test_jira_down_is_retried_and_lands_exactly_once(
    clocked: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, clock, p = clocked
    channel = run_incident(sb, p, clock)
    sb.jira.fail_next(503, times=2, route="POST issue")
    sb.jira.fail_next(429, retry_after=2, route="POST issueLink")
    command(sb, p.alice, channel, "close")  # close itself never waits on Jira
    assert sb.bot.flows.incident(1).status == "closed"  # type: ignore[union-attr]
    assert any("Jira did not take the post-mortem yet" in t for t in texts(sb, channel))
    for _ in range(6):
        retry(sb, clock)
    assert len([i for i in sb.jira.issues() if "postmortem" in i["fields"]["labels"]]) == 1
    assert len(sb.jira.issues()) == 3  # the post-mortem and two follow-ups, once each
    assert len(sb.jira.links) == 2


def test_a_jira_that_hangs_times_out_and_the_export_lands_later(
    clocked: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, clock, p = clocked
    channel = run_incident(sb, p, clock)
    sb.jira.hang(4, route="POST issue")  # longer than the bot's 2 s Jira timeout
    command(sb, p.alice, channel, "close")
    assert sb.bot.flows.incident(1).status == "closed"  # type: ignore[union-attr]
    assert any("ReadTimeout" in t or "timed out" in t.lower() for t in texts(sb, channel))
    for _ in range(3):
        retry(sb, clock)
    assert len([i for i in sb.jira.issues() if "postmortem" in i["fields"]["labels"]]) == 1


def test_an_answer_lost_after_jira_created_the_issue_does_not_make_a_second(
    clocked: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, clock, p = clocked
    channel = run_incident(sb, p, clock)
    sb.jira.fail_next(0, route="POST issue", apply=True)  # Jira creates it, the answer is lost
    command(sb, p.alice, channel, "close")
    for _ in range(3):
        retry(sb, clock)
    assert len([i for i in sb.jira.issues() if "postmortem" in i["fields"]["labels"]]) == 1
    assert len(sb.jira.issues()) == 3


def test_re_export_updates_the_same_issue(
    clocked: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, clock, p = clocked
    channel = run_incident(sb, p, clock)
    command(sb, p.alice, channel, "postmortem export")
    first = {i["key"] for i in sb.jira.issues()}
    command(sb, p.alice, channel, "followup Document the rollback")
    command(sb, p.alice, channel, "postmortem export")
    after = {i["key"]: i for i in sb.jira.issues()}
    assert first < set(after) and len(after) == len(first) + 1  # only the new follow-up
    postmortem = next(i for i in after.values() if "postmortem" in i["fields"]["labels"])
    assert "Document the rollback" in postmortem["fields"]["description"]


def test_jira_refusing_the_issue_type_is_explained_in_the_channel(db_url: str) -> None:
    clock = ScriptedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3))
    extra = {"postmortem": {"issue_type": "Postmortem"}}  # not an issue type in OPS
    with Sandbox(db_url, clock=clock, catalog_extra=extra) as sb:
        refused(sb, people_of(sb), clock)


def refused(sb: Sandbox, p: People, clock: ScriptedClock) -> None:
    channel = run_incident(sb, p, clock)
    command(sb, p.alice, channel, "close")
    (notice,) = [t for t in texts(sb, channel) if "Jira refused the post-mortem" in t]
    assert "issuetype" in notice and "issue_type" in notice
    assert sb.jira.issues() == []
    assert not sb.slack.channel(channel)["is_archived"]  # type: ignore[index]


def test_preview_in_slack(clocked: tuple[Sandbox, ScriptedClock, People]) -> None:
    sb, clock, p = clocked
    channel = run_incident(sb, p, clock)
    command(sb, p.alice, channel, "postmortem")
    (reply,) = [
        e for e in sb.slack.ephemerals(user_id=p.alice) if "Post-mortem draft" in str(e.get("text"))
    ]
    body = str(reply.get("blocks"))
    assert "Post-mortem: Checkout returns 500s" in body and "Timeline (UTC)" in body
    assert sb.jira.issues() == []  # a preview exports nothing
    command(sb, p.alice, p.general, "postmortem")
    assert "not an incident channel" in ephemerals(sb, p.alice)[-1]


def test_data_center_uses_a_personal_access_token(db_url: str) -> None:
    with Sandbox(db_url, jira_flavour="server") as sb:
        p = people_of(sb)
        clock_free_channel = run_incident_plain(sb, p)
        command(sb, p.alice, clock_free_channel, "close")
        assert len(sb.jira.issues()) == 3
        schemes = {c.auth_scheme for c in sb.jira.calls}
        assert schemes == {"Bearer"}
        assert any(
            c.route == "GET search" or c.route.startswith("GET search") for c in sb.jira.calls
        ) or any(c.route.startswith("POST search") for c in sb.jira.calls)


def run_incident_plain(sb: Sandbox, p: People) -> str:
    command(sb, p.alice, p.general, "declare sev3 Search is slow")
    incident = sb.bot.flows.incident(1)
    assert incident is not None and incident.conversation_id
    sb.slack.join(incident.conversation_id, p.alice)
    command(sb, p.alice, incident.conversation_id, "followup Add an index")
    command(sb, p.alice, incident.conversation_id, "followup Load test search")
    command(sb, p.alice, incident.conversation_id, "resolve")
    return incident.conversation_id


def test_cloud_rest_v3_gets_adf_and_follow_ups_can_be_sub_tasks(db_url: str) -> None:
    extra = {"postmortem": {"followups_as": "subtasks"}}
    with Sandbox(db_url, jira_api_version=3, catalog_extra=extra) as sb:
        p = people_of(sb)
        channel = run_incident_plain(sb, p)
        command(sb, p.alice, channel, "close")
        issues = sb.jira.issues(version="3")
        (postmortem,) = [i for i in issues if "postmortem" in i["fields"]["labels"]]
        description = postmortem["fields"]["description"]
        assert description["type"] == "doc" and description["version"] == 1
        headings = [n for n in description["content"] if n["type"] == "heading"]
        assert any(h["content"][0]["text"] == "Timeline (UTC)" for h in headings)
        subtasks = [i for i in issues if "postmortem-followup" in i["fields"]["labels"]]
        assert len(subtasks) == 2
        for task in subtasks:
            assert task["fields"]["issuetype"]["name"] == "Sub-task"
            assert task["fields"]["parent"]["key"] == postmortem["key"]
        assert sb.jira.links == []  # sub-tasks need no links
        assert all(
            c.version == "3"
            for c in sb.jira.calls
            if c.route.startswith(("POST issue", "PUT issue"))
        )

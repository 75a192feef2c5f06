"""Faults, end to end: Slack, PagerDuty and Jira misbehave (429 with Retry-After, 5xx,
timeouts, lost answers, Slack's permanent errors) while incidents are declared and updated.

Each test asserts what people see (the channel, the feed, the declarer's reply) and that nothing
is lost or doubled: the incident's state is right in the database at once, and once the fault
clears every effect lands exactly once (counted in the emulators' records of successful calls).
Time moves with a ScriptedClock, so backoff and Retry-After are passed without sleeping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import command, ephemerals, run_incident
from tests.e2e.fault_rig import Rig, rig_for

TITLE = "Checkout API returns 500s"


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    """SQLite only: these faults are the integrations', not the database's (the PostgreSQL side
    of exactly-once is tested in test_scheduler_processes, test_alerts and the flows), and running
    them twice would push CI past ten minutes."""
    yield from rig_for(f"sqlite:///{tmp_path / 'incidentbot.db'}")


def declare(rig: Rig, text: str = f"sev2 {TITLE}") -> dict[str, Any]:
    command(rig.sb, rig.p.alice, rig.p.general, f"declare {text}")
    (summary,) = rig.incidents()
    return rig.incident(summary["id"])


def assert_declared_state(incident: dict[str, Any], severity: str = "SEV2") -> None:
    """The row and its state are right at once, whatever Slack does."""
    assert incident["title"] == TITLE and incident["severity"] == severity
    assert incident["status"] == "investigating"
    stamps = incident["milestones"]
    assert {"impact_started_at", "detected_at", "declared_at"} <= set(stamps)


def assert_declaration_landed_once(rig: Rig, incident_id: int = 1) -> str:
    """One channel, one card (pinned), one announcement; returns the channel id."""
    incident = rig.incident(incident_id)
    channel = incident["channel"]["id"]
    assert channel is not None
    assert len(rig.channels_created()) == 1
    assert len(rig.cards_posted()) == 1
    assert len(rig.announcements_posted()) == 1
    assert rig.sb.slack.messages(rig.sb.feed_id, system=False)[0]["ts"]
    assert len(rig.sb.slack.messages(rig.sb.feed_id, system=False)) == 1
    card_ts = rig.cards_posted()[0]["ts"]
    assert rig.sb.slack.message(channel, card_ts)["pinned_to"] == [channel]  # type: ignore[index]
    assert rig.p.alice in rig.sb.slack.members(channel)
    assert TITLE in rig.sb.slack.topic(channel)
    return str(channel)


# -- Slack during the declaration ----------------------------------------------------------------


def test_slack_429_on_channel_creation_honours_retry_after_and_lands_once(rig: Rig) -> None:
    rig.sb.slack.fail("conversations.create", status=429, retry_after=30)
    incident = declare(rig)
    assert_declared_state(incident)
    assert incident["channel"]["id"] is None
    assert any("The channel is on its way" in e for e in ephemerals(rig.sb, rig.p.alice))
    rig.sweep(10)  # Retry-After is 30 s: not yet
    assert len(rig.sb.slack.calls_to("conversations.create")) == 1
    rig.sweep(21)
    assert_declaration_landed_once(rig)
    rig.drain()
    assert_declaration_landed_once(rig)
    assert len(rig.sb.pagerduty.incidents()) == 1


@pytest.mark.parametrize(
    "method",
    [
        "conversations.create",
        "conversations.invite",
        "conversations.setTopic",
        "chat.postMessage",
        "pins.add",
    ],
)
def test_slack_5xx_during_declaration_is_retried_and_lands_once(rig: Rig, method: str) -> None:
    rig.sb.slack.fail(method, status=503, times=2)
    incident = declare(rig)
    assert_declared_state(incident)
    rig.drain()
    assert rig.sb.slack.pending_faults() == 0
    assert_declaration_landed_once(rig)
    assert rig.given_up() == []


@pytest.mark.parametrize("error", ["internal_error", "service_unavailable", "ratelimited"])
def test_slack_ok_false_retryable_errors_during_declaration(rig: Rig, error: str) -> None:
    rig.sb.slack.fail("chat.postMessage", error=error, times=3)
    assert_declared_state(declare(rig))
    rig.drain()
    assert_declaration_landed_once(rig)


def test_a_slack_timeout_during_declaration_lands_once(rig: Rig) -> None:
    rig.sb.bot.slack.timeout = 1  # the bot's Slack client; the emulator answers after 2 s
    rig.sb.slack.fail("conversations.create", error=None, delay=2.0)
    incident = declare(rig)
    assert_declared_state(incident)
    rig.drain()
    assert_declaration_landed_once(rig)


def test_name_taken_picks_the_next_name(rig: Rig) -> None:
    rig.sb.slack.fail("conversations.create", error="name_taken")
    incident = declare(rig)
    channel = rig.sb.slack.channel(incident["channel"]["id"])
    assert channel is not None and channel["name"].endswith("-checkout-api-returns-500s-2")
    assert incident["channel"]["name"] == channel["name"]
    assert_declaration_landed_once(rig)


def test_a_lost_channel_creation_answer_does_not_open_a_second_channel(rig: Rig) -> None:
    rig.sb.slack.fail("conversations.create", status=500, apply=True)  # made, answer lost
    assert_declared_state(declare(rig))
    rig.drain()
    made = [c for c in rig.sb.slack.calls_to("conversations.create") if c.status == 200]
    assert len(made) + 1 == len(rig.sb.slack.calls_to("conversations.create"))
    names = [c.params["name"] for c in rig.sb.slack.calls_to("conversations.create")]
    assert len(set(names)) == 1, f"channels opened: {names}"


def test_a_lost_card_post_answer_does_not_post_a_second_card(rig: Rig) -> None:
    rig.sb.bot.slack.timeout = 1
    rig.sb.slack.fail("chat.postMessage", error=None, delay=2.0, apply=True)
    assert_declared_state(declare(rig))
    rig.drain()
    channel = rig.incident()["channel"]["id"]
    cards = [
        m
        for m in rig.sb.slack.messages(channel)
        if any(b.get("block_id") == "card.header" for b in m.get("blocks") or [])
    ]
    assert len(cards) == 1


def test_channel_creation_given_up_keeps_the_incident_and_the_feed_says_so(rig: Rig) -> None:
    rig.sb.slack.fail("conversations.create", error="restricted_action")  # permanent
    incident = declare(rig)
    assert_declared_state(incident)
    rig.drain(rounds=200)
    incident = rig.incident()
    assert_declared_state(incident)
    assert incident["channel"]["id"] is None
    feed = rig.lines(rig.sb.feed_id)
    assert any(
        "could not create the incident channel" in t and "restricted_action" in t for t in feed
    ), feed
    assert len(rig.sb.pagerduty.incidents()) == 1  # the page did not wait on Slack
    assert len(rig.sb.slack.calls_to("conversations.create")) == 1  # a refusal is not retried


def test_channel_creation_failing_every_time_is_given_up_and_reported(rig: Rig) -> None:
    rig.sb.slack.fail("conversations.create", status=500, times=1000)
    assert_declared_state(declare(rig))
    rig.drain(rounds=200)
    rig.sb.slack.clear_faults()
    assert_declared_state(rig.incident())
    feed = rig.lines(rig.sb.feed_id)
    assert any("could not create the incident channel after 15 attempts" in t for t in feed), feed


def test_a_feed_notice_names_its_incident(rig: Rig) -> None:
    rig.sb.slack.fail("conversations.create", error="restricted_action")
    declare(rig)
    rig.drain(rounds=200)
    (notice, *_) = [t for t in rig.lines(rig.sb.feed_id) if "could not create" in t]
    assert "#1" in notice or TITLE in notice, notice


def test_after_the_channel_is_given_up_the_feed_gets_the_announcement_and_one_notice(
    rig: Rig,
) -> None:
    rig.sb.slack.fail("conversations.create", error="restricted_action")
    declare(rig)
    rig.sweep(60)
    rig.sweep(60)
    feed = rig.lines(rig.sb.feed_id)
    assert len(rig.announcements_posted()) == 1, feed
    rig.drain(rounds=200)
    notices = [t for t in rig.lines(rig.sb.feed_id) if t.startswith("⚠️")]
    assert len(notices) == 1, notices


# -- Slack during later updates ------------------------------------------------------------------


def declared_channel(rig: Rig) -> str:
    declare(rig)
    channel = str(rig.incident()["channel"]["id"])
    rig.sb.slack.join(channel, rig.p.bob)
    return channel


def card_of(rig: Rig, channel: str) -> dict[str, Any]:
    ts = rig.incident()["channel"].get("card_ts") or rig.cards_posted()[0]["ts"]
    message = rig.sb.slack.message(channel, ts)
    assert message is not None
    return message


def test_slack_429_on_an_update_holds_the_lines_in_order_and_each_lands_once(rig: Rig) -> None:
    channel = declared_channel(rig)
    rig.sb.slack.fail("chat.postMessage", status=429, retry_after=20)
    command(rig.sb, rig.p.bob, channel, "status identified")
    command(rig.sb, rig.p.bob, channel, "note Bad config push found")
    incident = rig.incident()
    assert incident["status"] == "identified"  # the state is right at once
    assert any(e["text"] == "Bad config push found" for e in incident["timeline"])
    assert rig.posted(channel, "Identified") == 0
    rig.sweep(5)  # Retry-After 20 s: nothing is retried before
    assert rig.posted(channel, "Identified") == 0
    assert rig.posted(channel, "Bad config push found") == 0  # never overtakes the first line
    rig.sweep(16)
    rig.drain()
    assert rig.posted(channel, "Identified") == 1
    assert rig.posted(channel, "Bad config push found") == 1
    lines = rig.lines(channel)
    first = next(i for i, t in enumerate(lines) if "Identified" in t)
    assert "Bad config push found" in "".join(lines[first + 1 :])
    assert "Identified" in str(card_of(rig, channel)["blocks"])


@pytest.mark.parametrize("method", ["chat.postMessage", "chat.update", "conversations.setTopic"])
def test_slack_5xx_on_an_update_is_retried_until_it_lands_once(rig: Rig, method: str) -> None:
    channel = declared_channel(rig)
    rig.sb.slack.fail(method, status=502, times=3)
    command(rig.sb, rig.p.bob, channel, "severity sev1")
    assert rig.incident()["severity"] == "SEV1"
    rig.drain()
    assert rig.posted(channel, "SEV1") == 1
    assert "SEV1" in str(card_of(rig, channel)["blocks"])
    assert rig.sb.slack.topic(channel).startswith("🔴 SEV1")
    feed = rig.sb.slack.messages(rig.sb.feed_id, system=False)
    assert len(feed) == 1 and "SEV1" in str(feed[0]["blocks"])  # the announcement follows
    assert rig.given_up() == []


def test_a_slack_timeout_on_an_update_lands_once(rig: Rig) -> None:
    channel = declared_channel(rig)
    rig.sb.bot.slack.timeout = 1
    rig.sb.slack.fail("chat.postMessage", error=None, delay=2.0)  # posted, answer lost
    command(rig.sb, rig.p.bob, channel, "note Rolling back")
    rig.drain()
    assert rig.posted(channel, "Rolling back") == 1


@pytest.mark.parametrize("error", ["not_in_channel", "is_archived", "channel_not_found"])
def test_a_permanent_slack_error_on_an_update_is_said_in_the_channel(rig: Rig, error: str) -> None:
    channel = declared_channel(rig)
    rig.sb.slack.fail("chat.postMessage", error=error)
    command(rig.sb, rig.p.bob, channel, "note Rolling back")
    assert any(e["text"] == "Rolling back" for e in rig.incident()["timeline"])
    rig.drain()
    assert len(rig.sb.slack.calls_to("chat.postMessage")) >= 2  # not retried blindly, reported
    notices = [t for t in rig.lines(channel) if "could not post an update" in t]
    assert len(notices) == 1 and error in notices[0]
    command(rig.sb, rig.p.bob, channel, "note Still here")  # the lane is not stuck
    rig.drain()
    assert rig.posted(channel, "Still here") == 1


@pytest.mark.parametrize("how", ["archived", "deleted"])
def test_an_archived_or_deleted_incident_channel_is_reported_in_the_feed(
    rig: Rig, how: str
) -> None:
    channel = declared_channel(rig)
    with rig.sb.slack._lock:  # a person archives (or an admin deletes) the channel mid-incident
        if how == "archived":
            rig.sb.slack.ws.channels[channel].is_archived = True
        else:
            del rig.sb.slack.ws.channels[channel]
    pd = rig.sb.pagerduty
    (pd_incident,) = pd.incidents()
    pd.acknowledge(pd_incident["id"], pd.user_id("bob"))  # an update arrives from PagerDuty
    rig.sb.settle()
    assert rig.incident()["milestones"]["acknowledged_at"]["source"] == "pager"
    rig.drain()
    feed = rig.lines(rig.sb.feed_id)
    assert any("could not" in t for t in feed), feed


# -- PagerDuty: trigger, acknowledge, resolve ----------------------------------------------------

# How each fault is queued on the emulator: the client itself retries once, so each comes
# twice (429 three times) to reach the outbox.
PD_FAULTS = {
    "429": {"status": 429, "times": 3},
    "503": {"status": 503, "times": 2},
    "network": {"status": 0, "times": 2},
    "lost-answer": {"status": 500, "apply": True, "times": 2},
    "dropped-after-work": {"status": 0, "apply": True, "times": 1},  # made; connection dropped
    "timeout": {"status": 0, "delay": 2.0, "times": 2},
}


def pager_client_timeout(rig: Rig, seconds: float) -> None:
    """The bot's PagerDuty clients give up after `seconds` (the emulator holds answers 2 s)."""
    pager = rig.sb.bot.runner.handlers["pager.open"].__self__.pagers.get("pagerduty")  # type: ignore[attr-defined]
    if pager._rest is not None:
        pager._rest.timeout = seconds
    import bot.adapters.pagerduty as adapter

    adapter.TIMEOUT = seconds  # Events clients are made on first use


@pytest.fixture
def pd_timeouts(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.adapters.pagerduty as adapter

    monkeypatch.setattr(adapter, "TIMEOUT", adapter.TIMEOUT)  # restored after the test
    pager_client_timeout(rig, 1.0)


TRIGGER_FAULTS = list(PD_FAULTS)  # a lost answer included: the webhook may come first


def page_lines(rig: Rig, channel: str) -> list[str]:
    return [t for t in rig.lines(channel) if "Paged PagerDuty" in t]


def log_types(rig: Rig, pd_incident: str) -> list[str]:
    return [e["type"] for e in rig.sb.pagerduty.log_entries(pd_incident)]


@pytest.mark.parametrize("fault", TRIGGER_FAULTS)
def test_pagerduty_failing_on_trigger_holds_the_page_and_it_lands_once(
    rig: Rig, pd_timeouts: None, fault: str
) -> None:
    pd = rig.sb.pagerduty
    pd.fail("POST /incidents", **PD_FAULTS[fault])  # type: ignore[arg-type]
    incident = declare(rig)  # SEV2: paged through the REST API
    assert_declared_state(incident)
    channel = incident["channel"]["id"]
    assert channel is not None  # Slack did not wait on PagerDuty
    # PagerDuty made it (lost answer, dropped connection): its incident.triggered webhook may
    # tell us first
    if fault in ("lost-answer", "dropped-after-work"):
        assert [p["status"] for p in incident["pages"]] in (["pending"], ["triggered"])
    else:
        assert [p["status"] for p in incident["pages"]] == ["pending"]
    assert any("Paging PagerDuty failed" in t for t in rig.lines(channel))
    rig.drain()
    (pd_incident,) = pd.incidents()
    assert pd_incident["incident_key"] == "incidentbot-1"
    assert [p["status"] for p in rig.incident()["pages"]] == ["triggered"]
    assert len(page_lines(rig, channel)) == 1
    assert log_types(rig, pd_incident["id"]).count("trigger_log_entry") == 1


def alert_born(rig: Rig) -> dict[str, Any]:
    import httpx

    from bot.sandbox import ALERT_TOKEN
    from tests.fixtures.alerts import alertmanager

    response = httpx.post(
        f"{rig.sb.url}/webhooks/alertmanager",
        json=alertmanager(),
        headers={"Authorization": f"Bearer {ALERT_TOKEN}"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    rig.sb.settle()
    (summary,) = rig.incidents()
    return rig.incident(summary["id"])


@pytest.mark.parametrize("fault", TRIGGER_FAULTS)
def test_pagerduty_events_api_failing_on_trigger_pages_once(
    rig: Rig, pd_timeouts: None, fault: str
) -> None:
    pd = rig.sb.pagerduty
    pd.fail("POST /v2/enqueue", **PD_FAULTS[fault])  # type: ignore[arg-type]
    incident = alert_born(rig)  # SEV1 from Alertmanager: paged through Events API v2
    assert incident["status"] == "investigating" and incident["severity"] == "SEV1"
    if fault in ("lost-answer", "dropped-after-work"):
        assert [p["status"] for p in incident["pages"]] in (["pending"], ["triggered"])
    else:
        assert [p["status"] for p in incident["pages"]] == ["pending"]
    rig.drain()
    (pd_incident,) = pd.incidents()
    assert [p["status"] for p in rig.incident()["pages"]] == ["triggered"]
    assert len(page_lines(rig, incident["channel"]["id"])) == 1
    assert log_types(rig, pd_incident["id"]).count("trigger_log_entry") == 1


@pytest.mark.parametrize("fault", list(PD_FAULTS))
@pytest.mark.parametrize("action", ["ack", "resolve"])
def test_pagerduty_failing_on_ack_and_resolve_lands_once(
    rig: Rig, pd_timeouts: None, fault: str, action: str
) -> None:
    channel = declared_channel(rig)
    pd = rig.sb.pagerduty
    (pd_incident,) = pd.incidents()
    pd.fail("PUT /incidents/{id}", **PD_FAULTS[fault])  # type: ignore[arg-type]
    command(rig.sb, rig.p.bob, channel, action)
    incident = rig.incident()  # the state is right here at once, whatever PagerDuty does
    stamp = "acknowledged_at" if action == "ack" else "resolved_at"
    assert incident["milestones"][stamp]["source"] == "chat"
    assert incident["milestones"][stamp]["by"] == rig.p.bob
    rig.drain()
    status = "acknowledged" if action == "ack" else "resolved"
    assert pd.incident(pd_incident["id"])["status"] == status  # type: ignore[index]
    entry = "acknowledge_log_entry" if action == "ack" else "resolve_log_entry"
    assert log_types(rig, pd_incident["id"]).count(entry) == 1
    incident = rig.incident()
    assert incident["milestones"][stamp]["source"] == "chat"  # the echo changed nothing
    assert [p["status"] for p in incident["pages"]] == [status]
    assert len(pd.incidents()) == 1


@pytest.mark.parametrize("fault", ["429", "503", "network", "lost-answer"])
@pytest.mark.parametrize("action", ["ack", "resolve"])
def test_pagerduty_events_api_failing_on_ack_and_resolve_lands_once(
    rig: Rig, fault: str, action: str
) -> None:
    incident = alert_born(rig)
    channel = incident["channel"]["id"]
    rig.sb.slack.join(channel, rig.p.bob)
    pd = rig.sb.pagerduty
    (pd_incident,) = pd.incidents()
    pd.fail("POST /v2/enqueue", **PD_FAULTS[fault])  # type: ignore[arg-type]
    command(rig.sb, rig.p.bob, channel, action)
    stamp = "acknowledged_at" if action == "ack" else "resolved_at"
    assert rig.incident()["milestones"][stamp]["by"] == rig.p.bob
    rig.drain()
    status = "acknowledged" if action == "ack" else "resolved"
    assert pd.incident(pd_incident["id"])["status"] == status  # type: ignore[index]
    entry = "acknowledge_log_entry" if action == "ack" else "resolve_log_entry"
    assert log_types(rig, pd_incident["id"]).count(entry) == 1
    assert len(pd.incidents()) == 1


def test_an_acknowledgement_pagerduty_has_not_taken_yet_is_said_in_the_channel(rig: Rig) -> None:
    channel = declared_channel(rig)
    rig.sb.pagerduty.fail("PUT /incidents/{id}", status=503, times=5)
    command(rig.sb, rig.p.bob, channel, "ack")
    assert any("PagerDuty" in t and "ack" in t.lower() for t in rig.lines(channel)[-3:]), rig.lines(
        channel
    )


# -- Jira: the post-mortem export ----------------------------------------------------------------


def closed_with_jira_fault(rig: Rig, fault: dict[str, Any], *, after_export: bool) -> str:
    """Run an incident with two follow-ups to resolution, queue `fault`, close. With
    `after_export`, the post-mortem and both follow-ups are already in Jira and a third
    follow-up is added, so the fault hits that follow-up's creation."""

    channel = run_incident(rig.sb, rig.p, rig.clock)
    if after_export:
        command(rig.sb, rig.p.alice, channel, "postmortem export")
        assert len(rig.sb.jira.issues()) == 3
        command(rig.sb, rig.p.alice, channel, "followup Document the rollback")
    rig.sb.jira.fail_next(**fault)
    command(rig.sb, rig.p.alice, channel, "close")  # close never waits on Jira
    assert rig.incident()["status"] == "closed"
    return channel


def assert_exported_once(rig: Rig, channel: str, followups: int, exports: int = 1) -> None:
    jira = rig.sb.jira
    assert jira.pending_faults() == 0  # the fault was met
    issues = jira.issues()
    (postmortem,) = [i for i in issues if "postmortem" in i["fields"]["labels"]]
    made = [i for i in issues if "postmortem-followup" in i["fields"]["labels"]]
    assert len(made) == followups, [i["fields"]["summary"] for i in made]
    assert len({i["fields"]["summary"] for i in made}) == followups  # no follow-up twice
    assert len(issues) == followups + 1
    links = [
        link
        for link in jira.links
        if postmortem["key"] in (link["inwardIssue"], link["outwardIssue"])
    ]
    assert len(links) == followups
    remote = [r["globalId"] for r in jira.remote_links(postmortem["key"])]
    assert sorted(remote) == sorted(set(remote)) and len(remote) == 3  # slack, review, pagerduty
    for f in made:
        assert f["key"] in postmortem["fields"]["description"]
    done = [t for t in rig.lines(channel) if "Post-mortem drafted in Jira" in t]
    assert len(done) == exports and all(postmortem["key"] in t for t in done)
    assert rig.sb.slack.channel(channel)["is_archived"]  # type: ignore[index]
    assert len(rig.ok_calls("conversations.archive")) == 1


JIRA_FOLLOWUP_FAULTS = {
    "503": {"status": 503, "times": 2, "route": "POST issue"},
    "429": {"status": 429, "retry_after": 30, "route": "POST issue"},
    "timeout": {"status": 0, "delay": 4.0, "route": "POST issue"},  # the bot waits 2 s
    "lost-answer": {"status": 0, "apply": True, "route": "POST issue"},
    "search-503": {"status": 503, "times": 2, "route": "POST search/jql"},
}


@pytest.mark.parametrize("fault", list(JIRA_FOLLOWUP_FAULTS))
def test_jira_failing_on_follow_up_creation_makes_each_issue_once(rig: Rig, fault: str) -> None:
    channel = closed_with_jira_fault(rig, JIRA_FOLLOWUP_FAULTS[fault], after_export=True)
    texts = rig.lines(channel)
    assert any("Jira did not take the post-mortem yet" in t for t in texts), texts
    rig.drain()
    assert_exported_once(rig, channel, followups=3, exports=2)


JIRA_LINK_FAULTS = {
    "remote-503": {"status": 503, "times": 3, "route": "POST issue/{issueIdOrKey}/remotelink"},
    "remote-timeout": {"status": 0, "delay": 4.0, "route": "POST issue/{issueIdOrKey}/remotelink"},
    "remote-lost-answer": {
        "status": 0,
        "apply": True,
        "route": "POST issue/{issueIdOrKey}/remotelink",
    },
    "issuelink-429": {"status": 429, "retry_after": 5, "times": 2, "route": "POST issueLink"},
    "issuelink-lost-answer": {"status": 0, "apply": True, "route": "POST issueLink"},
    "update-503": {"status": 503, "times": 2, "route": "PUT issue/{issueIdOrKey}"},
    "update-lost-answer": {"status": 0, "apply": True, "route": "PUT issue/{issueIdOrKey}"},
}


@pytest.mark.parametrize("fault", list(JIRA_LINK_FAULTS))
def test_jira_failing_on_links_and_updates_links_once(rig: Rig, fault: str) -> None:
    channel = closed_with_jira_fault(rig, JIRA_LINK_FAULTS[fault], after_export=False)
    assert any("Jira did not take the post-mortem yet" in t for t in rig.lines(channel))
    rig.drain()
    assert_exported_once(rig, channel, followups=2)


def test_jira_429_retry_after_is_honoured(rig: Rig) -> None:
    fault = {"status": 429, "retry_after": 120, "route": "POST issue"}
    channel = closed_with_jira_fault(rig, fault, after_export=False)
    tries = len(rig.sb.jira.calls_to("POST issue"))
    rig.sweep(60)
    assert len(rig.sb.jira.calls_to("POST issue")) == tries  # not before Retry-After
    assert rig.sb.jira.issues() == []
    rig.sweep(61)
    rig.drain()
    assert_exported_once(rig, channel, followups=2)


def test_an_operator_sends_given_up_effects_again_once_slack_is_fixed(
    rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`incidentbot outbox list --given-up` shows what Slack refused; once the cause is fixed
    (here: the workspace allows channel creation again), `outbox retry --incident` puts it back
    in line and the incident gets its channel and card, once."""
    from typer.testing import CliRunner

    from bot.cli import app

    rig.sb.slack.fail("conversations.create", error="restricted_action")
    declare(rig)
    rig.drain(rounds=200)
    assert rig.incident()["channel"]["id"] is None
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", rig.sb.settings.database_url)
    monkeypatch.setenv("COLUMNS", "200")  # rich's table, unwrapped
    cli = CliRunner()
    listed = cli.invoke(app, ["outbox", "list", "--given-up"])
    assert listed.exit_code == 0, listed.output
    assert "chat.open_channel" in listed.output and "restricted_action" in listed.output
    assert cli.invoke(app, ["outbox", "retry"]).exit_code == 2  # says which to choose
    retried = cli.invoke(app, ["outbox", "retry", "--incident", "1"])
    assert retried.exit_code == 0 and "back in line" in retried.output, retried.output
    rig.drain(rounds=200)
    channel = rig.incident()["channel"]["id"]
    assert channel is not None
    assert len(rig.channels_created()) == 1 and len(rig.cards_posted()) == 1
    assert "Nothing given up" in cli.invoke(app, ["outbox", "list", "--given-up"]).output

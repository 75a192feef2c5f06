"""`incidentbot slack`: a person plays with the running sandbox from the terminal, as a Slack
user. The real CLI (a subprocess, or typer's runner in-process) finds the sandbox through its
state file and acts through the Slack emulator's control API; we check what it prints and what
the emulated Slack and the bot's API then hold. Over HTTP and over Socket Mode."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from bot.cli import app
from bot.sandbox import Sandbox
from bot.sandbox_state import SandboxState
from tests.e2e.conftest import api, buttons, card

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(params=["http", "socket"])
def live(
    request: pytest.FixtureRequest, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Sandbox]:
    """A running sandbox that has written its state file, as `incidentbot sandbox` does."""
    with Sandbox(db_url, socket_mode=request.param == "socket") as sandbox:
        sandbox.slack.control.idle_probe = sandbox.bot.wait_idle
        state = SandboxState(
            bot_url=sandbox.url,
            slack_api_url=sandbox.slack.api_url,
            signing_secret=sandbox.slack.signing_secret,
            socket_mode=sandbox.socket_mode,
            incidents_channel=sandbox.feed_id,
            users={name: sandbox.slack.user_id(name) for name in ("alice", "bob", "carol")},
        )
        monkeypatch.setenv("INCIDENTBOT_SANDBOX_FILE", str(state.write(tmp_path / "sb.json")))
        yield sandbox


def slack(*args: str) -> Result:
    result = runner.invoke(app, ["slack", *args])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


def incident(sb: Sandbox) -> dict[str, object]:
    (listed,) = api(sb, "/api/incidents").json()["incidents"]
    found: dict[str, object] = api(sb, f"/api/incidents/{listed['id']}").json()
    return found


def test_declaring_by_text_prints_the_reply_and_the_new_channel_with_its_card(
    live: Sandbox,
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "slack", "/incident declare sev2 Checkout is down"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    created = live.slack.channel(incident(live)["channel"]["id"])  # type: ignore[index]
    assert created is not None and created["name"].startswith("inc-")
    out = done.stdout
    assert "Only visible to you, in #incidents:" in out  # the feed: where it happened
    assert "Declared SEV2: Checkout is down" in out
    assert f"#{created['name']}  (new channel, you were added)" in out
    assert "[Acknowledge] [Change status]" in out  # the card, its buttons as [Label]
    assert "IC: @alice" in out  # the topic: <@U…> shown as @alice
    assert "<@U" not in out


def test_a_title_less_declare_prints_the_form_and_submit_declares_with_those_fields(
    live: Sandbox,
) -> None:
    shown = slack("--as", "bob", "/incident", "declare").stdout
    assert 'Form "Declare an incident" (its button: Declare)' in shown
    assert "Title  [title]  text, required" in shown
    assert "SEV2 — 🟠 SEV2 — Major" in shown  # each option: its value and its text
    assert "Visibility  [private]  checkboxes, optional" in shown
    assert 'Submit it: incidentbot slack submit title="…"' in shown
    assert "You have no form open." not in slack("--as", "bob", "form").stdout

    declared = slack("submit", "--as", "bob", "Title=Checkout down", "severity=SEV2").stdout

    found = incident(live)
    assert (found["title"], found["severity"]) == ("Checkout down", "SEV2")
    created = live.slack.channel(found["channel"]["id"])  # type: ignore[index]
    assert created is not None
    assert f"#{created['name']}  (new channel, you were added)" in declared
    assert "(the form closed)" in declared
    assert live.slack.views() == []


def test_after_a_declare_you_act_in_its_channel_and_a_refused_form_says_why(
    live: Sandbox,
) -> None:
    declared = slack("/incident declare sev2 Checkout is down").stdout
    created = live.slack.channel(incident(live)["channel"]["id"])  # type: ignore[index]
    assert created is not None
    assert f"(you are now in #{created['name']}: --in to act elsewhere)" in declared

    shown = slack("/incident timestamps").stdout  # no --in: in the incident's channel
    assert 'Form "Milestones" (its button: Save)' in shown
    assert "Impact started  [impact_started_at]  date-time" in shown

    result = runner.invoke(app, ["slack", "submit", "impact_started_at=-1h", "Detected=-2h"])
    assert result.exit_code == 1  # impact after detection: the form was not accepted
    refused = result.stdout
    assert "The form was not accepted:" in refused
    assert "  impact_started_at: That would put the milestones out of order" in refused
    assert "      ⚠ That would put the milestones out of order" in refused  # under its field
    assert len(live.slack.views(live.slack.user_id("alice"))) == 1

    slack("submit", "impact_started_at=2026-01-02T03:04", "detected_at=-30m")
    milestones = incident(live)["milestones"]
    assert milestones["impact_started_at"]["at"].startswith("2026-01-02T03:04")  # type: ignore[index]
    assert live.slack.views() == []


def test_clicking_acknowledge_on_the_card_redraws_it_and_records_who(live: Sandbox) -> None:
    slack("/incident declare sev2 Checkout is down")
    before = incident(live)
    assert "Acknowledge" in buttons(card(live, before))

    clicked = slack("--as", "carol", "click", "Acknowledge").stdout

    after = incident(live)
    assert "Acknowledge" not in buttons(card(live, after))
    assert after["milestones"]["acknowledged_at"]["by"] == live.slack.user_id("carol")  # type: ignore[index]
    assert "(updated)" in clicked and "Acknowledged" in clicked
    assert "[Change status] [Change severity]" in clicked


def test_a_pushpin_on_the_last_message_puts_it_on_the_timeline(live: Sandbox) -> None:
    slack("/incident declare sev2 Checkout is down")
    channel = incident(live)["channel"]["id"]  # type: ignore[index]
    said = slack("--as", "carol", "--in", channel, "p99 latency doubled after deploy 1.2.3").stdout
    assert "p99 latency doubled after deploy 1.2.3" in said

    slack("--as", "bob", "react", ":pushpin:", "last", "--in", channel)

    (pin,) = [e for e in incident(live)["timeline"] if e["kind"] == "pin"]  # type: ignore[attr-defined]
    assert "p99 latency doubled" in str(pin)
    shown = slack("show", channel).stdout
    assert "carol" in shown and ":pushpin: 1" in shown and "(cursor: " in shown


def test_add_follow_up_on_the_last_message_opens_its_form_and_records_the_follow_up(
    live: Sandbox,
) -> None:
    slack("/incident declare sev2 Checkout is down")
    channel = incident(live)["channel"]["id"]  # type: ignore[index]
    slack("--as", "bob", "--in", channel, "We should alert on queue depth")

    shown = slack("--as", "carol", "shortcut", "Add follow-up", "--in", channel).stdout
    assert 'Form "Add a follow-up" (its button: Add)' in shown
    assert "now: We should alert on queue depth" in shown
    assert "Owner  [owner]  user (@name), optional" in shown

    slack("--as", "carol", "submit", "owner=@bob", "Due=2026-12-10")

    _incident, rows = live.bot.flows.followups(channel)
    (row,) = rows
    assert (row.text, row.owner, str(row.due_on), row.source) == (
        "We should alert on queue depth",
        live.slack.user_id("bob"),
        "2026-12-10",
        "shortcut",
    )


def test_an_unknown_user_is_one_line_and_exit_2(live: Sandbox) -> None:
    result = runner.invoke(app, ["slack", "--as", "zed", "/incident declare x"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "incidentbot slack: unknown_user: no user 'zed' in this workspace "
        "(there are ['alice', 'bob', 'carol'])"
    ]
    assert api(live, "/api/incidents").json()["incidents"] == []

"""`incidentbot slack` without a bot: where it looks for the emulated Slack and what it says
when there is none, how it reads its arguments, and how it renders what Slack shows."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app
from bot.cli_slack import report, route
from bot.cli_slack_render import Names, blocks, form, mrkdwn
from bot.emulators.slack import SlackEmulator
from bot.sandbox_state import SandboxState

runner = CliRunner()
NAMES = Names(
    users={"U1": "alice", "U2": "incidentbot"},
    channels={"C1": "inc-1-db"},
    usergroups={"S1": "dba-oncall"},
    bot_user_id="U2",
)


@pytest.fixture
def nowhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No sandbox file and no Slack settings in the environment."""
    path = tmp_path / "sandbox.json"
    monkeypatch.setenv("INCIDENTBOT_SANDBOX_FILE", str(path))
    for name in ("SLACK_API_URL", "SLACK_SIGNING_SECRET", "SLACK_INCIDENTS_CHANNEL"):
        monkeypatch.delenv(name, raising=False)
    return path


@pytest.fixture
def emulator() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emu:
        yield emu


def one_line_exit_2(*args: str) -> str:
    result = runner.invoke(app, ["slack", *args])
    assert result.exit_code == 2, result.stdout
    (line,) = result.stderr.strip().splitlines()
    return line


def test_without_a_sandbox_it_says_to_start_one(nowhere: Path) -> None:
    line = one_line_exit_2("/incident declare Checkout is down")
    assert "start `incidentbot sandbox` first" in line and str(nowhere) in line


def test_a_sandbox_file_left_behind_by_a_stopped_sandbox_is_named(nowhere: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    SandboxState(
        bot_url="http://127.0.0.1:1",
        slack_api_url=f"http://127.0.0.1:{port}/api/",
        signing_secret="s",
        socket_mode=False,
        incidents_channel="C1",
    ).write(nowhere)
    line = one_line_exit_2("click", "Acknowledge")
    assert "is the sandbox still running?" in line and str(nowhere) in line


def test_it_drives_only_an_emulator_on_loopback(nowhere: Path) -> None:
    line = one_line_exit_2("--slack-url", "https://slack.com/api/", "--secret", "s", "hi")
    assert "only drives the Slack emulator on loopback" in line


def test_a_wrong_secret_is_refused_by_the_emulator(nowhere: Path, emulator: SlackEmulator) -> None:
    line = one_line_exit_2("--slack-url", emulator.api_url, "--secret", "guess", "hi")
    assert line.startswith("incidentbot slack: invalid_auth") and "--secret" in line


def test_an_emulator_started_by_hand_is_reached_with_its_url_and_secret(
    nowhere: Path, emulator: SlackEmulator
) -> None:
    result = runner.invoke(
        app,
        [
            *("slack", "--slack-url", emulator.api_url, "--secret", emulator.signing_secret),
            *("--in", "#general", "--as", "bob", "hello from the terminal"),
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "#general" in result.stdout and "hello from the terminal" in result.stdout
    general = emulator.channel_by_name("general")
    assert general is not None
    assert emulator.messages(general["id"])[-1]["text"] == "hello from the terminal"


@pytest.mark.parametrize(
    ("typed", "routed"),
    [
        (["/incident declare x"], ["say", "/incident declare x"]),
        (["--as", "bob", "/incident", "declare"], ["--as", "bob", "say", "/incident", "declare"]),
        (["click", "Ack", "--in", "#inc"], ["--in", "#inc", "click", "Ack"]),
        (["--in=#inc", "react", ":pushpin:"], ["--in=#inc", "react", ":pushpin:"]),
        (["submit", "title=x", "--as", "bob"], ["--as", "bob", "submit", "title=x"]),
        (["--", "-1 is broken"], ["say", "--", "-1 is broken"]),
        (["--", "click"], ["say", "--", "click"]),
        (["--ts", "17.1", "click", "Ack"], ["click", "--ts", "17.1", "Ack"]),
        (["--help"], ["--help"]),
    ],
)
def test_the_shared_options_go_first_and_text_that_is_no_subcommand_is_said(
    typed: list[str], routed: list[str]
) -> None:
    commands = {"say", "click", "react", "submit", "show"}
    assert route(typed, commands) == routed


def test_mrkdwn_shows_names_and_links_as_a_person_reads_them() -> None:
    text = (
        "<@U1> paged <!subteam^S1> in <#C1> and <#C9|ops>: <https://x.io/1|PD-1> "
        "<https://x.io/2> <!here> <!date^1700000000^{date}|Nov 14> &lt;b&gt; &amp;"
    )
    assert mrkdwn(text, NAMES) == (
        "@alice paged @dba-oncall in #inc-1-db and #ops: PD-1 (https://x.io/1) "
        "https://x.io/2 @here Nov 14 <b> &"
    )


def test_blocks_render_sections_fields_context_and_buttons() -> None:
    rendered = blocks(
        [
            {"type": "header", "text": {"type": "plain_text", "text": "SEV2 · DB down"}},
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "IC <@U1>"},
                "fields": [{"type": "mrkdwn", "text": "*Status*\nInvestigating"}],
                "accessory": {"type": "button", "text": {"type": "plain_text", "text": "Open"}},
            },
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": "a"}, {"type": "mrkdwn", "text": "b"}],
            },
            {"type": "divider"},
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Acknowledge"}},
                    {
                        "type": "static_select",
                        "placeholder": {"type": "plain_text", "text": "Status"},
                    },
                ],
            },
        ],
        NAMES,
    )
    assert rendered == [
        "SEV2 · DB down",
        "IC @alice",
        "*Status* Investigating",
        "[Open]",
        "a · b",
        "─" * 24,
        "[Acknowledge] [Status ▾]",
    ]


def test_a_form_lists_each_input_and_how_to_submit_it() -> None:
    view = {
        "title": {"type": "plain_text", "text": "Skip a step"},
        "submit": {"type": "plain_text", "text": "Skip"},
        "errors": {"reason": "Say why"},
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Why?"},
                "element": {"type": "plain_text_input", "action_id": "reason", "multiline": True},
            },
            {
                "type": "input",
                "block_id": "owner",
                "optional": True,
                "label": {"type": "plain_text", "text": "Owner"},
                "element": {"type": "users_select", "action_id": "owner"},
            },
        ],
    }
    assert form(view, NAMES) == [
        'Form "Skip a step" (its button: Skip)',
        "  Why?  [reason]  multiline text, required",
        "      ⚠ Say why",
        "  Owner  [owner]  user (@name), optional",
        'Submit it: incidentbot slack submit reason="…"  (fields by label or block id;',
        "  untouched fields keep what they show)  ·  or: incidentbot slack cancel",
    ]


def test_a_report_names_where_each_thing_was_seen() -> None:
    outcome = {
        "ephemerals": [{"channel": "C1", "ts": "1.0", "text": "Only you", "bot_id": "B1"}],
        "channels": {
            "D1": {"id": "D1", "is_im": True, "new": True, "joined": True},
            "C2": {"id": "C2", "name": "inc-2", "new": True, "joined": True},
        },
        "messages": [
            {"channel": "C2", "ts": "2.0", "text": "card", "bot_id": "B1", "change": "new"},
            {"channel": "D1", "ts": "3.0", "text": "psst", "bot_id": "B1", "change": "new"},
        ],
        "now_in": "C2",
        "settled": False,
    }
    assert report(outcome, NAMES) == [
        "Only visible to you, in #inc-1-db:",
        "  incidentbot  00:00:01",
        "    Only you",
        "#inc-2  (new channel, you were added)",
        "  incidentbot  00:00:02",
        "    card",
        "Direct messages from incidentbot",
        "  incidentbot  00:00:03",
        "    psst",
        "(you are now in #C2: --in to act elsewhere)",
        "(the bot is still working: `incidentbot slack show` to see more later)",
    ]

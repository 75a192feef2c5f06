"""`incidentbot sandbox`: one command runs the bot and the three emulators, seeded so a declare
works at once; it prints the settings it runs with (names the bot reads), a dashboard sign-in
and how to act as a user, leaves a state file for `incidentbot slack`, and stops on Ctrl-C."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from bot.settings import Settings
from tests.sandbox.conftest import WAIT, Launched, child_env

Launch = Callable[..., Launched]
WaitUntil = Callable[[Callable[[], bool], str], None]


def _state_matches_what_was_printed(sandbox: Launched, *, socket_mode: bool) -> None:
    env = sandbox.env
    state = sandbox.state()
    assert state.pid == sandbox.proc.pid
    assert state.bot_url == env["PUBLIC_URL"]
    assert state.slack_api_url == env["SLACK_API_URL"]
    assert state.incidents_channel == env["SLACK_INCIDENTS_CHANNEL"]
    assert state.socket_mode is socket_mode
    assert state.dashboard_url == f"{state.bot_url}/"
    assert {"alice", "bob", "carol"} <= set(state.users)
    # every printed setting is one the bot reads, named as it reads it
    assert {name.lower() for name in env} <= set(Settings.model_fields)
    assert env["PAGERDUTY_FROM_EMAIL"] == "alice@example.com"
    assert env["JIRA_PROJECT"] == "OPS"
    assert env["OPSGENIE_API_URL"].startswith("http://127.0.0.1:") and env["OPSGENIE_API_KEY"]
    assert env["OPSGENIE_WEBHOOK_TOKEN"] == "sandbox-opsgenie-token"
    if socket_mode:
        assert "SLACK_APP_TOKEN" in env and "SLACK_SIGNING_SECRET" not in env
    else:
        assert env["SLACK_SIGNING_SECRET"] == state.signing_secret
        assert "SLACK_APP_TOKEN" not in env


def _dashboard_after_sign_in(sandbox: Launched, title: str) -> None:
    state = sandbox.state()
    link = next(u for u in sandbox.urls("/review/login?t="))
    assert link.startswith(state.bot_url)
    with httpx.Client(base_url=state.bot_url, timeout=10) as browser:
        assert browser.get("/", follow_redirects=False).status_code == 303  # to the login form
        signed_in = browser.get(link, follow_redirects=False)
        assert signed_in.status_code == 303 and signed_in.headers["location"] == "/"
        dashboard = browser.get("/")
        assert dashboard.status_code == 200 and title in dashboard.text


def _stops_on_ctrl_c(sandbox: Launched) -> None:
    assert sandbox.interrupt() == 0
    assert not sandbox.state_file.exists()
    assert "Traceback" not in sandbox.stderr.read_text()


def test_a_declare_signed_with_the_printed_secret_opens_a_channel_seen_on_the_dashboard(
    launch: Launch, tmp_path: Path
) -> None:
    # run where a deployment's settings are: none of them leaks into the sandbox
    (tmp_path / ".env").write_text("PAGERDUTY_ROUTING_KEY=a-real-routing-key\n", encoding="utf-8")
    sandbox = launch(
        "sandbox", "--db", str(tmp_path / "kept.db"), extra_env={"METRICS_TOKEN": "a-real-one"}
    )
    _state_matches_what_was_printed(sandbox, socket_mode=False)
    assert "PAGERDUTY_ROUTING_KEY" not in sandbox.env and "METRICS_TOKEN" not in sandbox.env
    state = sandbox.state()
    slack = sandbox.slack()
    general = slack.channels()["general"]
    status = slack.slash_command(
        state.bot_url,
        state.signing_secret,
        state.users["alice"],
        general,
        "declare Checkout is down",
    )
    assert status == 200
    slack.wait_for_channel(r"checkout-is-down")
    _dashboard_after_sign_in(sandbox, "Checkout is down")
    _stops_on_ctrl_c(sandbox)
    assert (tmp_path / "kept.db").stat().st_size > 0  # --db: the database stays


def test_in_socket_mode_the_bot_holds_no_signing_secret_and_still_opens_incidents(
    launch: Launch,
) -> None:
    sandbox = launch("sandbox", "--socket-mode")
    _state_matches_what_was_printed(sandbox, socket_mode=True)
    state = sandbox.state()
    env = sandbox.env
    # Slack reaches this bot only over the socket: a signed HTTP request finds no listener
    slack = sandbox.slack()
    refused = slack.slash_command(
        state.bot_url, state.signing_secret, state.users["alice"], state.incidents_channel, "help"
    )
    assert refused != 200
    # an alert opens an incident: its channel appears in the emulated Slack
    alert = {
        "version": "4",
        "status": "firing",
        "receiver": "incidentbot",
        "groupKey": '{}:{alertname="CheckoutDown"}',
        "groupLabels": {"alertname": "CheckoutDown"},
        "commonLabels": {"alertname": "CheckoutDown", "service": "checkout-api"},
        "commonAnnotations": {"summary": "Checkout answers nothing"},
        "alerts": [
            {
                "status": "firing",
                "labels": {
                    "alertname": "CheckoutDown",
                    "service": "checkout-api",
                    "severity": "critical",
                },
                "annotations": {"summary": "Checkout answers nothing"},
                "startsAt": "2026-12-06T10:00:00Z",
                "fingerprint": "sandbox-socket-mode",
            }
        ],
    }
    answer = httpx.post(
        f"{state.bot_url}/webhooks/alertmanager",
        json=alert,
        headers={"Authorization": f"Bearer {env['ALERT_WEBHOOK_TOKEN']}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    slack.wait_for_channel(r"checkout-answers-nothing")
    _dashboard_after_sign_in(sandbox, "Checkout answers nothing")
    _stops_on_ctrl_c(sandbox)


def test_a_port_in_use_is_refused_with_the_fix(tmp_path: Path) -> None:
    state_file = tmp_path / "sandbox.json"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ended = subprocess.run(
            [sys.executable, "-m", "bot", "sandbox", "--port", str(port)],
            env=child_env(INCIDENTBOT_SANDBOX_FILE=str(state_file)),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
    assert ended.returncode == 2
    assert f"127.0.0.1:{port}" in ended.stderr and "--port" in ended.stderr
    assert "Traceback" not in ended.stderr
    assert not state_file.exists()

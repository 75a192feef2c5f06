"""Before `serve`, `scheduler` and `drill` work, each configured vendor is asked once whether it
takes the credentials: a refusal is a configuration problem naming the setting; a vendor that
cannot be reached only leaves a warning (it may be back before the first incident)."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from bot.cli_errors import ConfigProblems
from bot.emulators.pagerduty import PagerDutyEmulator
from bot.emulators.slack import SlackEmulator
from bot.preflight import check_credentials
from bot.settings import Settings


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


@pytest.fixture
def pagerduty() -> Iterator[PagerDutyEmulator]:
    with PagerDutyEmulator() as emulator:
        yield emulator


def settings(
    slack_url: str, slack_token: str, pagerduty: PagerDutyEmulator, pd_token: str
) -> Settings:
    return Settings(
        slack_api_url=slack_url,
        slack_bot_token=SecretStr(slack_token),
        pagerduty_api_token=SecretStr(pd_token),
        pagerduty_api_url=pagerduty.url,
        pagerduty_ca_bundle=pagerduty.ca_bundle,
    )


def test_credentials_the_vendors_take_pass(
    slack: SlackEmulator, pagerduty: PagerDutyEmulator
) -> None:
    check_credentials(settings(slack.api_url, slack.bot_token, pagerduty, pagerduty.api_token))
    assert [c.method for c in slack.calls] == ["auth.test"]


def test_every_refused_credential_is_named(
    slack: SlackEmulator, pagerduty: PagerDutyEmulator
) -> None:
    with pytest.raises(ConfigProblems) as refused:
        check_credentials(settings(slack.api_url, "xoxb-wrong", pagerduty, "wrong-pd-token"))
    named = {p.setting: p.what for p in refused.value.problems}
    assert named == {
        "SLACK_BOT_TOKEN": "Slack refused the bot token (invalid_auth)",
        "PAGERDUTY_API_TOKEN": "PagerDuty refused the API token (401)",
    }


def test_a_vendor_out_of_reach_is_only_a_warning(
    pagerduty: PagerDutyEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/api/"
    with caplog.at_level(logging.WARNING, logger="bot.preflight"):
        check_credentials(settings(closed, "xoxb-any", pagerduty, pagerduty.api_token))
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "bot.preflight"]
    assert (
        warning.startswith("could not try the Slack credentials") and "starting anyway" in warning
    )

"""The adapters book every call before it leaves: past the window's budget the call never reaches
Slack or PagerDuty and goes back to the outbox (`Deferred`, retried when the window frees).
Real clients over HTTP to the emulators; budgets with an injected clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.adapters.pagerduty import PagerDutyPager
from bot.adapters.slack.chat import SlackChat
from bot.adapters.slack.pacing import LIMITS, SlackPacer
from bot.core.pacing import Pacer, Window
from bot.emulators.pagerduty import PagerDutyEmulator
from bot.emulators.slack import SlackEmulator
from bot.flows.ports import Deferred


class Clock:
    now = 50.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def pd() -> Iterator[PagerDutyEmulator]:
    with PagerDutyEmulator() as emulator:
        yield emulator


def _pager(pd: PagerDutyEmulator, budgets: Pacer) -> PagerDutyPager:
    return PagerDutyPager(
        api_token=pd.api_token,
        from_email="alice@example.com",
        api_url=pd.url,
        events_url=pd.url,
        ca_bundle=Path(pd.ca_bundle),
        budgets=budgets,
    )


def test_every_pagerduty_rest_request_is_booked(pd: PagerDutyEmulator) -> None:
    clock = Clock()
    pager = _pager(pd, Pacer({"rest": Window(2, 61.0)}, clock=clock))
    pager.check()
    pager.check()
    with pytest.raises(Deferred) as info:
        pager.check()
    assert info.value.retry_after == pytest.approx(61.0)
    assert len(pd.calls) == 2  # the third never left
    clock.now += 61.0
    pager.check()
    assert len(pd.calls) == 3


def test_pagerduty_events_are_booked_per_routing_key(pd: PagerDutyEmulator) -> None:
    pager = _pager(pd, Pacer({"events": Window(1, 61.0)}, clock=Clock()))

    def trigger(service: str, dedup: str) -> None:
        pager.trigger(
            routing_key=pd.routing_key(service),
            dedup_key=dedup,
            summary="checkout down",
            source="bench",
            severity="critical",
            timestamp=datetime.now(UTC),
            custom_details={},
            links=[],
        )

    trigger("checkout-api", "a")
    with pytest.raises(Deferred):
        trigger("checkout-api", "b")
    trigger("payments", "c")  # another integration key, another window
    assert len(pd.calls_to("POST /v2/enqueue")) == 2


def test_slack_channels_past_the_minutes_budget_wait_for_it() -> None:
    with SlackEmulator(rate_limits=True) as slack:
        clock = Clock()
        chat = SlackChat(
            WebClient(token=slack.bot_token, base_url=slack.api_url),
            SlackPacer(Pacer(LIMITS, clock=clock)),
        )
        for i in range(18):  # 90 % of tier 2, at once
            chat.create_channel(f"inc-burst-{i}", private=False)
        with pytest.raises(Deferred):
            chat.create_channel("inc-burst-18", private=False)
        creates = slack.calls_to("conversations.create")
        assert [c.status for c in creates] == [200] * 18  # nothing refused, nothing extra sent

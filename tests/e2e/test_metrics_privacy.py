"""An anonymous scrape of /metrics cannot tell that a private incident exists: a private SEV1,
open, with timers armed and effects waiting on a failing Slack, moves none of the gauges read from
the database, and nothing of it appears in the text. A public SEV1 moves them (so the check can
see a leak)."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.sandbox import Sandbox
from tests.e2e.conftest import command
from tests.e2e.privacy_rig import Cast, cast_sb, declare_private

__all__ = ["cast_sb"]

FROM_THE_DATABASE = (
    "incidentbot_open_incidents",
    "incidentbot_outbox_pending",
    "incidentbot_outbox_retrying",
    "incidentbot_outbox_given_up",
    "incidentbot_timer_lag_seconds",
    "incidentbot_timers_pending",
)
SECRET = "Payroll export sent to the wrong bank"

Gauges = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(sb: Sandbox) -> tuple[str, Gauges]:
    answer = httpx.get(f"{sb.url}/metrics", timeout=10)  # no credential: anyone may
    assert answer.status_code == 200
    gauges = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
        if sample.name in FROM_THE_DATABASE
    }
    return answer.text, gauges


def test_an_open_private_sev1_leaves_no_trace_on_anonymous_metrics(
    cast_sb: tuple[Sandbox, Cast],
) -> None:
    sb, cast = cast_sb
    _, before = scrape(sb)
    incident = declare_private(sb, cast, SECRET, "SEV1")
    channel = incident["channel"]["id"]
    sb.slack.fail("chat.postMessage", error="internal_error", times=50)  # its effects wait
    command(sb, cast.alice, channel, "note the bank confirmed the transfer was stopped")
    text, after = scrape(sb)
    assert after == before
    for mark in (SECRET, channel, incident["channel"]["name"]):
        assert mark not in text

    command(sb, cast.alice, cast.general, "declare sev1 Checkout is down")
    _, public = scrape(sb)
    assert public[("incidentbot_open_incidents", (("severity", "SEV1"),))] == 1
    assert public[("incidentbot_timers_pending", ())] > before[("incidentbot_timers_pending", ())]

"""/metrics tells an operator how the bot itself is doing, in Prometheus's text format."""

from __future__ import annotations

import re

import httpx

from bot.sandbox import Sandbox
from tests.e2e.conftest import People, declare, scrape, value


def test_requests_latency_incidents_backlog_and_timers(sb: Sandbox, people: People) -> None:
    declare(sb, people, "sev1 Checkout API returns 500s")
    declare(sb, people, "sev3 Search is slow")
    refused = httpx.post(f"{sb.url}/webhooks/alertmanager", json={}, timeout=10)
    assert refused.status_code == 401
    samples = scrape(sb)
    assert (
        value(
            samples,
            "incidentbot_http_requests_total",
            route="/slack/events",
            method="POST",
            outcome="2xx",
        )
        >= 2
    )
    assert (
        value(
            samples,
            "incidentbot_http_requests_total",
            route="/webhooks/alertmanager",
            method="POST",
            outcome="4xx",
        )
        == 1
    )
    assert value(samples, "incidentbot_http_request_seconds_count", route="/slack/events") >= 2
    assert value(samples, "incidentbot_open_incidents", severity="SEV1") == 1
    assert value(samples, "incidentbot_open_incidents", severity="SEV3") == 1
    for integration in ("slack", "pager", "jira"):
        assert ("incidentbot_outbox_pending", (("integration", integration),)) in samples
    assert value(samples, "incidentbot_timers_pending") >= 4  # status updates, nudges, stale watch
    assert value(samples, "incidentbot_timer_lag_seconds") == 0  # nothing due yet
    assert value(samples, "incidentbot_unauthorized_requests_total", endpoint="alertmanager") == 1
    body = httpx.get(f"{sb.url}/metrics", timeout=10).text
    assert re.search(
        r'incidentbot_http_request_seconds_bucket\{le="0\.1",route="/slack/events"\}', body
    )


def test_timer_lag_shows_a_scheduler_that_is_not_running(db_url: str) -> None:
    from datetime import UTC, datetime, timedelta

    from bot.sandbox import ScriptedClock

    clock = ScriptedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1))
    with Sandbox(db_url, clock=clock) as sb:
        people = People(
            *(sb.slack.user_id(n) for n in ("alice", "bob", "carol")),
            sb.slack.channel_by_name("general")["id"],  # type: ignore[index]
        )
        declare(sb, people, "sev3 Search is slow")  # the SEV3 status update is due in 60 min
        clock.advance(minutes=65)  # …and nobody fired it: 5 minutes late
        assert value(scrape(sb), "incidentbot_timer_lag_seconds") == 5 * 60
        sb.bot.timers.fire_due()
        assert value(scrape(sb), "incidentbot_timer_lag_seconds") == 0

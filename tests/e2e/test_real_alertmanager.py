"""A real Prometheus Alertmanager in front of the bot: alerts posted to Alertmanager's API v2 are
grouped, delivered to the bot's webhook with the bearer token, re-delivered when the group changes
and resolved with send_resolved, exactly as in production.

Skipped when no Alertmanager binary is on PATH (Debian: prometheus-alertmanager), unless
INCIDENTBOT_REQUIRE_ALERTMANAGER=1 (CI), which makes a missing binary a failure."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from bot.sandbox import ALERT_TOKEN, Sandbox
from tests.e2e.alertmanager_process import (
    REQUIRE_ENV,
    Alertmanager,
    find_binary,
    metric,
    required,
)
from tests.e2e.conftest import incidents

BINARY = find_binary()
if BINARY is None and not required():
    pytest.skip(
        f"prometheus-alertmanager is not on PATH (set {REQUIRE_ENV}=1 to make this a failure)",
        allow_module_level=True,
    )

DEADLINE = 30.0  # seconds, for the whole scenario; Alertmanager's timers below make it ~4 s
POLL = 0.05
T = TypeVar("T")

CHECKOUT = "Checkout API 5xx ratio above 5%"
SEARCH = "Search p99 above 2s"


def route_config(bot_url: str) -> dict[str, Any]:
    return {
        "route": {
            "receiver": "incidentbot",
            "group_by": ["alertname", "service"],
            "group_wait": "1s",
            "group_interval": "2s",
            "repeat_interval": "4h",
        },
        "receivers": [
            {
                "name": "incidentbot",
                "webhook_configs": [
                    {
                        "url": f"{bot_url}/webhooks/alertmanager",
                        "send_resolved": True,
                        "http_config": {
                            "authorization": {"type": "Bearer", "credentials": ALERT_TOKEN}
                        },
                    }
                ],
            }
        ],
    }


@pytest.fixture
def alertmanager_binary() -> str:
    if BINARY is None:
        pytest.fail(f"{REQUIRE_ENV} is set but prometheus-alertmanager is not on PATH")
    return BINARY


@pytest.fixture
def alertmanager(alertmanager_binary: str, sb: Sandbox, tmp_path: Path) -> Iterator[Alertmanager]:
    am = Alertmanager(alertmanager_binary, route_config(sb.url), tmp_path / "alertmanager")
    try:
        am.start()
        yield am
    finally:
        am.stop()
        # pytest shows a test's teardown output only when it failed: the whole story
        sys.stderr.write(f"----- Alertmanager log -----\n{am.logs()}")


class Deadline:
    """One deadline for the whole scenario, so a stuck step cannot stretch the test."""

    def __init__(self, am: Alertmanager, sb: Sandbox) -> None:
        self.am, self.sb = am, sb
        self.deadline = time.monotonic() + DEADLINE

    def until(self, what: str, probe: Callable[[], T | None]) -> T:
        while True:
            found = probe()
            if found is not None:
                return found
            if time.monotonic() > self.deadline:
                pytest.fail(
                    f"gave up waiting for {what}\nthe bot has: {self._bot_state()}\n"
                    f"Alertmanager log:\n{self.am.logs()}"
                )
            time.sleep(POLL)

    def _bot_state(self) -> str:
        try:
            return repr(
                [
                    (i["id"], i["service"], i["status"], [a["status"] for a in i["alerts"]])
                    for i in incidents(self.sb)
                ]
            )
        except Exception as exc:  # the failure message must not hide the failure
            return f"(the API failed: {exc!r})"


def rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def alert(
    alertname: str,
    *,
    service: str,
    severity: str,
    instance: str,
    summary: str,
    starts_at: datetime,
    ends_at: datetime | None = None,
) -> dict[str, Any]:
    """What Prometheus posts to Alertmanager's API v2 for one alert."""
    body: dict[str, Any] = {
        "labels": {
            "alertname": alertname,
            "service": service,
            "severity": severity,
            "instance": instance,
        },
        "annotations": {
            "summary": summary,
            "description": f"{alertname} on {instance}",  # per alert: not a common annotation
        },
        "startsAt": rfc3339(starts_at),
        "generatorURL": f"http://prometheus.example.com:9090/graph?g0.expr={alertname}",
    }
    if ends_at is not None:
        body["endsAt"] = rfc3339(ends_at)
    return body


def by_service(sb: Sandbox) -> dict[str, dict[str, Any]]:
    found = incidents(sb)
    services = [i["service"] for i in found]
    assert len(set(services)) == len(services), f"one incident per group, got {services}"
    return {i["service"]: i for i in found}


def mitigation_proposals(sb: Sandbox, channel: str) -> list[dict[str, Any]]:
    return [
        m
        for m in sb.slack.messages(channel)
        if any(b.get("block_id") == "mitigation.actions" for b in m.get("blocks") or [])
    ]


def test_alertmanager_groups_pages_and_resolves_through_the_webhook(
    sb: Sandbox, alertmanager: Alertmanager
) -> None:
    am, pd = alertmanager, sb.pagerduty
    deadline = Deadline(am, sb)
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)

    def checkout(instance: str, ends_at: datetime | None = None) -> dict[str, Any]:
        return alert(
            "CheckoutHigh5xx",
            service="checkout-api",
            severity="critical",
            instance=instance,
            summary=CHECKOUT,
            starts_at=started,
            ends_at=ends_at,
        )

    search = alert(
        "SearchLatencyHigh",
        service="search",
        severity="warning",
        instance="search-1:9200",
        summary=SEARCH,
        starts_at=started,
    )

    def both_groups() -> dict[str, dict[str, Any]] | None:
        found = by_service(sb)
        return found if found.keys() == {"checkout-api", "search"} else None

    def checkout_with(alerts: int) -> dict[str, dict[str, Any]] | None:
        found = by_service(sb)
        return found if len(found["checkout-api"]["alerts"]) == alerts else None

    def page_linked() -> dict[str, Any] | None:
        pages = by_service(sb)["checkout-api"]["pages"]
        return pages[0] if pages and pages[0]["pagerduty_incident"] else None

    def checkout_resolved() -> dict[str, Any] | None:
        found = by_service(sb)["checkout-api"]
        return found if all(a["status"] == "resolved" for a in found["alerts"]) else None

    def deliveries(at_least: int) -> float | None:
        sent = am.metric("alertmanager_notification_requests", integration="webhook")
        return sent if sent >= at_least else None

    # Two groups, one notification each. (Not after group_wait: Alertmanager flushes a new group
    # at once when its alert started more than group_wait ago, as these did.)
    am.post_alerts([checkout("checkout-1:8080"), search])
    opened = deadline.until("an incident per Alertmanager group", both_groups)
    first = opened["checkout-api"]
    assert (first["title"], first["severity"], first["source"]) == (CHECKOUT, "SEV1", "alert")
    assert datetime.fromisoformat(first["milestones"]["impact_started_at"]["at"]) == started
    second = opened["search"]
    assert (second["title"], second["severity"]) == (SEARCH, "SEV3")
    assert second["id"] != first["id"]

    # A second instance joins the checkout group: Alertmanager re-sends the whole group after
    # group_interval, and the bot attaches it to the same incident
    am.post_alerts([checkout("checkout-2:8080")])
    grown = deadline.until("the second checkout alert", lambda: checkout_with(alerts=2))
    incident = grown["checkout-api"]
    assert (incident["id"], incident["severity"]) == (first["id"], "SEV1")
    assert {a["labels"]["instance"] for a in incident["alerts"]} == {
        "checkout-1:8080",
        "checkout-2:8080",
    }
    assert all(a["status"] == "firing" for a in incident["alerts"])
    # the bot keeps Alertmanager's own fingerprints
    fingerprints = {
        a["fingerprint"] for a in am.alerts() if a["labels"]["service"] == "checkout-api"
    }
    assert {a["fingerprint"] for a in incident["alerts"]} == fingerprints

    # The SEV1 paged PagerDuty once through Events v2; the SEV3 did not page
    sb.settle()
    triggers = [e for e in pd.events() if e["event_action"] == "trigger"]
    assert [e["dedup_key"] for e in triggers] == [f"incidentbot-{incident['id']}"]
    assert triggers[0]["routing_key"] == pd.routing_key("checkout-api")
    (pd_incident,) = pd.incidents()
    page = deadline.until("the page to learn its PagerDuty incident", page_linked)
    assert page["pagerduty_incident"] == pd_incident["id"]
    assert by_service(sb)["search"]["pages"] == []

    # Both checkout alerts stop: Prometheus posts them with endsAt; Alertmanager sends the
    # resolved group on its next group_interval (send_resolved)
    now = datetime.now(UTC)
    ended = now.replace(microsecond=now.microsecond // 1000 * 1000)  # what RFC 3339 ms carries
    am.post_alerts([checkout("checkout-1:8080", ended), checkout("checkout-2:8080", ended)])
    done = deadline.until("the resolved notification", checkout_resolved)
    assert [datetime.fromisoformat(a["ends_at"]) for a in done["alerts"]] == [ended, ended]
    assert done["milestones"]["mitigated_at"] is None  # proposed, not forced
    assert done["status"] == first["status"]
    sb.settle()
    assert len(mitigation_proposals(sb, done["channel"]["id"])) == 1
    untouched = by_service(sb)["search"]
    assert [a["status"] for a in untouched["alerts"]] == ["firing"]  # the other group
    assert len(incidents(sb)) == 2

    # Alertmanager's own account: four deliveries (search, checkout, checkout grown, checkout
    # resolved), none failed, none retried, and the bot answered 200 to each of them
    assert deadline.until("Alertmanager to count its deliveries", lambda: deliveries(4)) == 4
    assert am.metric("alertmanager_notifications", integration="webhook") == 4
    assert am.metric("alertmanager_notifications_failed", integration="webhook") == 0
    assert am.metric("alertmanager_notification_requests_failed", integration="webhook") == 0
    bot_metrics = httpx.get(f"{sb.url}/metrics", timeout=10).text
    assert metric(bot_metrics, "incidentbot_webhooks", source="alertmanager", status="200") == 4
    assert metric(bot_metrics, "incidentbot_unauthorized_requests", endpoint="alertmanager") == 0

"""Scale-out on one PostgreSQL: two `serve` replicas (no proxy: the alert posts alternate between
them) and two `scheduler` processes, under an Alertmanager storm, against emulators enforcing
Slack's and PagerDuty's published limits. Exactly one incident, one channel, one card and one
page per alert group; one reminder per due time; not one 429 from Slack or PagerDuty (the four
processes share one budget per limit); and when the leading scheduler is killed the standby
takes over within 10 seconds (the one timed assertion)."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from bot.sandbox import ALERT_TOKEN
from bot.store.models import AlertRow, TimerRow
from tests.e2e.processes import Rig, postgres_url, started_rig, wait_for
from tests.fixtures.alerts import alertmanager, am_alert

# More groups than one minute of Slack's tier 2 (conversations.create, setTopic, pins.add: 20 a
# minute): four processes each booking their own 90 % would draw 429s; sharing one budget, 18
# channels come at once and the rest a minute later, so the test settles in a little over a
# minute. Measure a bigger storm with INCIDENTBOT_STORM_GROUPS / INCIDENTBOT_STORM_ALERTS.
GROUPS = int(os.environ.get("INCIDENTBOT_STORM_GROUPS", "24"))
ALERTS = int(os.environ.get("INCIDENTBOT_STORM_ALERTS", "100"))  # per group
BATCHES = tuple(ALERTS * n // 5 for n in range(1, 6))  # a growing group, re-sent whole each time
FAILOVER_LIMIT_S = 10.0


@pytest.fixture
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    with started_rig(postgres_url(request), tmp_path) as started:
        yield started


def _notification(group: int, count: int) -> dict[str, Any]:
    name = f"Storm{group:02d}"
    payload = alertmanager(
        group_key=f'{{}}:{{alertname="{name}"}}',
        alerts=[
            am_alert(
                alertname=name,
                instance=f"checkout-{group:02d}-{i:02d}:8080",
                fingerprint=f"{group:04x}{i:012x}",
            )
            for i in range(count)
        ],
        common_annotations={"summary": f"Storm {group:02d}: checkout 5xx above 5%"},
    )
    payload["groupLabels"] = {"alertname": name}
    payload["commonLabels"] = {**payload["commonLabels"], "alertname": name}
    return payload


def _storm(urls: list[str]) -> tuple[int, float]:
    """Every notification of every group, each to both replicas, all at once in random order.
    Returns (alerts carried, seconds until the last was answered)."""
    posts = [
        (url, _notification(group, count))
        for group in range(GROUPS)
        for count in BATCHES
        for url in urls
    ]
    random.Random(7).shuffle(posts)
    headers = {"Authorization": f"Bearer {ALERT_TOKEN}"}
    with httpx.Client(headers=headers, timeout=30) as client, ThreadPoolExecutor(16) as pool:
        started = time.monotonic()
        answers = list(
            pool.map(lambda p: client.post(f"{p[0]}/webhooks/alertmanager", json=p[1]), posts)
        )
        took = time.monotonic() - started
    assert [a.status_code for a in answers] == [200] * len(posts), [
        a.text for a in answers if a.status_code != 200
    ][:3]
    return sum(len(p[1]["alerts"]) for p in posts), took


def _fired_status_updates(rig: Rig) -> int:
    with rig.db.read() as s:
        rows = s.exec(select(TimerRow).where(TimerRow.kind == "status_update")).all()
    return sum(r.outcome == "fired" for r in rows)


def _refused(rig: Rig) -> list[str]:
    """Every call Slack or PagerDuty answered 429 (rate limited)."""
    slack = [f"slack {c.method}" for c in rig.slack.calls if c.status == 429]
    return slack + [f"pagerduty {c.route}" for c in rig.pagerduty.calls if c.status == 429]


def _reminder_counts(rig: Rig) -> list[int]:
    return [len(rig.reminders(str(i.conversation_id))) for i in rig.incidents()]


@pytest.mark.timeout(420)  # its own waits: 240 s to settle, then 60 s more (a loaded machine)
def test_an_alert_storm_on_two_replicas_and_a_scheduler_failover(rig: Rig) -> None:
    rig.slack.rate_limits = rig.pagerduty.rate_limits = True  # Slack's tiers, PagerDuty's limits
    schedulers = [rig.scheduler(f"scheduler-{n}") for n in (1, 2)]
    serves = [rig.serve(f"serve-{n}") for n in (1, 2)]
    rig.ready(*schedulers, *serves)
    assert wait_for(lambda: sum(s.leads() for s in schedulers) == 1, 10), rig.logs()

    alerts, ingest_s = _storm([s.url for s in serves])
    started = time.monotonic() - ingest_s
    assert wait_for(lambda: rig.settled(GROUPS), 240), (rig.pending_effects()[:5], rig.logs())
    settle_s = time.monotonic() - started
    print(
        f"\nstorm: {alerts} alerts ({GROUPS} groups x {ALERTS}, {len(BATCHES)} notifications "
        f"each, to both replicas) answered in {ingest_s:.2f}s = {alerts / ingest_s:.0f} alerts/s; "
        f"settled (channels, cards, pages) {settle_s:.1f}s after the first post"
    )

    incidents = rig.incidents()
    with rig.db.read() as s:
        alert_rows = s.exec(select(AlertRow)).all()
    per_incident = {i.id: sum(a.incident_id == i.id for a in alert_rows) for i in incidents}
    assert sorted(i.title for i in incidents) == sorted(
        f"Storm {g:02d}: checkout 5xx above 5%" for g in range(GROUPS)
    )
    assert set(per_incident.values()) == {ALERTS}
    channels = rig.incident_channels()
    assert sorted(c["id"] for c in channels) == sorted(str(i.conversation_id) for i in incidents)
    assert all(len(rig.cards(c["id"])) == 1 for c in channels)
    pages = rig.pagerduty.incidents()
    assert len(pages) == GROUPS and len({p["incident_key"] for p in pages}) == GROUPS
    assert sorted(p["title"] for p in pages) == sorted(f"[SEV1] {i.title}" for i in incidents)

    # one reminder per due time, the first from the leader
    assert rig.make_reminders_due() == GROUPS
    assert wait_for(lambda: _reminder_counts(rig) == [1] * GROUPS and rig.settled(GROUPS), 20)

    # kill -9 the leader; the next reminders come due at once: the standby must fire them
    leader = next(s for s in schedulers if s.leads())
    standby = next(s for s in schedulers if s is not leader)
    leader.kill()
    killed = time.monotonic()
    assert rig.make_reminders_due() == GROUPS
    took: dict[str, float] = {}
    checks: dict[str, Callable[[], bool]] = {
        "holds the lock": standby.leads,
        "fired the due timers": lambda: _fired_status_updates(rig) == 2 * GROUPS,
        "posted the reminders": lambda: _reminder_counts(rig) == [2] * GROUPS,
    }

    def all_seen() -> bool:
        for what, check in checks.items():
            if what not in took and check():
                took[what] = time.monotonic() - killed
        return len(took) == len(checks)

    assert wait_for(all_seen, 30, every=0.05), (took, rig.logs())
    print("failover: standby " + ", ".join(f"{what} after {s:.2f}s" for what, s in took.items()))
    assert took["fired the due timers"] < FAILOVER_LIMIT_S
    assert wait_for(lambda: rig.settled(GROUPS), 10)
    assert _reminder_counts(rig) == [2] * GROUPS  # no doubles once everything is delivered
    assert _fired_status_updates(rig) == 2 * GROUPS
    assert _refused(rig) == []  # paced under every limit, by four processes together

"""An alert storm: 10,000 alerts in 500 groups over about a minute, from Alertmanager or, with
--source, from Datadog, New Relic or CloudWatch through SNS (bench/storm_sources.py says how
each source's storm is shaped).

The bot runs as `incidentbot serve` (its own process); the Slack and PagerDuty emulators run
here with their rate limits ON, so any 429 the bot provokes is counted; the client sends each
group the way Alertmanager does (the whole group again on every change: 5, 10, 15, 20 alerts),
as raw HTTP with the bearer token, paced to spread the storm over --seconds.

It prints: incidents created (must be 500), pages sent (each incident pages once at most),
Slack and PagerDuty 429s (must be 0), webhook p50/p99 (target p99 < 100 ms), alerts/s (back to
back, target ≥ 1,000: each delivery on a new connection, and over connections kept alive as
Alertmanager's HTTP client keeps them), and —
as the ratio's baseline, measured in the same run on the same kind of database — the rate at
which the same deliveries' alert rows can be written by plain INSERTs, one transaction per
delivery (target: the bot ≥ 50% of it, measured with the deliveries sent back to back).

    .venv/bin/python bench/alert_storm.py [--db sqlite|postgres|both] [--seconds 60] [--groups 500]
        [--source alertmanager|datadog|newrelic|cloudwatch|all]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bench_db
import httpx
import yaml
from loopback import free_port, pct, request_bytes, timed, timed_on, wait_healthy
from sqlalchemy import text
from storm_sources import SOURCES, Delivery, deliveries, sns_env

from bot.emulators.pagerduty import PagerDutyEmulator
from bot.emulators.slack import SlackEmulator
from bot.emulators.sns import SnsEmulator
from bot.sandbox import pagerduty_catalog
from bot.store.db import Database

TOKEN = "storm-alert-token"
# the bench's own database (env BENCH_PG_DB, default `bench`; never the test suite's `test`)
PG_URL = f"{bench_db.PG_SERVER}/{bench_db.PG_DB}"
STEPS = (5, 10, 15, 20)  # alerts in each successive notification of a group
SERVICES = ("checkout-api", "payments", "search")


def notifications(groups: int) -> list[dict[str, Any]]:
    """Every delivery of the storm, in the order Alertmanager would send them."""
    start = datetime.now(UTC) - timedelta(minutes=5)
    out = []
    for step in STEPS:
        for g in range(groups):
            service = SERVICES[g % len(SERVICES)]
            alerts = [
                {
                    "status": "firing",
                    "labels": {
                        "alertname": f"Storm{g}",
                        "service": service,
                        "severity": "critical",
                        "instance": f"node-{i}",
                    },
                    "annotations": {"summary": f"Storm group {g} on {service}"},
                    "startsAt": (start + timedelta(seconds=i)).isoformat(),
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus:9090/graph",
                    "fingerprint": f"{g:04x}{i:04x}",
                }
                for i in range(step)
            ]
            out.append(
                {
                    "version": "4",
                    "groupKey": f'{{}}:{{alertname="Storm{g}"}}',
                    "status": "firing",
                    "receiver": "incidentbot",
                    "groupLabels": {"alertname": f"Storm{g}"},
                    "commonLabels": {
                        "alertname": f"Storm{g}",
                        "service": service,
                        "severity": "critical",
                    },
                    "commonAnnotations": {"summary": f"Storm group {g} on {service}"},
                    "externalURL": "http://alertmanager:9093",
                    "alerts": alerts,
                }
            )
    return out


def alertmanager_deliveries(batches: list[dict[str, Any]]) -> list[Delivery]:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    return [
        Delivery(
            "/webhooks/alertmanager",
            json.dumps(b).encode(),
            headers,
            b["groupKey"],
            tuple((a["fingerprint"], json.dumps(a["labels"])) for a in b["alerts"]),
        )
        for b in batches
    ]


def storm_deliveries(source: str, groups: int, sns: SnsEmulator | None) -> list[Delivery]:
    if source == "alertmanager":
        return alertmanager_deliveries(notifications(groups))
    return deliveries(source, groups, TOKEN, sns)


async def post(port: int, delivery: Delivery) -> float:
    status, elapsed = await timed(
        port, request_bytes(port, delivery.path, delivery.body, delivery.headers)
    )
    if status != 200:
        raise RuntimeError(f"{delivery.path} answered {status}")
    return elapsed


async def storm(
    port: int, bodies: list[Delivery], seconds: float, concurrency: int, *, keep_alive: bool = False
) -> tuple[list[float], float]:
    """Send the deliveries spread over `seconds` (0: back to back), `concurrency` at a time:
    each on a new connection, or (`keep_alive`) over `concurrency` connections kept open, as
    Alertmanager's HTTP client keeps its connections to a receiver."""
    if keep_alive:
        return await _storm_kept_alive(port, bodies, seconds, concurrency)
    gate = asyncio.Semaphore(concurrency)
    began = time.perf_counter()

    async def one(i: int, body: Delivery) -> float:
        if seconds:
            await asyncio.sleep(max(0.0, began + seconds * i / len(bodies) - time.perf_counter()))
        async with gate:
            return await post(port, body)

    latencies = await asyncio.gather(*(one(i, b) for i, b in enumerate(bodies)))
    return list(latencies), time.perf_counter() - began


async def _storm_kept_alive(
    port: int, bodies: list[Delivery], seconds: float, concurrency: int
) -> tuple[list[float], float]:
    latencies = [0.0] * len(bodies)
    turns = iter(range(len(bodies)))  # shared: each connection takes the next delivery
    began = time.perf_counter()

    async def connection() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for i in turns:
                if seconds:
                    due = began + seconds * i / len(bodies)
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                d = bodies[i]
                request = request_bytes(port, d.path, d.body, d.headers, keep_alive=True)
                status, latencies[i] = await timed_on(reader, writer, request)
                if status != 200:
                    raise RuntimeError(f"{d.path} answered {status}")
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return latencies, time.perf_counter() - began


def raw_insert_rate(url: str, batches: list[Delivery], alerts: int) -> float:
    """Alerts per second (`alerts` in all) written by plain INSERTs, one transaction per
    delivery: its new rows, or, when it brings none (New Relic's and CloudWatch's repeats), its
    rows again with ON CONFLICT DO NOTHING."""
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS storm_baseline"))
        conn.execute(
            text(
                "CREATE TABLE storm_baseline (grp VARCHAR(64), fingerprint VARCHAR(64), labels TEXT, starts_at VARCHAR(40), PRIMARY KEY (grp, fingerprint))"
            )
        )
    seen: set[tuple[str, str]] = set()
    began = time.perf_counter()
    for batch in batches:
        fresh = [
            {
                "grp": batch.group,
                "fingerprint": fingerprint,
                "labels": labels,
                "starts_at": "2026-11-26T06:58:12Z",
            }
            for fingerprint, labels in batch.alerts
            if (batch.group, fingerprint) not in seen
        ]
        seen.update((r["grp"], r["fingerprint"]) for r in fresh)
        insert = "INSERT INTO storm_baseline VALUES (:grp, :fingerprint, :labels, :starts_at)"
        if not fresh:
            insert += " ON CONFLICT DO NOTHING"
            fresh = [
                {"grp": batch.group, "fingerprint": f, "labels": labels, "starts_at": ""}
                for f, labels in batch.alerts
            ]
        with db.engine.begin() as conn:
            conn.execute(text(insert), fresh)
    elapsed = time.perf_counter() - began
    with db.engine.begin() as conn:
        conn.execute(text("DROP TABLE storm_baseline"))
    db.dispose()
    return alerts / elapsed


def reset_postgres(url: str) -> None:
    from sqlalchemy.engine import make_url
    from sqlmodel import SQLModel

    target = make_url(url)
    if target.database == "test":
        raise SystemExit(
            "the `test` database belongs to the test suite; set BENCH_PG_DB to another"
        )
    admin = Database(target.set(database="postgres").render_as_string(hide_password=False))
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}
        ).first():
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()

    import bot.store.models  # noqa: F401

    db = Database(url)
    with db.engine.begin() as conn:
        for table in [
            *(t.name for t in reversed(SQLModel.metadata.sorted_tables)),
            "alembic_version",
        ]:
            conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    db.dispose()


def run(kind: str, args: argparse.Namespace, source: str, sns: SnsEmulator) -> dict[str, Any]:
    tmp = tempfile.mkdtemp(prefix="incidentbot-storm-")
    url = f"sqlite:///{tmp}/storm.db" if kind == "sqlite" else PG_URL
    if kind == "postgres":
        reset_postgres(url)
    bodies = storm_deliveries(source, args.groups, sns)
    result: dict[str, Any] = {
        "db": kind,
        "deliveries": len(bodies),
        "alerts": args.groups * STEPS[-1],
    }
    with SlackEmulator(rate_limits=True) as slack, PagerDutyEmulator(rate_limits=True) as pd:
        feed = slack.add_channel("incidents")
        catalog = Path(tmp) / "catalog.yaml"
        catalog.write_text(yaml.safe_dump(pagerduty_catalog(pd)))
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "INCIDENTBOT_CONFIG": str(catalog),
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": slack.signing_secret,
            "SLACK_API_URL": slack.api_url,
            "SLACK_INCIDENTS_CHANNEL": feed,
            "ALERT_WEBHOOK_TOKEN": TOKEN,
            "PAGERDUTY_API_TOKEN": pd.api_token,
            "PAGERDUTY_FROM_EMAIL": "alice@example.com",
            "PAGERDUTY_API_URL": pd.url,
            "PAGERDUTY_EVENTS_URL": pd.url,
            "PAGERDUTY_CA_BUNDLE": pd.ca_bundle,
            "PAGERDUTY_WEBHOOK_SECRETS": pd.webhook_secret,
            "LOG_LEVEL": "ERROR",
            **sns_env(sns),
        }
        subprocess.run(
            [sys.executable, "-m", "bot", "db", "upgrade"], env=env, check=True, capture_output=True
        )
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--port", str(port)], env=env, cwd=tmp
        )
        try:
            wait_healthy(port, bot, 30, "the output above")
            pd.subscribe(f"http://127.0.0.1:{port}/webhooks/pagerduty")
            latencies, elapsed = asyncio.run(storm(port, bodies, args.seconds, args.concurrency))
            time.sleep(args.drain)
            db = Database(url)
            with db.engine.connect() as conn:
                result["incidents"] = conn.execute(
                    text("SELECT count(*) FROM incident")
                ).scalar_one()
                result["alert_rows"] = conn.execute(text("SELECT count(*) FROM alert")).scalar_one()
                result["channels"] = conn.execute(
                    text("SELECT count(*) FROM incident WHERE conversation_id IS NOT NULL")
                ).scalar_one()
                result["pending_effects"] = conn.execute(
                    text("SELECT count(*) FROM outbox WHERE done_at IS NULL")
                ).scalar_one()
            db.dispose()
        finally:
            stopping = time.perf_counter()
            bot.terminate()  # SIGTERM: answers stop, the pool drains within SHUTDOWN_GRACE (20 s)
            bot.wait(timeout=60)
            result["shutdown_s"] = time.perf_counter() - stopping
        result["pages"] = len([e for e in pd.events() if e.get("event_action") == "trigger"])
        result["pd_incidents"] = len(pd.incidents())
        result["slack_429"] = sum(1 for c in slack.calls if c.status == 429)
        result["pd_429"] = sum(1 for c in pd.calls if c.status == 429)
        result["slack_channels_created"] = sum(
            1 for c in slack.calls_to("conversations.create") if c.ok
        )
    result["p50_ms"], result["p99_ms"] = pct(latencies, 50), pct(latencies, 99)
    result["seconds"] = elapsed
    result["alerts_per_s"] = result["alerts"] / elapsed
    result["capacity_alerts_per_s"] = capacity(kind, args, source, sns, keep_alive=False)
    result["kept_alive_alerts_per_s"] = capacity(kind, args, source, sns, keep_alive=True)
    result["raw_alerts_per_s"] = raw_insert_rate(
        url if kind == "postgres" else f"sqlite:///{tmp}/raw.db", bodies, result["alerts"]
    )
    return result


def capacity(
    kind: str, args: argparse.Namespace, source: str, sns: SnsEmulator, *, keep_alive: bool
) -> float:
    """The same deliveries back to back into a fresh bot (Slack and PagerDuty quiet): alerts/s,
    each on a new connection or over connections kept alive."""
    tmp = tempfile.mkdtemp(prefix="incidentbot-capacity-")
    url = f"sqlite:///{tmp}/cap.db" if kind == "sqlite" else PG_URL
    if kind == "postgres":
        reset_postgres(url)
    with SlackEmulator() as slack:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": slack.signing_secret,
            "SLACK_API_URL": slack.api_url,
            "ALERT_WEBHOOK_TOKEN": TOKEN,
            "LOG_LEVEL": "ERROR",
            **sns_env(sns),
        }
        subprocess.run(
            [sys.executable, "-m", "bot", "db", "upgrade"], env=env, check=True, capture_output=True
        )
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--port", str(port)], env=env, cwd=tmp
        )
        try:
            for _ in range(150):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.2)
            bodies = storm_deliveries(source, args.groups, sns)  # fresh: new SNS MessageIds
            _, elapsed = asyncio.run(
                storm(port, bodies, 0, args.concurrency, keep_alive=keep_alive)
            )
        finally:
            bot.terminate()
            bot.wait(timeout=60)
    return args.groups * STEPS[-1] / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--groups", type=int, default=500)
    parser.add_argument("--source", choices=[*SOURCES, "all"], default="alertmanager")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=8, help="deliveries in flight at once")
    parser.add_argument(
        "--drain", type=float, default=5.0, help="seconds to let the bot work after the storm"
    )
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    sources = list(SOURCES) if args.source == "all" else [args.source]
    for source in sources:
        for kind in kinds:
            with SnsEmulator() as sns:
                report(kind, source, args, run(kind, args, source, sns))
    return 0


def report(kind: str, source: str, args: argparse.Namespace, r: dict[str, Any]) -> None:
    ratio = r["capacity_alerts_per_s"] / r["raw_alerts_per_s"]
    print(
        f"\n== {source} on {kind}: {r['alerts']} alerts in {args.groups} groups, {r['deliveries']} deliveries over {r['seconds']:.1f} s"
    )
    print(f"incidents created        {r['incidents']}  (target {args.groups})")
    print(f"alerts stored            {r['alert_rows']}")
    print(
        f"pages sent               {r['pages']}  → {r['pd_incidents']} PagerDuty incidents (at most one each)"
    )
    print(
        f"channels made            {r['slack_channels_created']}  (Slack allows ~20/min; the rest wait their turn: {r['pending_effects']} effects pending)"
    )
    print(
        f"stopped after SIGTERM    {r['shutdown_s']:.1f} s  (grace 20 s, under an orchestrator's 30 s)"
    )
    print(f"429s seen                Slack {r['slack_429']}, PagerDuty {r['pd_429']}  (target 0)")
    print(
        f"webhook latency          p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms  (target p99 < 100 ms)"
    )
    print(f"alerts/s during storm    {r['alerts_per_s']:.0f}  (offered load)")
    print(
        f"alerts/s back to back    {r['capacity_alerts_per_s']:.0f} (a connection each), "
        f"{r['kept_alive_alerts_per_s']:.0f} (connections kept alive, as Alertmanager's)  "
        "(target ≥ 1000)"
    )
    print(
        f"raw INSERT baseline      {r['raw_alerts_per_s']:.0f} alerts/s  → ratio {ratio:.0%} (target ≥ 50%)"
    )


if __name__ == "__main__":
    sys.exit(main())

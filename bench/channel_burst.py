"""Channels for a burst of declares, against a Slack that enforces its published tiers.

The bot runs as `incidentbot serve` (its own process, its real pacing); the Slack emulator runs
here with rate limits ON (tier 2, conversations.create: 20 in any minute, 429 + Retry-After
past it). Two scenarios, each on a fresh database and a fresh emulator:

* burst: 10 `/incident declare` at once → seconds until the 10th channel exists (target ≤ 2 s);
* storm: 30 at once → how many channels at once (target: 18, 90 % of tier 2), when the rest
  land (as the window frees, a minute later).

Then it waits until every effect is delivered (topics, cards, announcements) and counts Slack's
and PagerDuty's 429s (target 0).

    .venv/bin/python bench/channel_burst.py [--db sqlite|postgres] [--burst 10] [--storm 30]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import bench_db
import yaml
from alert_storm import reset_postgres
from loopback import free_port, wait_healthy
from sqlalchemy import text

from bot.emulators.pagerduty import PagerDutyEmulator
from bot.emulators.slack import SlackEmulator
from bot.sandbox import manifest_events, manifest_scopes, pagerduty_catalog
from bot.store.db import Database

# the bench's own database (env BENCH_PG_DB, default `bench`; never the test suite's `test`)
PG_URL = f"{bench_db.PG_SERVER}/{bench_db.PG_DB}"
AT_ONCE_S = 2.0  # a channel within this long of the first declare came "at once"


def _pending(url: str) -> int:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            return int(
                conn.execute(text("SELECT count(*) FROM outbox WHERE done_at IS NULL")).scalar_one()
            )
    finally:
        db.dispose()


def scenario(kind: str, declares: int, settle_s: float) -> dict[str, Any]:
    tmp = tempfile.mkdtemp(prefix="incidentbot-burst-")
    url = f"sqlite:///{tmp}/burst.db" if kind == "sqlite" else PG_URL
    if kind == "postgres":
        reset_postgres(url)
    slack = SlackEmulator(
        rate_limits=True, subscribed_events=manifest_events(), scopes=manifest_scopes()
    )
    pd = PagerDutyEmulator(rate_limits=True)
    with slack, pd:
        feed = slack.add_channel("incidents")
        catalog = Path(tmp) / "catalog.yaml"
        catalog.write_text(yaml.safe_dump(pagerduty_catalog(pd)))
        port = free_port()
        slack.bot_url = f"http://127.0.0.1:{port}/slack/events"
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "INCIDENTBOT_CONFIG": str(catalog),
            "PLAYBOOKS_DIR": str(Path(tmp) / "no-playbooks"),
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": slack.signing_secret,
            "SLACK_API_URL": slack.api_url,
            "SLACK_INCIDENTS_CHANNEL": feed,
            "PAGERDUTY_API_TOKEN": pd.api_token,
            "PAGERDUTY_FROM_EMAIL": "alice@example.com",
            "PAGERDUTY_API_URL": pd.url,
            "PAGERDUTY_EVENTS_URL": pd.url,
            "PAGERDUTY_CA_BUNDLE": pd.ca_bundle,
            "LOG_LEVEL": "ERROR",
        }
        subprocess.run(
            [sys.executable, "-m", "bot", "db", "upgrade"], env=env, check=True, capture_output=True
        )
        bot = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--port", str(port)], env=env, cwd=tmp
        )
        try:
            wait_healthy(port, bot, 30, "the output above")
            alice, general = slack.user_id("alice"), slack.channel_by_name("general")["id"]  # type: ignore[index]
            start = threading.Barrier(declares + 1)

            def declare(i: int) -> int:
                start.wait()
                return slack.send_command(alice, general, f"declare sev3 Burst {i:02d}").status

            with ThreadPoolExecutor(declares) as pool:
                acks = [pool.submit(declare, i) for i in range(declares)]
                start.wait()
                began = time.time()
                statuses = [a.result() for a in acks]

            def created() -> list[float]:
                calls = slack.calls_to("conversations.create")
                return sorted(c.time - began for c in calls if c.status == 200)

            deadline = time.monotonic() + settle_s
            while time.monotonic() < deadline and (len(created()) < declares or _pending(url) > 0):
                time.sleep(0.1)
            landed = created()
            pending = _pending(url)
        finally:
            bot.terminate()
            bot.wait(timeout=20)
        return {
            "db": kind,
            "declares": declares,
            "acked_200": statuses.count(200),
            "channels": len(landed),
            "at_once": sum(t <= AT_ONCE_S for t in landed),
            "first_s": landed[0] if landed else None,
            "last_s": landed[-1] if landed else None,
            "later_s": [round(t, 1) for t in landed if t > AT_ONCE_S],
            "pending_effects": pending,
            "slack_429": sum(1 for c in slack.calls if c.status == 429),
            "pd_429": sum(1 for c in pd.calls if c.status == 429),
            "slack_calls": len(slack.calls),
        }


def show(name: str, r: dict[str, Any]) -> None:
    later = r["later_s"]
    rest = f"the other {len(later)} at {later[0]}–{later[-1]} s" if later else "none later"
    print(
        f"{name:6} {r['db']:8} {r['declares']} declares ({r['acked_200']} acked): "
        f"{r['channels']} channels, {r['at_once']} within {AT_ONCE_S:.0f} s "
        f"(first {r['first_s']:.2f} s, last {r['last_s']:.2f} s); {rest}; "
        f"{r['slack_calls']} Slack calls, 429s: Slack {r['slack_429']}, "
        f"PagerDuty {r['pd_429']}; undelivered effects {r['pending_effects']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--storm", type=int, default=30, help="0 skips the storm")
    args = parser.parse_args()
    burst = scenario(args.db, args.burst, 60)
    show("burst", burst)
    verdict = "met" if burst["last_s"] is not None and burst["last_s"] <= 2.0 else "MISSED"
    print(f"target: {args.burst} channels within 2 s — {verdict}; 429s must be 0")
    if args.storm:
        storm = scenario(args.db, args.storm, 240)
        show("storm", storm)


if __name__ == "__main__":
    main()

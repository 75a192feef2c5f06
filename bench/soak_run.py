"""The soak's run: the emulators and the bot's processes set up, the main phase (the script
played on the scripted clock, which waits when the bot falls behind), and the drain (faults
off, the clock jumps past each backoff until the outbox is empty and the bot idle)."""

from __future__ import annotations

import argparse
import heapq
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

from loopback import free_port, wait_healthy
from soak_bot import SharedClock
from soak_measure import (
    ALERT_TOKEN,
    API_TOKEN,
    CLIENT_TIMEOUT,
    PG_URL,
    ROOT,
    SCRIPTED,
    Latencies,
    Watch,
    aware,
    cpu_seconds,
    machine_busy,
    rss_mb,
)
from soak_people import People
from soak_script import Script, inject_faults, plan, timers_at_a_third
from sqlalchemy import create_engine, text

from bot.emulators.jira import JiraEmulator
from bot.emulators.pagerduty import PagerDutyEmulator
from bot.emulators.slack import SlackEmulator
from bot.sandbox import manifest_events, manifest_scopes, pagerduty_catalog
from bot.store.db import Database


class Soak(People, Watch):
    """One soak run: set up, main phase, drain; the audit and the report read it after."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.tmp = tempfile.mkdtemp(prefix="incidentbot-soak-")
        self.url = f"sqlite:///{self.tmp}/soak.db" if args.db == "sqlite" else PG_URL
        self.rate = SCRIPTED / args.seconds
        self.lat = Latencies()
        self.lock = threading.Lock()
        self.incidents: dict[str, dict[str, Any]] = {}  # by title
        self.runs: dict[int, list[str]] = {}  # incident id -> checklist message ts
        self.counts: Counter[str] = Counter()
        self.samples: list[tuple[float, float, float, float, int]] = []
        self.procs: list[subprocess.Popen[bytes]] = []
        self.stop_refresh = threading.Event()
        self.due = 0
        self.notes: dict[str, datetime] = {}  # note tag -> scripted time the command was sent
        self.applied: set[str] = set()  # note tags on the timeline
        self.last_note = 0
        self.command_lag = 0.0  # scripted seconds
        self.distinct: dict[int, int] = {}  # alert group -> distinct alerts sent

    def count(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.counts[what] += n

    # -- set-up ------------------------------------------------------------------------------
    def start(self) -> None:
        if self.args.db == "postgres":
            from alert_storm import reset_postgres  # the same "own database, emptied" set-up

            reset_postgres(self.url)
        self.slack = SlackEmulator(subscribed_events=manifest_events(), scopes=manifest_scopes())
        self.pd = PagerDutyEmulator(async_webhooks=True)
        self.jira = JiraEmulator("cloud")
        for emulator in (self.slack, self.pd, self.jira):
            emulator.start()
        for team in ("database", "security"):
            self.pd.add_service(team)
        self.feed = self.slack.add_channel("incidents")
        self.general = self.slack.channel_by_name("general")["id"]  # type: ignore[index]
        self.users = [self.slack.user_id(n) for n in ("alice", "bob", "carol")]
        self.users += [
            self.slack.add_user(f"responder{i}", email=f"responder{i}@example.com")
            for i in range(12)
        ]
        catalog, playbooks = timers_at_a_third(Path(self.tmp), pagerduty_catalog(self.pd))
        self.clock = SharedClock(Path(self.tmp) / "clock", create=True)
        self.clock.set_rate(0.0)  # stands still until the load starts
        self.start_at = self.clock.now()
        self.port = free_port()
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": self.url,
            "INCIDENTBOT_CONFIG": str(catalog),
            "PLAYBOOKS_DIR": str(playbooks),
            "POSTMORTEM_TEMPLATES_DIR": str(ROOT / "postmortem_templates"),
            "PUBLIC_URL": f"http://127.0.0.1:{self.port}",
            "API_TOKEN": API_TOKEN,
            "ALERT_WEBHOOK_TOKEN": ALERT_TOKEN,
            "SLACK_BOT_TOKEN": self.slack.bot_token,
            "SLACK_SIGNING_SECRET": self.slack.signing_secret,
            "SLACK_API_URL": self.slack.api_url,
            "SLACK_INCIDENTS_CHANNEL": self.feed,
            "PAGERDUTY_API_TOKEN": self.pd.api_token,
            "PAGERDUTY_FROM_EMAIL": "alice@example.com",
            "PAGERDUTY_API_URL": self.pd.url,
            "PAGERDUTY_EVENTS_URL": self.pd.url,
            "PAGERDUTY_CA_BUNDLE": self.pd.ca_bundle,
            "PAGERDUTY_WEBHOOK_SECRETS": self.pd.webhook_secret,
            "PAGERDUTY_SERVICE_ID": self.pd.service_id("checkout-api"),
            "PAGERDUTY_ESCALATION_POLICY_ID": self.pd.escalation_policy_id("checkout-api"),
            "JIRA_URL": self.jira.url,
            "JIRA_PROJECT": "OPS",
            "JIRA_EMAIL": self.jira.email,
            "JIRA_API_TOKEN": self.jira.api_token,
            "JIRA_CA_BUNDLE": self.jira.ca_bundle,
            "JIRA_TIMEOUT": str(CLIENT_TIMEOUT),
            "SOAK_CLOCK": str(Path(self.tmp) / "clock"),
            "SOAK_CLIENT_TIMEOUT": str(CLIENT_TIMEOUT),
            "SOAK_TRACEMALLOC": "1" if self.args.trace_memory else "",
            "SOAK_PROFILE": "1" if self.args.profile else "",
            **(
                {"MALLOC_ARENA_MAX": str(self.args.malloc_arenas)}
                if self.args.malloc_arenas
                else {}
            ),
            "LOG_LEVEL": "WARNING",  # the outbox's failures: the audit reads them
            "LOG_FORMAT": "console",
        }
        subprocess.run(
            [sys.executable, "-m", "bot", "db", "upgrade"],
            env=self.env,
            check=True,
            capture_output=True,
            cwd=self.tmp,
        )
        self.log = open(Path(self.tmp) / "bot.log", "wb")  # noqa: SIM115
        helper = str(ROOT / "bench" / "soak_bot.py")
        separate = self.args.scheduler == "separate"
        self.web = subprocess.Popen(
            [sys.executable, helper, "web", "--port", str(self.port)]
            + ([] if separate else ["--in-process-scheduler"]),
            env=self.env,
            cwd=self.tmp,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(self.web)
        wait_healthy(self.port, self.web, 60, f"{self.tmp}/bot.log")
        self.scheduler: subprocess.Popen[bytes] | None = None
        if separate:
            self.scheduler = subprocess.Popen(
                [sys.executable, helper, "scheduler"],
                env=self.env,
                cwd=self.tmp,
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
            self.procs.append(self.scheduler)
        self.slack.bot_url = f"http://127.0.0.1:{self.port}/slack/events"
        self.pd.subscribe(f"http://127.0.0.1:{self.port}/webhooks/pagerduty")
        self.db = Database(self.url)
        # the driver's own looks: plain transactions (the bot's engine begins every SQLite
        # transaction IMMEDIATE, which would make the driver's reads queue with its writers)
        self.peek = create_engine(self.url)
        self.lat.wrap()
        self.faults = inject_faults(
            self.slack,
            self.pd,
            self.jira,
            self.args.fault_rate,
            11,
            timeouts=not self.args.no_timeouts,
        )
        threading.Thread(target=self._refresh, daemon=True).start()
        threading.Thread(target=self._sample, daemon=True).start()

    def stop(self) -> None:
        self.stop_refresh.set()
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.peek.dispose()
        for emulator in (self.slack, self.pd, self.jira):
            emulator.stop()

    # -- the main phase ----------------------------------------------------------------------
    def run(self) -> None:
        scripts = plan(self.args, self.start_at, self.rng, self.users)
        self.planned = sum(
            1 for s in scripts for st in s.steps if st.kind not in ("deliver", "pd_ack")
        )
        self.deliveries_planned = sum(1 for s in scripts for st in s.steps if st.kind == "deliver")
        self.rss_before = rss_mb(self.web.pid)
        self.cpu_before = self.cpu()
        if self.args.trace_memory or self.args.profile:  # the baseline
            self.web.send_signal(signal.SIGUSR2)
        heap = [(s.steps[0].at, s.n) for s in scripts]
        heapq.heapify(heap)
        backlog: dict[int, float] = {}
        done = threading.Event()
        left = [len(scripts)]
        pool = ThreadPoolExecutor(self.args.workers)
        t0 = self.start_at.timestamp()
        self.began = time.monotonic()
        self.clock.set_rate(self.rate)
        held = run_until = 0.0
        hold_since: float | None = None

        def step_done(script: Script, retry_at: float | None) -> None:
            with self.lock:
                backlog.pop(id(script), None)
                if retry_at is not None:
                    heapq.heappush(heap, (retry_at, script.n))
                    return
                script.pos += 1
                if script.pos < len(script.steps):
                    heapq.heappush(heap, (script.steps[script.pos].at, script.n))
                else:
                    left[0] -= 1
                    if not left[0]:
                        done.set()

        def work(script: Script) -> None:
            retry = None
            try:
                retry = self.play(script, script.steps[script.pos])
            except Exception as exc:  # a bug of the soak's own: count it, move on
                self.count(f"driver error {type(exc).__name__}: {exc}"[:120])
            step_done(script, retry)

        # The wall budget: past 70% of it no new incident starts (those under way go on); at
        # its end whatever is left of the script is dropped, and the scale reached is printed.
        budget = max(self.args.budget, self.args.seconds)
        self.cut = 0
        while not done.is_set() and time.monotonic() - self.began < budget:
            now = self.clock.timestamp() - t0
            closing = time.monotonic() - self.began > budget * 0.7
            with self.lock:
                lag = now - min(backlog.values(), default=now)
                while heap and heap[0][0] <= now:
                    at, n = heapq.heappop(heap)
                    if closing and scripts[n].pos == 0:  # no new incidents
                        self.cut += 1
                        left[0] -= 1
                        if not left[0]:
                            done.set()
                        continue
                    backlog[id(scripts[n])] = at
                    pool.submit(work, scripts[n])
                behind = self.due > self.args.max_backlog or self.command_lag > 60
                caught_up = self.due < self.args.max_backlog / 2 and self.command_lag < 24
            # The clock waits when the people fall behind their script, when the bot has more
            # effects it could deliver now than --max-backlog, or when it applies commands more
            # than a minute late: scripted time then runs at the pace the bot keeps (and an
            # effect's lease, 120 s of scripted time, does not run out while it queues).
            # A hold lasts 20 s at most, then the clock runs 3 s at least: an effect waiting
            # for a lease to run out, in a lane the backlog counts, needs the clock to move.
            wall = time.monotonic()
            if (lag > 30 or behind) and hold_since is None and wall >= run_until:
                hold_since = wall
                self.clock.set_rate(0.0)
            elif hold_since is not None and ((lag <= 5 and caught_up) or wall - hold_since > 20):
                held += wall - hold_since
                hold_since = None
                run_until = wall + 3
                self.clock.set_rate(self.rate)
            time.sleep(0.01)
        if hold_since is not None:
            held += time.monotonic() - hold_since
            self.clock.set_rate(self.rate)
        with self.lock:
            heap.clear()  # out of budget: nothing more starts
        pool.shutdown(wait=True)
        self.unfinished = left[0]
        self.dropped = sum(len(s.steps) - s.pos for s in scripts if 0 < s.pos < len(s.steps))
        while self.clock.timestamp() - t0 < SCRIPTED and time.monotonic() - self.began < budget:
            time.sleep(0.1)  # the rest of the half hour, for the timers
        self.main_wall = time.monotonic() - self.began
        self.faults_main = {k: (b.calls, Counter(b.injected)) for k, b in self.faults.items()}
        self.load = os.getloadavg()
        self.cpu_main = [
            after - before for after, before in zip(self.cpu(), self.cpu_before, strict=True)
        ]
        self.held = held
        self.scripted_minutes = (self.clock.timestamp() - t0) / 60
        self.started = sum(1 for s in scripts if s.pos > 0)

    def cpu(self) -> list[float]:
        busy, total = machine_busy()
        return [
            cpu_seconds(self.web.pid),
            cpu_seconds(self.scheduler.pid) if self.scheduler else 0.0,
            cpu_seconds(),
            busy,
            total,
        ]

    def drain(self) -> None:
        for book in self.faults.values():
            book.clear()
        self.clock.set_rate(0.0)
        began = time.monotonic()
        quiet = stuck = 0
        last = -1
        self.jumped = 0.0
        while time.monotonic() - began < self.args.drain:
            self.pd.wait_for_webhooks(10)
            with self.peek.connect() as conn:
                heads = conn.execute(  # each lane's oldest pending effect
                    text(
                        "SELECT next_attempt_at, lease_until FROM outbox WHERE id IN "
                        "(SELECT min(id) FROM outbox WHERE done_at IS NULL GROUP BY lane)"
                    )
                ).all()
                pending = conn.execute(
                    text("SELECT count(*) FROM outbox WHERE done_at IS NULL")
                ).scalar_one()
            busy = cpu_seconds(self.web.pid)
            if not pending:
                time.sleep(2.5)
                # drained: nothing pending, and the web process idle (no command still queued)
                quiet = quiet + 1 if cpu_seconds(self.web.pid) - busy < 0.25 else 0
                if quiet >= 2:
                    break
                continue
            quiet = 0
            stuck = stuck + 1 if pending == last else 0
            last = pending
            now = self.clock.now()
            running = [lease for _, lease in heads if lease and aware(lease) > now]
            due = [at for at, lease in heads if not running and aware(at) <= now]
            if running or due:  # the bot is at it: never jump past a running effect's lease
                if stuck >= 30:  # …unless nothing moved for 30 s: that effect's worker is gone
                    self.jumped += self.clock.jump(121)
                    self.count("drain: jumped past a stuck lease")
                    stuck = 0
            elif heads:  # every lane waits for a backoff: go to the first
                wake = min(aware(at) for at, _ in heads)
                self.jumped += self.clock.jump((wake - now).total_seconds() + 1)
            time.sleep(1)
        if pending:  # where is it stuck? each bot process dumps its threads into bot.log
            for proc in self.procs:
                proc.send_signal(signal.SIGUSR1)
            time.sleep(1)
        self.drain_wall = time.monotonic() - began
        self.rss_after = rss_mb(self.web.pid)
        if self.args.trace_memory or self.args.profile:  # what grew, where time went: bot.log
            self.web.send_signal(signal.SIGUSR2)
            time.sleep(5)

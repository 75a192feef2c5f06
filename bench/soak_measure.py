"""The soak's shared constants, what it measures (ack latencies, RSS, CPU) and its background
watch over the bot's database (what the bot has made so far, the outbox backlog, RSS samples)."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.emulators.slack import client_side as slack_side, events as slack_events

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get(
    "INCIDENTBOT_SOAK_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/incidentbot_soak"
)
ALERT_TOKEN = "soak-alert-token"  # loopback only
API_TOKEN = "soak-api-token"
SCRIPTED = 30 * 60.0  # the scripted half hour, in seconds
CLIENT_TIMEOUT = 1.0  # the bot's Slack / PagerDuty / Jira client timeouts (soak_bot.py)
MB = 1024 * 1024
LOST = "after a lost answer"  # Slack carried the call out; its answer timed out; retried
LEASE = "after a lease ran out"  # the effect ran again while its first run was still going


# -- measuring --------------------------------------------------------------------------------


class Latencies:
    """Every signed request "Slack" sends the bot, timed from send to full answer."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.slack: dict[str, list[float]] = defaultdict(list)
        self.alerts: list[float] = []
        self.failed: Counter[str] = Counter()

    def wrap(self) -> None:
        real = slack_side.post

        def timed_post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Any:
            began = time.perf_counter()
            reply = real(url, body, headers, timeout=timeout)
            ms = (time.perf_counter() - began) * 1000
            ctype = headers.get("Content-Type", "")
            kind = (
                "event"
                if "json" in ctype
                else "interaction"
                if body.startswith(b"payload=")
                else "command"
            )
            with self.lock:
                self.slack[kind].append(ms)
                if reply.status != 200:
                    self.failed[f"{kind} {reply.status or reply.error}"] += 1
            return reply

        slack_side.post = timed_post  # type: ignore[assignment]
        slack_events.post = timed_post  # type: ignore[assignment]

    def all_slack(self) -> list[float]:
        return [ms for values in self.slack.values() for ms in values]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time of a process (None: this one)."""
    if pid is None:
        t = os.times()
        return t.user + t.system
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def same_line(line: str) -> str:
    """A line as compared: a playbook's post to the feed names the severity the incident had
    then (the audit renders it with today's)."""
    return re.sub(r"^📋 \*SEV\d · ", "📋 *SEV · ", line)


def as_param(at: datetime, db: str) -> Any:
    """An instant as the bot's columns hold it (SQLite: UTC text without an offset)."""
    return at if db == "postgres" else at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


# Effects the bot can deliver now: those of the lanes whose oldest pending effect is due (an
# effect queued behind one that waits for its backoff cannot move before the clock does).
READY = text(
    "SELECT count(*) FROM outbox WHERE done_at IS NULL AND lane IN ("
    " SELECT lane FROM outbox WHERE next_attempt_at <= :now AND id IN ("
    "  SELECT min(id) FROM outbox WHERE done_at IS NULL GROUP BY lane))"
)


def aware(value: Any) -> datetime:
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def reactors(message: dict[str, Any]) -> list[str]:
    return [u for r in message.get("reactions") or [] for u in r.get("users", [])]


def as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def as_dt(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


class Watch:
    """Mixed into the soak: two daemon threads read the bot's database and /proc while it runs."""

    # -- background: what the bot has made so far, and the RSS ------------------------------
    def _refresh(self) -> None:
        while not self.stop_refresh.wait(0.5):
            try:
                with self.peek.connect() as conn:
                    rows = conn.execute(
                        text(
                            "SELECT id, title, conversation_id, card_message_id, status FROM incident"
                        )
                    ).all()
                    runs = conn.execute(
                        text(
                            "SELECT incident_id, checklist_message_id FROM playbook_run WHERE checklist_message_id IS NOT NULL"
                        )
                    ).all()
                    now = self.clock.now()
                    due = conn.execute(READY, {"now": as_param(now, self.args.db)}).scalar_one()
                    applied = conn.execute(
                        text("SELECT id, text FROM timeline_entry WHERE kind = 'note' AND id > :i"),
                        {"i": self.last_note},
                    ).all()
            except DBAPIError:  # SQLite busy, a PostgreSQL hiccup: next time
                continue
            with self.lock:
                self.due = due
                for note in applied:
                    self.last_note = max(self.last_note, note.id)
                    found = re.search(r"soak note (#\d+-\d+):", note.text)
                    if found:
                        self.applied.add(found.group(1))
                # How far behind the bot applies commands (its work queue is in memory): the
                # oldest note acknowledged but not yet on the timeline (10 min: given up on).
                waiting = [
                    sent
                    for tag, sent in self.notes.items()
                    if tag not in self.applied and (now - sent).total_seconds() < 600
                ]
                self.command_lag = (now - min(waiting)).total_seconds() if waiting else 0.0
                for r in rows:
                    self.incidents[r.title] = dict(r._mapping)
                self.runs = defaultdict(list)
                for run in runs:
                    self.runs[run.incident_id].append(run.checklist_message_id)

    def _sample(self) -> None:
        began = time.monotonic()
        while not self.stop_refresh.is_set():
            pending = -1
            try:
                with self.peek.connect() as conn:
                    pending = conn.execute(
                        text("SELECT count(*) FROM outbox WHERE done_at IS NULL")
                    ).scalar_one()
            except DBAPIError:
                pending = -1
            scripted = (self.clock.timestamp() - self.start_at.timestamp()) / 60
            self.samples.append(
                (
                    time.monotonic() - began,
                    scripted,
                    rss_mb(self.web.pid),
                    rss_mb(self.scheduler.pid) if self.scheduler else 0.0,
                    pending,
                )
            )
            self.stop_refresh.wait(5)

"""Real `incidentbot serve` and `incidentbot scheduler` processes on PostgreSQL, against the Slack
and PagerDuty emulators running in the test process (so a test can queue faults and hangs on
them and read what people would see). Every process is started with `sys.executable -m bot`, logs
to a file kept for failure messages, and is stopped (or killed) by the rig at the end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import text
from sqlmodel import col, select

from bot.emulators.pagerduty import PagerDutyEmulator
from bot.emulators.slack import SlackEmulator
from bot.sandbox import ALERT_TOKEN, manifest_events, manifest_scopes, pagerduty_catalog
from bot.store.db import Database
from bot.store.models import Incident, OutboxRow

POSTGRES_ENV = "INCIDENTBOT_TEST_POSTGRES"
SLACK_MODE_SETTINGS = ("SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN")  # one or the other, never both
BIND_ATTEMPTS = 3  # a free port can be taken between our look and the process's bind
REMINDER = "time for a status update"  # the status-update reminder's words in the channel


def postgres_url(request: pytest.FixtureRequest) -> str:
    """These tests run on PostgreSQL only (advisory locks, SKIP LOCKED, several processes): the
    database of INCIDENTBOT_TEST_POSTGRES, emptied; skipped when it is unset."""
    if not os.environ.get(POSTGRES_ENV):
        pytest.skip(f"{POSTGRES_ENV} is unset: real-process tests run on PostgreSQL only")
    from tests.conftest import _wipe

    pg: Database = request.getfixturevalue("postgres_db")
    _wipe(pg)
    return pg.url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], object], seconds: float, every: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return bool(condition())


def leader_gauge(port: int) -> float | None:
    """What Prometheus scrapes of a scheduler: 1 on the leader, 0 on a standby."""
    try:
        body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except httpx.TransportError:
        return None
    line = next((x for x in body.splitlines() if x.startswith("incidentbot_scheduler_leader ")), "")
    return float(line.split()[1]) if line else None


@dataclass
class BotProcess:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    port: int  # serve: its HTTP port; scheduler: its metrics port
    args: Callable[[int], list[str]] = field(default=lambda port: [])  # its command, for a port
    starts: int = 1

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """kill -9: no cleanup, no goodbye to the database; the kernel closes its sockets."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self) -> None:
        if not self.alive():
            return
        self.popen.terminate()
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def leads(self) -> bool:
        return leader_gauge(self.port) == 1.0

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False


@dataclass
class Rig:
    """The emulators, a catalog, and the bot processes started against them."""

    db_url: str
    workdir: Path
    catalog_extra: dict[str, Any] = field(default_factory=dict)
    socket_mode: bool = False  # serve reaches Slack over Socket Mode (SLACK_APP_TOKEN, no secret)
    slack: SlackEmulator = field(init=False)
    pagerduty: PagerDutyEmulator = field(init=False)
    processes: list[BotProcess] = field(default_factory=list)

    def start(self) -> Rig:
        self.slack = SlackEmulator(
            subscribed_events=manifest_events(),
            scopes=manifest_scopes(),
            socket_mode=self.socket_mode,
        )
        self.pagerduty = PagerDutyEmulator()
        self.slack.start()
        self.pagerduty.start()
        self.feed = self.slack.add_channel("incidents")
        self.general = self.slack.channel_by_name("general")["id"]  # type: ignore[index]
        self.alice = self.slack.user_id("alice")
        self.catalog = self.workdir / "catalog.yaml"
        self.catalog.write_text(
            yaml.safe_dump({**pagerduty_catalog(self.pagerduty), **self.catalog_extra}),
            encoding="utf-8",
        )
        self.db = Database(self.db_url)
        return self

    def stop(self) -> None:
        for process in self.processes:
            process.stop()
        self.db.dispose()
        self.slack.stop()
        self.pagerduty.stop()

    def env(self) -> dict[str, str]:
        pd = self.pagerduty
        slack_mode = (
            {"SLACK_APP_TOKEN": self.slack.app_token}
            if self.socket_mode
            else {"SLACK_SIGNING_SECRET": self.slack.signing_secret}
        )
        return {
            **{k: v for k, v in os.environ.items() if k not in SLACK_MODE_SETTINGS},
            **slack_mode,
            "DATABASE_URL": self.db_url,
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "console",
            "INCIDENTBOT_CONFIG": str(self.catalog),
            "PLAYBOOKS_DIR": str(self.workdir / "no-playbooks"),
            "SLACK_API_URL": self.slack.api_url,
            "SLACK_BOT_TOKEN": self.slack.bot_token,
            "SLACK_INCIDENTS_CHANNEL": self.feed,
            "ALERT_WEBHOOK_TOKEN": ALERT_TOKEN,
            "PAGERDUTY_API_TOKEN": pd.api_token,
            "PAGERDUTY_FROM_EMAIL": "alice@example.com",
            "PAGERDUTY_API_URL": pd.url,
            "PAGERDUTY_EVENTS_URL": pd.url,
            "PAGERDUTY_CA_BUNDLE": pd.ca_bundle,
            "PAGERDUTY_SERVICE_ID": pd.service_id("checkout-api"),
            "PAGERDUTY_ESCALATION_POLICY_ID": pd.escalation_policy_id("checkout-api"),
        }

    def _popen(self, log: Path, args: list[str], mode: str) -> subprocess.Popen[bytes]:
        with log.open(mode) as out:
            return subprocess.Popen(
                [sys.executable, "-m", "bot", *args],
                env=self.env(),
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def _spawn(self, name: str, args: Callable[[int], list[str]]) -> BotProcess:
        log, port = self.workdir / f"{name}.log", free_port()
        process = BotProcess(name, self._popen(log, args(port), "wb"), log, port, args)
        self.processes.append(process)
        return process

    def _respawn_elsewhere(self, process: BotProcess) -> bool:
        """Start again on another free port a process that exited because its port was taken
        between our look and its bind (other processes on the machine, other test workers)."""
        if process.starts >= BIND_ATTEMPTS or "address already in use" not in process.text():
            return False
        process.port, process.starts = free_port(), process.starts + 1
        process.popen = self._popen(process.log, process.args(process.port), "ab")
        return True

    def serve(self, name: str, *, in_process_scheduler: bool = False) -> BotProcess:
        """`serve` as the Procfile's web process runs it (the scheduler apart), unless asked."""
        flag = "--in-process-scheduler" if in_process_scheduler else "--no-in-process-scheduler"
        return self._spawn(name, lambda port: ["serve", "--port", str(port), flag])

    def scheduler(self, name: str) -> BotProcess:
        return self._spawn(name, lambda port: ["scheduler", "--metrics-port", str(port)])

    def ready(self, *processes: BotProcess, seconds: float = 60) -> None:
        """Serve processes answer /healthz, schedulers serve their metrics."""

        def up(p: BotProcess) -> bool:
            if not p.alive():
                if self._respawn_elsewhere(p):
                    return False
                raise AssertionError(f"{p.name} exited:\n{p.text()}")
            return p.healthy() if p.name.startswith("serve") else leader_gauge(p.port) is not None

        assert wait_for(lambda: all(up(p) for p in processes), seconds), self.logs()

    def connected(self, count: int = 1, seconds: float = 60) -> None:
        """Socket Mode: ``count`` serve processes hold a connection to the emulator (and no
        connection told to leave is still open)."""

        def settled() -> bool:
            links = self.slack.socket_connections()
            return len(links) == count and links == self.slack.socket_connections(leaving=True)

        assert wait_for(settled, seconds), self.logs()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.text()}" for p in self.processes)

    # -- what the database says ----------------------------------------------------------------
    def incidents(self) -> list[Incident]:
        with self.db.read() as s:
            return list(s.exec(select(Incident).order_by(col(Incident.id))).all())

    def pending_effects(self) -> list[OutboxRow]:
        with self.db.read() as s:
            return list(s.exec(select(OutboxRow).where(col(OutboxRow.done_at).is_(None))).all())

    def settled(self, count: int) -> bool:
        """`count` incidents, each with its channel and card, and no effect left to deliver."""
        incidents = self.incidents()
        return (
            len(incidents) == count
            and all(i.conversation_id and i.card_message_id for i in incidents)
            and not self.pending_effects()
        )

    def make_reminders_due(self) -> int:
        """Time travel for the status-update cadence (15 minutes and more): the pending
        status-update timers come due now. Returns how many."""
        with self.db.engine.begin() as conn:
            result = conn.execute(
                text(
                    "UPDATE timer SET due_at = now() WHERE kind = 'status_update' "
                    "AND fired_at IS NULL"
                )
            )
            return int(result.rowcount)

    # -- what people see -------------------------------------------------------------------------
    def incident_channels(self) -> list[dict[str, Any]]:
        with self.slack._lock:
            ids = [c.id for c in self.slack.ws.channels.values() if c.name.startswith("inc-")]
        return [c for c in (self.slack.channel(i) for i in ids) if c is not None]

    def cards(self, channel_id: str) -> list[dict[str, Any]]:
        return [
            m
            for m in self.slack.messages(channel_id)
            if any(b.get("block_id") == "card.header" for b in m.get("blocks") or [])
        ]

    def reminders(self, channel_id: str) -> list[dict[str, Any]]:
        return [m for m in self.slack.messages(channel_id) if REMINDER in str(m.get("text"))]


@contextmanager
def started_rig(
    db_url: str, workdir: Path, *, socket_mode: bool = False, **catalog: Any
) -> Iterator[Rig]:
    """The emulators started; at the end every process and emulator stopped. ``socket_mode``:
    `serve` talks to Slack over Socket Mode (after ``rig.ready(p)``, ``rig.connected()``)."""
    rig = Rig(db_url, workdir, catalog, socket_mode).start()
    try:
        yield rig
    finally:
        rig.stop()

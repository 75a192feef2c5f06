"""The processes a bench runs: `incidentbot serve` as a black box, the bare Bolt baselines, and
what the bench reads of them from outside (CPU time from /proc). Also Slack-signed slash
commands, signed with the emulator's own helper exactly as Slack signs them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from loopback import free_port

from bot.emulators.slack import sign

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def bot_env(database_url: str, api_url: str, token: str, secret: str, feed: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": token,
        "SLACK_SIGNING_SECRET": secret,
        "SLACK_API_URL": api_url,
        "SLACK_INCIDENTS_CHANNEL": feed,
        "LOG_LEVEL": "WARNING",
    }


def upgrade(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"], env=env, check=True, capture_output=True
    )


def command_line(app: str, port: int, *extra: str) -> list[str]:
    """`app`: "incidentbot" (the real `serve`), "bare AsyncApp" or "bare threadpool"."""
    if app == "incidentbot":
        return [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)]
    script = {"bare AsyncApp": "bare_async_bolt.py", "bare threadpool": "bare_bolt.py"}[app]
    return [sys.executable, str(BENCH / script), str(port), *extra]


def start(
    app: str, env: dict[str, str], cwd: str, *extra: str
) -> tuple[subprocess.Popen[bytes], str]:
    """Starts `app` on a free port; returns it and its Slack URL once it answers."""
    port = free_port()
    proc = subprocess.Popen(command_line(app, port, *extra), env=env, cwd=cwd)
    url = f"http://127.0.0.1:{port}/slack/events"
    wait_up(url, proc)
    return proc, url


def wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: server exited with {proc.returncode}")
        try:
            httpx.post(url, content=b"", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=25)  # the bot may drain for its grace period
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (/proc/<pid>/stat utime + stime)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def cpu_snapshot(pid: int) -> dict[int, int]:
    """Nanoseconds on a CPU so far, per thread of process `pid` (/proc/<pid>/task/*/schedstat):
    exact, where /proc/<pid>/stat counts in 10 ms ticks."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                out[int(tid)] = int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread ended meanwhile
    return out


def cpu_between(before: dict[int, int], after: dict[int, int]) -> float:
    """CPU seconds spent between two snapshots (threads born meanwhile count from zero)."""
    return sum(ns - before.get(tid, 0) for tid, ns in after.items()) / 1e9


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def slash_command(
    secret: str, fields: dict[str, str], timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """A form-encoded slash command and its headers, signed as Slack signs it."""
    body = urlencode(fields).encode()
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return body, {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(secret, ts, body),
    }


def command_fields(
    *,
    team: str,
    channel: str,
    user: str,
    text: str,
    response_url: str,
    trigger_id: str,
    app_id: str = "A000000001",
) -> dict[str, str]:
    """Every field Slack sends with a slash command."""
    return {
        "token": "bench",
        "team_id": team,
        "team_domain": "bench",
        "channel_id": channel,
        "channel_name": "incidents",
        "user_id": user,
        "user_name": "bench",
        "command": "/incident",
        "text": text,
        "api_app_id": app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }

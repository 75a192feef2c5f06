"""`incidentbot sandbox`, `incidentbot emulators` and `incidentbot demo --serve` as a user runs
them: real processes (`python -m bot …`), known only by the lines they print and the state file
they write, driven over real HTTP (signed Slack requests, the emulated Slack's Web API)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from bot.emulators.slack.transport import sign
from bot.sandbox_state import SandboxState
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
READY = "Stop with Ctrl-C."
SETTING = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")
WAIT = 60.0  # seconds a process gets to do what it was asked (a slow CI machine)


@dataclass
class Launched:
    """A running `python -m bot …` and what it printed until it said how to stop it."""

    proc: subprocess.Popen[str]
    lines: list[str]
    state_file: Path
    stderr: Path
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        """The printed environment block, as `KEY: value`."""
        found = {}
        for line in self.lines:
            match = SETTING.match(line)
            if match:
                found[match.group(1)] = match.group(2)
        return found

    def state(self) -> SandboxState:
        state = SandboxState.read(self.state_file)
        assert state is not None, f"no state file at {self.state_file}"
        return state

    def urls(self, marker: str) -> list[str]:
        """Every URL on the printed lines that contain `marker`."""
        return [
            url
            for line in self.lines
            if marker in line
            for url in re.findall(r"https?://\S+", line)
        ]

    def interrupt(self) -> int:
        """Ctrl-C: the exit status once it has stopped."""
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=WAIT)

    def slack(self) -> EmulatedSlack:
        env = self.env
        return EmulatedSlack(env["SLACK_API_URL"], env["SLACK_BOT_TOKEN"])


@dataclass
class EmulatedSlack:
    """The emulated Slack over its Web API, with the bot's token (what the bot itself sees)."""

    api_url: str
    token: str

    def call(self, method: str, **params: str) -> dict[str, Any]:
        answer = httpx.post(
            self.api_url + method,
            data=params,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
        )
        body: dict[str, Any] = answer.json()
        assert body["ok"], f"{method}: {body}"
        return body

    def channels(self) -> dict[str, str]:
        listed = self.call("conversations.list", types="public_channel,private_channel")
        return {c["name"]: c["id"] for c in listed["channels"]}

    def wait_for_channel(self, pattern: str) -> str:
        """The name of the first channel matching `pattern`, once there is one."""
        deadline = time.monotonic() + WAIT
        while True:
            names = [name for name in self.channels() if re.search(pattern, name)]
            if names or time.monotonic() > deadline:
                assert names, f"no channel matching {pattern!r} in {sorted(self.channels())}"
                return names[0]
            time.sleep(0.2)

    def slash_command(self, bot_url: str, secret: str, user: str, channel: str, text: str) -> int:
        """POSTs `/incident <text>` to the bot as Slack would, signed with `secret`."""
        team = self.call("auth.test")["team_id"]
        body = urlencode(
            {
                "token": "unused",
                "team_id": team,
                "channel_id": channel,
                "user_id": user,
                "command": "/incident",
                "text": text,
                "response_url": self.api_url.replace("/api/", "/response/nothing"),
                "trigger_id": "1.2.unused",
            }
        ).encode()
        now = int(time.time())
        answer = httpx.post(
            f"{bot_url}/slack/events",
            content=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": str(now),
                "X-Slack-Signature": sign(secret, now, body),
            },
            timeout=10,
        )
        return answer.status_code


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Callable[..., Launched]]:
    """`launch("sandbox", "--socket-mode")`: starts `python -m bot sandbox --socket-mode` with
    its state file in tmp_path, and returns once it has printed how to stop it. Whatever is
    still running at the end is stopped."""
    started: list[subprocess.Popen[str]] = []

    def run(*args: str, extra_env: dict[str, str] | None = None) -> Launched:
        state_file = tmp_path / "sandbox.json"
        stderr = tmp_path / f"stderr-{len(started)}.txt"
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            stdout=subprocess.PIPE,
            stderr=stderr.open("w"),
            text=True,
            cwd=tmp_path,
            env=child_env(INCIDENTBOT_SANDBOX_FILE=str(state_file), **(extra_env or {})),
        )
        started.append(proc)
        assert proc.stdout is not None
        lines: list[str] = []
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.strip() == READY:
                break
        else:
            proc.wait(timeout=WAIT)
            raise AssertionError(
                f"`bot {' '.join(args)}` ended ({proc.returncode}) before it was ready:\n"
                + "\n".join(lines)
                + stderr.read_text()
            )
        return Launched(proc, lines, state_file, stderr)

    yield run
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=WAIT)
        if proc.stdout is not None:
            proc.stdout.close()


def child_env(**extra: str) -> dict[str, str]:
    """This environment, with this checkout first on the import path, and neither COLUMNS nor
    any of the bot's settings (a test's process must not hand its own to the child)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k != "COLUMNS" and k.lower() not in Settings.model_fields
    }
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.update(extra)
    return env


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """`spawn("serve", "--port", "8080")`: `python -m bot …` in tmp_path (so it reads the `.env`
    a test writes there), stopped at the end."""
    started: list[subprocess.Popen[str]] = []

    def run(*args: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / f"spawned-{len(started)}.txt").open("w"),
            text=True,
            cwd=tmp_path,
            env=child_env(),
        )
        started.append(proc)
        return proc

    yield run
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=WAIT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=WAIT)


@pytest.fixture
def wait_until() -> Callable[[Callable[[], bool], str], None]:
    """`wait_until(condition, what)`: returns once `condition()` holds; fails after a minute."""

    def wait(condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + WAIT
        while not condition():
            assert time.monotonic() < deadline, f"never happened: {what}"
            time.sleep(0.2)

    return wait

"""The bot served over real HTTP on loopback against the Slack emulator: for the demo, the
end-to-end tests and the benchmarks. Nothing here is used by `serve`."""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn
import yaml

from bot import wiring
from bot.emulators.slack import SlackEmulator
from bot.flows.ports import Clock
from bot.settings import Settings
from bot.store.db import Database

API_TOKEN = "sandbox-api-token"  # noqa: S105  (loopback sandbox only)
ALERT_TOKEN = "sandbox-alert-token"  # noqa: S105


MANIFEST = Path(__file__).resolve().parents[1] / "slack_manifest.yaml"


def _manifest() -> dict[str, Any]:
    return dict(yaml.safe_load(MANIFEST.read_text(encoding="utf-8")))


def manifest_events() -> set[str]:
    """The events our Slack app manifest subscribes to: the emulator sends only those."""
    return set(_manifest()["settings"]["event_subscriptions"]["bot_events"])


def manifest_scopes() -> set[str]:
    """The bot scopes the manifest asks for: the emulator grants only those, so a call the
    manifest forgot fails in the tests with Slack's `missing_scope`."""
    return set(_manifest()["oauth_config"]["scopes"]["bot"])


class ScriptedClock:
    """A clock that moves only when told: the demo plays an hour-long incident in seconds."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self._now += timedelta(**delta)
            return self._now


class Sandbox:
    def __init__(
        self,
        database_url: str,
        *,
        clock: Clock | None = None,
        feed: str = "incidents",
        upgrade: bool = True,
        pacing: bool = False,
    ) -> None:
        self.database_url = database_url
        self.clock = clock
        self.feed = feed
        self.upgrade = upgrade
        self.pacing = pacing
        self.slack = SlackEmulator(subscribed_events=manifest_events(), scopes=manifest_scopes())
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Sandbox:
        self.slack.start()
        self.feed_id = self.slack.add_channel(self.feed)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.settings = Settings(
            database_url=self.database_url,
            slack_bot_token=self.slack.bot_token,
            slack_signing_secret=self.slack.signing_secret,
            slack_api_url=self.slack.api_url,
            slack_incidents_channel=self.feed_id,
            public_url=self.url,
            api_token=API_TOKEN,
            alert_webhook_token=ALERT_TOKEN,
        )
        db = Database(self.database_url)
        if self.upgrade:
            db.upgrade()
        self.bot = wiring.build(self.settings, clock=self.clock, db=db, pacing=self.pacing)
        config = uvicorn.Config(self.bot.web, log_level="warning", lifespan="off", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the bot's web server did not start")
            time.sleep(0.01)
        self.slack.bot_url = f"{self.url}/slack/events"
        return self

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until the bot has finished what the last requests started."""
        if not self.bot.work.wait_idle(timeout):
            raise TimeoutError("the bot is still busy")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.bot.close()
        self.slack.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, *_exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
    ) -> None:
        self.stop()

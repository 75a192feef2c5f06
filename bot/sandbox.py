"""The bot served over real HTTP on loopback against the Slack emulator: for the demo, the
end-to-end tests and the benchmarks. Nothing here is used by `serve`."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import uvicorn
import yaml

from bot import package_data, scheduler, wiring
from bot.emulators.jira import JiraEmulator
from bot.emulators.opsgenie import OpsgenieEmulator
from bot.emulators.pagerduty import PagerDutyEmulator
from bot.emulators.slack import SlackEmulator
from bot.flows.ports import Clock
from bot.sandbox_env import settings_environment
from bot.settings import Settings
from bot.store.db import Database

API_TOKEN = "sandbox-api-token"  # noqa: S105  (loopback sandbox only)
ALERT_TOKEN = "sandbox-alert-token"  # noqa: S105
OPSGENIE_TOKEN = "sandbox-opsgenie-token"  # noqa: S105  (the webhook integration's bearer)
# The catalog services Opsgenie pages (the others page PagerDuty): each with its team, whose
# schedule has the first member on call; the people are the Slack and PagerDuty ones (by email).
OPSGENIE_TEAMS = {
    "billing": ("bob@example.com", "alice@example.com"),
    "ledger": ("carol@example.com", "alice@example.com"),
}
PEOPLE = ("Alice Anders", "Bob Brown", "Carol Chen")


MANIFEST = package_data.slack_manifest_path()


def _manifest() -> dict[str, Any]:
    return dict(yaml.safe_load(MANIFEST.read_text(encoding="utf-8")))


def manifest_events() -> set[str]:
    """The events our Slack app manifest subscribes to: the emulator sends only those."""
    return set(_manifest()["settings"]["event_subscriptions"]["bot_events"])


def manifest_scopes() -> set[str]:
    """The bot scopes the manifest asks for: the emulator grants only those, so a call the
    manifest forgot fails in the tests with Slack's `missing_scope`."""
    return set(_manifest()["oauth_config"]["scopes"]["bot"])


def pagerduty_catalog(pd: PagerDutyEmulator) -> dict[str, Any]:
    """The emulated PagerDuty's services, mapped in the catalog the way a team maps theirs."""
    services = {
        name: {
            "pagerduty": {
                "service_id": pd.service_id(name),
                "escalation_policy_id": pd.escalation_policy_id(name),
                "routing_key": key,
            }
        }
        for name, key in pd.routing_keys.items()
    }
    return {"services": services}


def seed_opsgenie(og: OpsgenieEmulator) -> None:
    """alice, bob and carol as Opsgenie users; a team and a `<team>_schedule` per service
    (before the emulator starts: nothing else touches its account yet)."""
    for name in PEOPLE:
        og.account.add_user(name)
    for team, members in OPSGENIE_TEAMS.items():
        og.account.add_team(team, list(members))
        og.account.add_schedule(f"{team}_schedule", [members[0]], team=team)


def opsgenie_catalog() -> dict[str, Any]:
    """The services Opsgenie pages, mapped as the README shows (`pager: {kind: opsgenie}`)."""
    return {
        "services": {
            team: {
                "pager": {
                    "kind": "opsgenie",
                    "responders": [{"type": "team", "name": team}],
                    "schedule": f"{team}_schedule",
                }
            }
            for team in OPSGENIE_TEAMS
        }
    }


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
        jira_flavour: Literal["cloud", "server"] = "cloud",
        jira_api_version: int = 2,
        catalog_extra: dict[str, Any] | None = None,
        socket_mode: bool = False,
        settings_extra: dict[str, Any] | None = None,
        port: int = 0,
        in_process_scheduler: bool = False,
        with_bot: bool = True,
        bot_url: str | None = None,
    ) -> None:
        """``socket_mode``: Slack reaches the bot over Socket Mode (SLACK_APP_TOKEN, no signing
        secret, Bolt's SocketModeHandler as `serve` runs it) instead of signed HTTP requests.
        ``port``: the bot's port (0: any free one). ``in_process_scheduler``: reminders and
        retries fire as in `serve` (give it the real clock). ``with_bot=False``: only the
        emulators, pointed at the bot the user runs at ``bot_url`` (`incidentbot emulators`)."""
        self.bot_url = bot_url
        self.port = port
        self.in_process_scheduler = in_process_scheduler
        self.with_bot = with_bot
        self._jobs: Any = None  # (the in-process scheduler, its leadership)
        self._bot_built = False
        self.socket_mode = socket_mode
        self.settings_extra = settings_extra or {}  # Settings fields set over the sandbox's
        self.jira_api_version = jira_api_version
        self.catalog_extra = catalog_extra or {}
        self.database_url = database_url
        self.clock = clock
        self.feed = feed
        self.upgrade = upgrade
        self.pacing = pacing
        self.slack = SlackEmulator(
            subscribed_events=manifest_events(), scopes=manifest_scopes(), socket_mode=socket_mode
        )
        self.pagerduty = PagerDutyEmulator()
        self.jira = JiraEmulator(jira_flavour)
        self.opsgenie = OpsgenieEmulator(seed=False)
        seed_opsgenie(self.opsgenie)
        self._socket_handler: Any = None
        self._tmp = tempfile.TemporaryDirectory(prefix="incidentbot-sandbox-")
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def catalog(self) -> dict[str, Any]:
        """The emulators' services, with what `catalog_extra` says of each (merged into the
        service it names), and its other sections."""
        services: dict[str, Any] = {
            **pagerduty_catalog(self.pagerduty)["services"],
            **opsgenie_catalog()["services"],
        }
        extra = dict(self.catalog_extra)
        for name, spec in (extra.pop("services", None) or {}).items():
            services[name] = {**services.get(name, {}), **(spec or {})}
        return {"services": services, **extra}

    def start(self) -> Sandbox:
        self.slack.start()
        self.pagerduty.start()
        self.jira.start()
        self.opsgenie.start()
        for team in ("database", "security"):  # the on-call teams the shipped playbooks page
            self.pagerduty.add_service(team)
        self.feed_id = self.slack.add_channel(self.feed)
        catalog = Path(self._tmp.name) / "catalog.yaml"
        catalog.write_text(yaml.safe_dump(self.catalog()), encoding="utf-8")
        sock = self._listen() if self.with_bot else None
        if sock is None:
            self.url = (self.bot_url or "http://127.0.0.1:8080").rstrip("/")
        else:
            self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.settings = Settings(
            database_url=self.database_url,
            slack_bot_token=self.slack.bot_token,
            slack_signing_secret=None if self.socket_mode else self.slack.signing_secret,
            slack_app_token=self.slack.app_token if self.socket_mode else None,
            slack_api_url=self.slack.api_url,
            slack_incidents_channel=self.feed_id,
            public_url=self.url,
            api_token=API_TOKEN,
            alert_webhook_token=ALERT_TOKEN,
            incidentbot_config=catalog,
            playbooks_dir=package_data.playbooks_dir(),
            pagerduty_api_token=self.pagerduty.api_token,
            pagerduty_from_email="alice@example.com",
            pagerduty_api_url=self.pagerduty.url,
            pagerduty_events_url=self.pagerduty.url,
            pagerduty_ca_bundle=Path(self.pagerduty.ca_bundle),
            pagerduty_webhook_secrets=self.pagerduty.webhook_secret,
            # a one-service team's default: declared incidents page checkout-api's on-call
            pagerduty_service_id=self.pagerduty.service_id("checkout-api"),
            pagerduty_escalation_policy_id=self.pagerduty.escalation_policy_id("checkout-api"),
            opsgenie_api_key=self.opsgenie.api_key,
            opsgenie_api_url=self.opsgenie.url,
            opsgenie_webhook_token=OPSGENIE_TOKEN,
            jira_url=self.jira.url,
            jira_project="OPS",
            jira_api_version=self.jira_api_version,
            jira_timeout=2.0,
            jira_ca_bundle=Path(self.jira.ca_bundle),
            postmortem_templates_dir=package_data.postmortem_templates_dir(),
            jira_email=self.jira.email if self.jira.cloud else None,
            jira_api_token=self.jira.api_token if self.jira.cloud else None,
            jira_pat=None if self.jira.cloud else self.jira.pat,
        )
        self.settings = self.settings.model_copy(update=self.settings_extra)
        if sock is None:
            return self._point_emulators()
        db = Database(self.database_url)
        if self.upgrade:
            db.upgrade()
        self.bot = wiring.build(self.settings, clock=self.clock, db=db, pacing=self.pacing)
        self._bot_built = True
        if self.in_process_scheduler:
            self._jobs = scheduler.start_in_process(
                self.bot.runner, self.bot.timers, db, self.bot.inbox
            )
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
        if self.socket_mode:
            self._connect_socket()
        return self._point_emulators()

    def _listen(self) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if self.port:  # a port given again right after the last sandbox: TIME_WAIT is no reason
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", self.port))
        except OSError:
            sock.close()
            self.stop()
            raise
        return sock

    def _point_emulators(self) -> Sandbox:
        """Slack sends to the bot (HTTP mode), PagerDuty and Opsgenie post their webhooks to it
        (Opsgenie's integration with its custom header, the bearer the bot expects)."""
        if not self.socket_mode:
            self.slack.bot_url = f"{self.url}/slack/events"
        self.pagerduty.subscribe(f"{self.url}/webhooks/pagerduty")
        self.opsgenie.add_webhook(
            f"{self.url}/webhooks/opsgenie", headers={"Authorization": f"Bearer {OPSGENIE_TOKEN}"}
        )
        return self

    def environment(self) -> dict[str, str]:
        """The environment (or `.env`) that gives `Settings()` this sandbox's settings."""
        return settings_environment(self.settings)

    def sign_in_link(self, user: str, incident_id: int | None = None) -> str:
        """A link that signs the seeded ``user`` (``"alice"``) in to the dashboard, or to an
        incident's review page (10 minutes, once)."""
        review = self.bot.review
        if review is None:
            raise RuntimeError("the review pages are off (no API_TOKEN)")
        uid = self.slack.user_id(user)
        if incident_id is None:
            return review.dashboard_link(uid)
        return review.review_link(uid, incident_id)

    def _connect_socket(self) -> None:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        assert self.bot.bolt is not None
        self._socket_handler = SocketModeHandler(self.bot.bolt, self.slack.app_token)
        self._socket_handler.connect()
        if not self.slack.wait_for_socket(1):
            raise RuntimeError("the bot opened no Socket Mode connection")

    def _close_socket(self) -> None:
        handler, self._socket_handler = self._socket_handler, None
        if handler is None:
            return
        handler.client.auto_reconnect_enabled = False
        for link in self.slack.socket_connections(leaving=True):
            self.slack.socket_close(link)  # else the client's reader sits out its 3 s timeout
        handler.close()

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until the bot has finished what the last requests started."""
        if not self.bot.wait_idle(timeout):
            raise TimeoutError("the bot is still busy")

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._close_socket()
        if self._jobs is not None:
            jobs, leadership = self._jobs
            self._jobs = None
            jobs.shutdown(wait=False)
            leadership.release()
        if self._bot_built:
            self.bot.close()
        self.slack.stop()
        self.pagerduty.stop()
        self.opsgenie.stop()
        self.jira.stop()
        self._tmp.cleanup()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, *_exc: tuple[type[BaseException] | None, BaseException | None, TracebackType | None]
    ) -> None:
        self.stop()

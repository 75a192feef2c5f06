"""The one composition root: settings → database → clients → ports → flows → Bolt → web."""

from __future__ import annotations

from dataclasses import dataclass

from slack_bolt import App
from slack_sdk import WebClient
from starlette.applications import Starlette

from bot.adapters.slack.app import build_bolt_app
from bot.adapters.slack.chat import SlackChat
from bot.adapters.slack.listeners import SlackContext
from bot.core.catalog import Catalog
from bot.flows.background import BackgroundWork
from bot.flows.incidents import IncidentFlows
from bot.flows.outbox import OutboxRunner
from bot.flows.ports import Clock, SystemClock
from bot.flows.slack_effects import SlackEffects
from bot.settings import Settings
from bot.store.db import Database
from bot.web.app import build_web_app


@dataclass
class Bot:
    settings: Settings
    db: Database
    catalog: Catalog
    clock: Clock
    runner: OutboxRunner
    flows: IncidentFlows
    work: BackgroundWork
    slack: WebClient
    bolt: App | None
    web: Starlette

    def close(self) -> None:
        self.work.shutdown()
        self.db.dispose()


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter is not None else None


def build(settings: Settings, *, clock: Clock | None = None, db: Database | None = None) -> Bot:
    db = db or Database(settings.database_url)
    catalog = settings.catalog()
    clock = clock or SystemClock()
    slack = WebClient(
        token=_secret(settings.slack_bot_token), base_url=settings.slack_api_url, timeout=10
    )
    effects = SlackEffects(
        db,
        SlackChat(slack),
        catalog,
        clock,
        feed_channel=settings.slack_incidents_channel,
        public_url=settings.public_url,
    )
    work = BackgroundWork()
    runner = OutboxRunner(
        db,
        clock,
        effects.handlers,
        on_give_up=effects.gave_up,
        between_effects=work.gate.yield_to_acks,
    )
    flows = IncidentFlows(db, catalog, clock, runner)
    bolt = None
    if settings.slack_bot_token is not None:
        ctx = SlackContext(flows=flows, catalog=catalog, clock=clock, work=work)
        bolt = build_bolt_app(
            client=slack, signing_secret=_secret(settings.slack_signing_secret), ctx=ctx
        )
    # Socket Mode (no signing secret): Slack talks over the socket, so the HTTP endpoint, which
    # could not verify anything, stays closed.
    http_bolt = bolt if settings.slack_signing_secret is not None else None
    web = build_web_app(
        db=db, bolt=http_bolt, api_token=_secret(settings.api_token), gate=work.gate
    )
    return Bot(settings, db, catalog, clock, runner, flows, work, slack, bolt, web)

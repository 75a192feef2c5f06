"""The ASGI app: every route of `serve`, put together."""

from __future__ import annotations

from collections.abc import Sequence

from slack_bolt import App
from starlette.applications import Starlette
from starlette.middleware import Middleware

from bot.adapters.alert_sources.sns import SnsGate
from bot.adapters.slack.command_intake import CommandIntake
from bot.core.catalog import Catalog
from bot.flows.alerts import AlertFlows
from bot.flows.background import AckGate
from bot.flows.pager_in import PagerInbound
from bot.flows.ports import Clock, SystemClock
from bot.store.db import Database
from bot.web import api, openapi, slack, webhooks
from bot.web.common import Metrics
from bot.web.observe import HttpMeters, RequestMetrics, StoreCollector
from bot.web.opsgenie_webhook import PagerEvents
from bot.web.review import ReviewSite
from bot.web.throttle import LIMIT, Throttle


def build_web_app(
    *,
    db: Database,
    bolt: App | None,
    alerts: AlertFlows,
    api_token: str | None,
    alert_token: str | None,
    pagerduty: PagerInbound | None = None,
    pagerduty_secrets: list[str] | None = None,
    gate: AckGate | None = None,
    metrics: Metrics | None = None,
    open_statuses: Sequence[str] = (),
    clock: Clock | None = None,
    catalog: Catalog | None = None,
    review: ReviewSite | None = None,
    metrics_token: str | None = None,
    trusted_proxy_header: str | None = None,
    auth_failure_limit: int = LIMIT,
    commands: CommandIntake | None = None,
    sns: SnsGate | None = None,
    opsgenie: PagerEvents | None = None,
    opsgenie_token: str | None = None,
) -> Starlette:
    metrics = metrics or Metrics()
    clock = clock or SystemClock()
    throttle = Throttle(
        db, clock, limit=auth_failure_limit, proxy_header=trusted_proxy_header, metrics=metrics
    )
    if review is not None:
        review.metrics = metrics  # refused logins and links count with the other refusals
        review.throttle = throttle  # failures from one address count on every route
    gate = gate or AckGate()
    routes = [
        *slack.routes(bolt=bolt, gate=gate, metrics=metrics, commands=commands),
        *webhooks.routes(
            alerts=alerts,
            token=alert_token,
            pagerduty=pagerduty,
            pagerduty_secrets=pagerduty_secrets or [],
            metrics=metrics,
            sns=sns,
            opsgenie=opsgenie,
            opsgenie_token=opsgenie_token,
            gate=gate,
        ),
        *api.routes(
            db=db,
            api_token=api_token,
            metrics=metrics,
            throttle=throttle,
            catalog=catalog,
            clock=clock,
            metrics_token=metrics_token,
        ),
        *(review.routes() if review is not None else []),
        *openapi.routes(),
    ]
    metrics.registry.register(
        StoreCollector(db, open_statuses, clock.now, include_private=metrics_token is not None)
    )
    return Starlette(
        routes=routes,
        middleware=[Middleware(RequestMetrics, routes=routes, meters=HttpMeters(metrics.registry))],
    )

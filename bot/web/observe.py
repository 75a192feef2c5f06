"""The bot's own observability on /metrics: every HTTP request by route and outcome with its
latency (the Slack route's is the ack latency), and, read from the database at scrape time, open
incidents by severity, the outbox backlog, retries and give-ups by integration, and how late the
oldest due timer is (a dead or missing scheduler shows as a growing lag).

A private incident must not show through an anonymous scrape: unless /metrics is behind
METRICS_TOKEN (`include_private`), the gauges leave out private incidents and everything of
theirs (their effects in the outbox, their timers), so nothing moves when one opens."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter as PromCounter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.store.db import Database
from bot.store.gauges import gauges

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0, 5.0, 10.0)


class HttpMeters:
    """Requests by route template, method and outcome, and their latency: registered once per
    app. (Starlette builds its middleware stack on the first request, and more than once when
    first requests arrive on several threads at the same time, as in-process test clients do.)"""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = PromCounter(
            "incidentbot_http_requests",
            "HTTP requests by route, method and outcome (2xx, 4xx, 5xx)",
            ["route", "method", "outcome"],
            registry=registry,
        )
        self.seconds = Histogram(
            "incidentbot_http_request_seconds",
            "Time to answer, by route (POST /slack/events: the ack latency Slack sees)",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )


class RequestMetrics:
    """ASGI middleware: counts each request and its latency into the app's `HttpMeters`."""

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute], meters: HttpMeters) -> None:
        self.app = app
        self.routes = routes
        self.requests = meters.requests
        self.seconds = meters.seconds

    def _route(self, scope: Scope) -> str:
        for route in self.routes:
            match, _child = route.matches(scope)
            if match is Match.FULL:
                return str(getattr(route, "path", "other"))
        return "unmatched"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = self._route(scope)
            self.requests.labels(route, scope.get("method", ""), f"{status // 100}xx").inc()
            self.seconds.labels(route).observe(time.perf_counter() - started)


class StoreCollector(Collector):
    """Gauges read from the database when Prometheus scrapes (cheap, indexed queries)."""

    def __init__(
        self,
        db: Database,
        open_statuses: Iterable[str],
        clock: Callable[[], datetime],
        *,
        include_private: bool = False,
    ) -> None:
        self.db = db
        self.open_statuses = list(open_statuses)
        self.clock = clock
        self.include_private = include_private

    def collect(self) -> Iterable[Metric]:
        open_incidents = GaugeMetricFamily(
            "incidentbot_open_incidents",
            "Open incidents by severity (drills excluded)",
            labels=["severity"],
        )
        backlog = GaugeMetricFamily(
            "incidentbot_outbox_pending",
            "Effects not yet delivered, by integration",
            labels=["integration"],
        )
        retrying = GaugeMetricFamily(
            "incidentbot_outbox_retrying",
            "Pending effects that failed at least once, by integration",
            labels=["integration"],
        )
        given_up = GaugeMetricFamily(
            "incidentbot_outbox_given_up",
            "Effects given up for good, by integration",
            labels=["integration"],
        )
        lag = GaugeMetricFamily(
            "incidentbot_timer_lag_seconds",
            "How late the oldest due, unfired timer is (0: none due)",
        )
        pending_timers = GaugeMetricFamily(
            "incidentbot_timers_pending", "Timers armed and not yet fired"
        )
        now = self.clock()
        with self.db.read() as session:
            read = gauges(
                session=session,
                open_statuses=self.open_statuses,
                include_private=self.include_private,
            )
        for severity, count in read.open_by_severity.items():
            open_incidents.add_metric([severity], count)
        pending: Counter[str] = Counter()
        failing: Counter[str] = Counter()
        dropped: Counter[str] = Counter()
        for lanes, into in (
            (read.pending_by_lane, pending),
            (read.retrying_by_lane, failing),
            (read.given_up_by_lane, dropped),
        ):
            for lane, count in lanes.items():
                into[_integration(lane)] += count
        oldest, armed = read.oldest_due_timer, read.armed_timers
        for family, counts in ((backlog, pending), (retrying, failing), (given_up, dropped)):
            for integration in ("slack", "pager", "jira"):
                family.add_metric([integration], counts.get(integration, 0))
        late = (now - oldest).total_seconds() if oldest is not None and oldest <= now else 0.0
        lag.add_metric([], late)
        pending_timers.add_metric([], armed)
        return [open_incidents, backlog, retrying, given_up, lag, pending_timers]


# The lanes name the domain's side ("chat:12"); the metric keeps the product it is documented by.
_PRODUCTS = {"chat": "slack", "tracker": "jira"}


def _integration(lane: str) -> str:
    side = lane.split(":", 1)[0].split("-", 1)[0]  # "chat:12" → chat, "chat-notice:3" → chat
    return _PRODUCTS.get(side, side)

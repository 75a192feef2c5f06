"""The rig the fuzz tests share: a sandbox per test module and database (SQLite, and PostgreSQL,
which refuses what SQLite takes: NUL bytes, over-long values), a kept-alive HTTP client that
counts every hostile payload it sends, the hypothesis settings, and the checks made once a
module has sent its payloads: healthy, consistent, and no user text live in Slack or HTML.

Each module runs its hypothesis tests with the full number of examples on SQLite and a
`PG_SHARE`-th of it on PostgreSQL, and asserts at its end that it sent at least its share
of `MIN_PAYLOADS` (every fuzz module together: at least 10,000 on SQLite alone)."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
import pytest
from hypothesis import HealthCheck, settings

from bot.sandbox import ALERT_TOKEN, API_TOKEN, Sandbox
from tests.conftest import _wipe
from tests.e2e.conftest import People
from tests.e2e.hostile import consistency_problems, slack_leaks
from tests.fixtures.alerts import alertmanager

MIN_PAYLOADS = 10_000  # on SQLite, over the four fuzz modules (see each module's MIN_SENT)
# the least each fuzz module must send on SQLite (each asserts its own at its end)
MIN_SENT_BY_MODULE = {"api": 3_000, "bodies": 4_700, "slack": 400, "webhooks": 2_700}
PG_SHARE = 5  # PostgreSQL runs a fifth of the examples: the same code, a stricter database
SCRIPTS = ("<script>alert(1)</script>", "<svg onload=alert(1)>", "<img src=x onerror")
FAILED = "Sorry, that failed inside incidentbot"
AUTH = {"Authorization": f"Bearer {API_TOKEN}"}

_F = TypeVar("_F", bound=Callable[..., Any])


@dataclass
class Fuzz:
    sb: Sandbox
    http: httpx.Client
    p: People
    channel: str  # an open incident's channel, where channel commands go
    backend: str
    sent: Counter[str] = field(default_factory=Counter)  # hostile payloads sent, per target

    @property
    def postgres(self) -> bool:
        return self.backend == "postgres"

    def examples(self, n: int) -> Callable[[_F], _F]:
        """Hypothesis settings: `n` examples on SQLite, a PG_SHARE-th of them on PostgreSQL."""
        return settings(
            max_examples=n if not self.postgres else max(n // PG_SHARE, 1),
            deadline=None,
            database=None,  # nothing written into the repository; each run explores anew
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        )

    def minimum(self, n: int) -> int:
        return n if not self.postgres else n // PG_SHARE

    def send(self, target: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One hostile request: it counts, and a 5xx fails the example."""
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TransportError:
            # a kept-alive connection the server closed as we reused it (idle timeout, or an
            # early 413 it stopped reading): once more on a new connection. An app that fails
            # answers 500 (uvicorn never drops it), so this cannot hide a 5xx.
            response = self.http.request(method, path, **kwargs)
        self.sent[target] += 1
        assert response.status_code < 500, (
            f"{method} {path} answered {response.status_code}: {response.text[:300]}"
        )
        return response


def _quick_replies(sb: Sandbox) -> None:
    """TCP_NODELAY on the bot's listening socket (accepted connections inherit it). Without it,
    each answer on a kept-alive connection arrives ~40 ms late: Nagle's algorithm holds the
    body back until the client's delayed ACK of the headers."""
    assert sb._server is not None
    for server in sb._server.servers:
        for sock in server.sockets:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def sandbox(
    request: pytest.FixtureRequest, tmp: pytest.TempPathFactory, **settings: Any
) -> Iterator[Fuzz]:
    """The body of each fuzz module's `fz` fixture (module scope, params sqlite/postgres);
    `settings` are set over the sandbox's."""
    backend = str(request.param)
    if backend == "sqlite":
        url = f"sqlite:///{tmp.mktemp('fuzz') / 'incidentbot.db'}"
    else:
        pg = request.getfixturevalue("postgres_db")
        if pg is None:
            pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
        _wipe(pg)
        url = pg.url
    with Sandbox(url, settings_extra=settings) as sb:
        # Work after an ack waits for 20 ms without requests (to keep acks fast under a burst);
        # the fuzz sends back to back and settles itself, so the work may start at once.
        sb.bot.work.gate.quiet = 0.0
        _quick_replies(sb)
        p = People(
            *(sb.slack.user_id(n) for n in ("alice", "bob", "carol")),
            sb.slack.channel_by_name("general")["id"],  # type: ignore[index]
        )
        sb.slack.send_command(p.alice, p.general, "declare sev2 Fuzz target")
        sb.settle()
        with httpx.Client(base_url=sb.url, timeout=30) as http:
            alert = http.post(
                "/webhooks/alertmanager",
                json=alertmanager(),
                headers={"Authorization": f"Bearer {ALERT_TOKEN}"},
            )
            assert alert.status_code == 200, alert.text
            sb.settle()
            incident = sb.bot.flows.incident(1)
            assert incident is not None and incident.conversation_id
            for user in (p.alice, p.bob):
                sb.slack.join(incident.conversation_id, user)
            yield Fuzz(sb, http, p, incident.conversation_id, backend)


def assert_escaped(path: str, response: httpx.Response) -> None:
    if response.status_code == 200:
        for script in SCRIPTS:
            assert script not in response.text, f"{path}: unescaped {script!r}"


def aftermath(fz: Fuzz, request: pytest.FixtureRequest, min_sent: int) -> None:
    """Once a module's payloads are sent: the bot answers, the database is consistent, no Slack
    message carries markup from user text, the dashboard and every review page escape it, and
    the module sent its share of the payloads (when none of its fuzz tests was deselected)."""
    fz.sb.settle()
    health = fz.http.get("/healthz")
    assert health.status_code == 200 and health.json()["database"] == "ok"
    problems = consistency_problems(fz.sb)
    assert problems == [], "\n".join(problems[:20])
    listing = fz.http.get("/api/incidents?limit=500", headers=AUTH).json()["incidents"]
    for path in ["/", *(f"/incidents/{i['id']}" for i in listing)]:
        assert_escaped(path, fz.send("pages", "GET", path, headers=AUTH))
    leaks = [str(leak) for leak in slack_leaks(fz.sb)]
    assert leaks == [], "\n".join(leaks[:20])
    total = sum(fz.sent.values())
    print(f"\nfuzz ({fz.backend}): {total} hostile payloads: {dict(sorted(fz.sent.items()))}")
    module = request.node.module.__name__
    selected = [
        item
        for item in request.session.items
        if item.module.__name__ == module  # type: ignore[attr-defined]
        and item.name.startswith("test_fuzz_")
        and f"[{fz.backend}]" in item.name
    ]
    declared = [name for name in dir(request.node.module) if name.startswith("test_fuzz_")]
    if len(selected) == len(declared):
        assert total >= fz.minimum(min_sent), f"only {total} hostile payloads sent"

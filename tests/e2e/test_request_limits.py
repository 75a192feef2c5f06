"""Every POST endpoint refuses an over-limit body (413) and over-deep JSON (400), with a reason
and before writing anything; every refused credential is a 401 counted in /metrics by route
and outcome; a replayed Slack request is handled once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.emulators.pagerduty import signature
from bot.emulators.slack.transport import sign
from bot.sandbox import ALERT_TOKEN, API_TOKEN, Sandbox
from bot.web.alert_sources import MAX_BODY as MAX_SOURCE_BODY
from bot.web.api import MAX_IMPORT_BODY
from bot.web.common import MAX_JSON_DEPTH
from bot.web.review import MAX_FORM
from bot.web.slack import MAX_SLACK_BODY
from bot.web.webhooks import MAX_ALERT_BODY, MAX_PAGERDUTY_BODY
from tests.e2e.conftest import People, api, command, scrape, value

JSON = "application/json"


def credentials(sb: Sandbox, path: str, body: bytes, content_type: str) -> dict[str, str]:
    """The headers that make `body` acceptable to `path` but for its size or shape."""
    headers = {"Content-Type": content_type}
    if path == "/slack/events":
        now = int(time.time())
        headers["X-Slack-Request-Timestamp"] = str(now)
        headers["X-Slack-Signature"] = sign(sb.slack.signing_secret, now, body)
    elif path == "/webhooks/cloudwatch":
        headers["Content-Type"] = "text/plain; charset=UTF-8"  # as SNS sends it; no credential
    elif path == "/webhooks/pagerduty":
        headers["X-PagerDuty-Signature"] = signature(sb.pagerduty.webhook_secret, body)
    elif path.startswith("/webhooks/"):
        headers["Authorization"] = f"Bearer {ALERT_TOKEN}"
    elif path.startswith("/api/"):
        headers["Authorization"] = f"Bearer {API_TOKEN}"
    return headers


# (path, its limit, content type)
POSTS = [
    ("/slack/events", MAX_SLACK_BODY, JSON),
    ("/webhooks/alertmanager", MAX_ALERT_BODY, JSON),
    ("/webhooks/grafana", MAX_ALERT_BODY, JSON),
    ("/webhooks/pagerduty", MAX_PAGERDUTY_BODY, JSON),
    ("/webhooks/datadog", MAX_SOURCE_BODY, JSON),
    ("/webhooks/newrelic", MAX_SOURCE_BODY, JSON),
    ("/webhooks/cloudwatch", MAX_SOURCE_BODY, JSON),
    ("/api/incidents/import", MAX_IMPORT_BODY, JSON),
    ("/api/incidents/import", MAX_IMPORT_BODY, "application/x-ndjson"),
    ("/login", MAX_FORM, "application/x-www-form-urlencoded"),
]
IDS = [f"{path} {kind.split('/')[1]}" for path, _, kind in POSTS]


@pytest.fixture(scope="module")
def quiet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One sandbox for the refusals (nothing they send may change it; SQLite: the limits are
    checked before any database work). It takes an SNS topic: the limits come before the
    signature, which is never checked here."""
    db = tmp_path_factory.mktemp("limits") / "incidentbot.db"
    topic = {"sns_topic_arns": "arn:aws:sns:us-east-1:123456789012:incidentbot"}
    with Sandbox(f"sqlite:///{db}", settings_extra=topic) as sandbox:
        yield sandbox


def nothing_written(sb: Sandbox) -> None:
    sb.settle()
    assert api(sb, "/api/incidents").json()["incidents"] == []
    assert sb.slack.calls == [] and sb.pagerduty.incidents() == []


@pytest.mark.parametrize(("path", "limit", "kind"), POSTS, ids=IDS)
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_over_limit_body_is_refused_with_413(
    quiet: Sandbox, path: str, limit: int, kind: str, chunked: bool
) -> None:
    """Declared too long, or streamed without a length: refused once past the limit."""
    sb = quiet
    body = b"[" + b" " * limit + b"]"
    headers = credentials(sb, path, body, kind)
    content: Any = (
        body if not chunked else iter([body[i : i + 65536] for i in range(0, len(body), 65536)])
    )
    reply = httpx.post(f"{sb.url}{path}", content=content, headers=headers, timeout=30)
    assert reply.status_code == 413
    assert f"over the {limit}-byte limit" in reply.text
    nothing_written(sb)


def deep(depth: int) -> bytes:
    return ('{"a":' * depth + "1" + "}" * depth).encode()


@pytest.mark.parametrize(("path", "limit", "kind"), [p for p in POSTS if p[0] != "/login"])
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_over_deep_json_is_refused_with_400(
    quiet: Sandbox, path: str, limit: int, kind: str, depth: int
) -> None:
    """One level past MAX_JSON_DEPTH, and deep enough to exhaust Python's parser."""
    del limit
    sb = quiet
    body = deep(depth)
    if path == "/slack/events" and depth > MAX_JSON_DEPTH + 1:
        body = b"payload=" + body  # an interaction's form carries its JSON as `payload`
        kind = "application/x-www-form-urlencoded"
    reply = httpx.post(f"{sb.url}{path}", content=body, headers=credentials(sb, path, body, kind))
    assert reply.status_code == 400, reply.text
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in reply.text
    nothing_written(sb)


def test_json_at_the_depth_limit_is_taken(quiet: Sandbox) -> None:
    sb = quiet
    body = json.dumps([{"external_id": "deep", "title": "x", "x": json.loads(deep(30))}]).encode()
    reply = httpx.post(
        f"{sb.url}/api/incidents/import", content=body, headers=credentials(sb, "/api/", body, JSON)
    )
    assert reply.status_code == 422 and "nested" not in reply.text  # refused for its fields


REFUSALS = {  # endpoint label in incidentbot_unauthorized_requests → (route, a forged request)
    "slack": ("/slack/events", {"X-Slack-Signature": "v0=" + "0" * 64}),
    "pagerduty": ("/webhooks/pagerduty", {"X-PagerDuty-Signature": "v1=" + "0" * 64}),
    "alertmanager": ("/webhooks/alertmanager", {}),
    "grafana": ("/webhooks/grafana", {"Authorization": "Bearer wrong"}),
    "datadog": ("/webhooks/datadog", {"Authorization": "Bearer wrong"}),
    "newrelic": ("/webhooks/newrelic", {}),
    "api": ("/api/incidents/import", {"Authorization": "Bearer wrong"}),
}


def test_every_refused_credential_is_a_401_counted_by_route_and_outcome(sb: Sandbox) -> None:
    body = json.dumps({"event": {"id": "x"}}).encode()
    for route, headers in REFUSALS.values():
        headers = {
            **headers,
            "Content-Type": JSON,
            "X-Slack-Request-Timestamp": str(int(time.time())),
        }
        for _ in range(2):
            reply = httpx.post(f"{sb.url}{route}", content=body, headers=headers)
            assert reply.status_code == 401, (route, reply.text)
    nothing_written(sb)
    samples = scrape(sb)
    for endpoint, (route, _) in REFUSALS.items():
        assert value(samples, "incidentbot_unauthorized_requests_total", endpoint=endpoint) == 2
        outcome = {"route": route, "method": "POST", "outcome": "4xx"}
        assert value(samples, "incidentbot_http_requests_total", **outcome) == 2, route


@pytest.fixture
def people_in_incident(sb: Sandbox, people: People) -> Iterator[tuple[People, str]]:
    command(sb, people.alice, people.general, "declare sev3 Replay target")
    incident = sb.bot.flows.incident(1)
    assert incident is not None and incident.conversation_id
    yield people, incident.conversation_id


def test_a_replayed_command_is_handled_once(
    sb: Sandbox, people_in_incident: tuple[People, str]
) -> None:
    """The same signed bytes, again within 300 s (an attacker's replay, or Slack's own retry):
    the signature is still valid, and the command's trigger id makes it a no-op."""
    people, channel = people_in_incident
    reply = command(sb, people.alice, channel, "note Replayed once")
    again = sb.slack.resend(reply)
    assert again.status == 200
    sb.settle()
    notes = [e for e in api(sb, "/api/incidents/1").json()["timeline"] if "Replayed once" in str(e)]
    assert len(notes) == 1, notes

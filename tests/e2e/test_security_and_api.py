from __future__ import annotations

import time

import httpx
import pytest

from bot.sandbox import Sandbox
from tests.e2e.conftest import People, api, command, declare


@pytest.mark.parametrize(
    "forgery",
    [{"unsigned": True}, {"signature": "v0=" + "0" * 64}, {"timestamp": int(time.time()) - 301}],
    ids=["unsigned", "mis-signed", "stale"],
)
def test_forged_or_stale_requests_are_refused_and_change_nothing(
    sb: Sandbox, people: People, forgery: dict[str, object]
) -> None:
    reply = sb.slack.send_command(people.alice, people.general, "declare sev1 Forged", **forgery)
    assert reply.status == 401
    sb.settle()
    assert api(sb, "/api/incidents").json()["incidents"] == []
    assert sb.slack.calls_to("conversations.create") == []


def test_a_replayed_request_changes_nothing(sb: Sandbox, people: People) -> None:
    reply = command(sb, people.alice, people.general, "declare sev2 Replayed")
    again = sb.slack.resend(reply)
    assert again.status == 200
    sb.settle()
    assert len(api(sb, "/api/incidents").json()["incidents"]) == 1
    assert len(sb.slack.calls_to("conversations.create")) == 1


def test_api_needs_the_bearer_token(sb: Sandbox, people: People) -> None:
    incident = declare(sb, people)
    assert api(sb, "/api/incidents", token=None).status_code == 401
    assert api(sb, f"/api/incidents/{incident['id']}", token="wrong").status_code == 401
    assert api(sb, "/api/incidents/abc").status_code == 400
    assert api(sb, "/api/incidents/999999").status_code == 404
    assert api(sb, "/api/incidents?limit=x").status_code == 400
    listing = api(sb, "/api/incidents").json()
    assert [i["title"] for i in listing["incidents"]] == ["Checkout API returns 500s"]


def test_health_and_metrics(sb: Sandbox) -> None:
    health = httpx.get(f"{sb.url}/healthz", timeout=5)
    assert health.status_code == 200 and health.json()["database"] == "ok"
    metrics = httpx.get(f"{sb.url}/metrics", timeout=5)
    assert metrics.status_code == 200 and "incidentbot_slack_requests" in metrics.text

"""`POST /webhooks/opsgenie`: Opsgenie's Webhook integration with its custom header
`Authorization: Bearer <OPSGENIE_WEBHOOK_TOKEN>`; events reach the inbound pager flow, anything
unauthorized or malformed does not."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.flows.ports import PagerEvent
from bot.flows.unit import Outcome
from bot.web import opsgenie_webhook
from bot.web.common import Metrics

TOKEN = "og-webhook-token"
GOOD = {"Authorization": f"Bearer {TOKEN}"}
ACK = {
    "source": {"name": "", "type": "web"},
    "alert": {
        "updatedAt": 1_765_015_260_123_000_000,
        "message": "[SEV1] Checkout is down",
        "username": "bob@example.com",
        "alertId": "8e2d6bb4-3a0c-4d52-a8a5-7d1c2e3f4a5b",
        "alias": "incident-1-page-1",
        "tinyId": "23",
        "createdAt": 1_765_015_200_000,
        "userId": "0b7c4d1e-7a9f-4c2b-9d3e-1f2a3b4c5d6e",
    },
    "action": "Acknowledge",
    "integrationId": "4f1e2d3c-0000-4000-8000-000000000001",
    "integrationName": "incidentbot webhook",
}


class Inbound:
    def __init__(self) -> None:
        self.events: list[PagerEvent] = []

    def handle(self, event: PagerEvent) -> Outcome:
        self.events.append(event)
        return Outcome(True, "Acknowledged.", incident_id=1)


def app(inbound: Inbound | None, token: str | None, metrics: Metrics) -> TestClient:
    routes = opsgenie_webhook.routes(inbound=inbound, token=token, metrics=metrics)
    return TestClient(Starlette(routes=routes))


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def inbound() -> Inbound:
    return Inbound()


@pytest.fixture
def client(inbound: Inbound, metrics: Metrics) -> TestClient:
    return app(inbound, TOKEN, metrics)


def unauthorized(metrics: Metrics) -> float:
    value = metrics.registry.get_sample_value(
        "incidentbot_unauthorized_requests_total", {"endpoint": "opsgenie"}
    )
    return value or 0.0


def test_an_event_with_the_token_reaches_the_inbound_flow(
    client: TestClient, inbound: Inbound
) -> None:
    answer = client.post("/webhooks/opsgenie", json=ACK, headers=GOOD)
    assert answer.status_code == 200
    assert answer.json() == {"ok": True, "incident_id": 1, "result": "Acknowledged."}
    [event] = inbound.events
    assert (event.action, event.page_key, event.agent_email) == (
        "acknowledged",
        "incident-1-page-1",
        "bob@example.com",
    )


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"GenieKey {TOKEN}"}],
)
def test_a_missing_or_wrong_token_is_401_and_nothing_is_handled(
    client: TestClient, inbound: Inbound, metrics: Metrics, headers: dict[str, str]
) -> None:
    answer = client.post("/webhooks/opsgenie", json=ACK, headers=headers)
    assert answer.status_code == 401
    assert "OPSGENIE_WEBHOOK_TOKEN" in answer.json()["error"]
    assert inbound.events == []
    assert unauthorized(metrics) == 1.0


def test_without_a_token_set_the_route_is_off(inbound: Inbound, metrics: Metrics) -> None:
    for client in (app(inbound, None, metrics), app(None, TOKEN, metrics)):
        answer = client.post("/webhooks/opsgenie", json=ACK, headers=GOOD)
        assert answer.status_code == 401
        assert answer.json()["error"] == "disabled: set OPSGENIE_WEBHOOK_TOKEN on the server"
    assert inbound.events == []


def test_malformed_json_is_400_with_the_problem(client: TestClient, inbound: Inbound) -> None:
    answer = client.post("/webhooks/opsgenie", content=b'{"action": ', headers=GOOD)
    assert answer.status_code == 400
    assert answer.json()["problems"][0].startswith("body is not valid JSON")
    assert inbound.events == []


def test_json_that_is_not_an_opsgenie_payload_is_422_with_the_problems(
    client: TestClient, inbound: Inbound
) -> None:
    answer = client.post("/webhooks/opsgenie", json={"alert": {}}, headers=GOOD)
    assert answer.status_code == 422
    assert answer.json()["problems"] == [
        "action is missing",
        "alert.alertId is missing or not an Opsgenie id",
    ]
    assert inbound.events == []


def test_an_action_the_bot_does_not_follow_is_200_and_ignored(
    client: TestClient, inbound: Inbound
) -> None:
    body: dict[str, Any] = json.loads(json.dumps(ACK)) | {"action": "AddTags"}
    answer = client.post("/webhooks/opsgenie", json=body, headers=GOOD)
    assert answer.status_code == 200
    assert answer.json() | {"result": ""} == {"ok": True, "incident_id": None, "result": ""}
    assert "ignored" in answer.json()["result"]
    assert inbound.events == []

"""`POST /webhooks/opsgenie`: Opsgenie's Webhook integration with its custom header
`Authorization: Bearer <OPSGENIE_WEBHOOK_TOKEN>`; events reach the inbound pager flow, anything
unauthorized or malformed does not."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.core.people import person
from bot.core.refusals import Refusal
from bot.emulators.opsgenie import OpsgenieEmulator
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
        self.answer = Outcome(True, "Acknowledged.", incident_id=1)

    def handle(self, event: PagerEvent) -> Outcome:
        self.events.append(event)
        return self.answer


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


def test_a_refused_event_is_answered_with_the_refusal_s_parts(
    inbound: Inbound, metrics: Metrics
) -> None:
    why = f"Only the incident commander ({person('U0ALICE')}) or an admin can close the incident."
    refusal = Refusal("close the incident", why, who=("U0ALICE",), fix="Ask the commander.")
    inbound.answer = Outcome.refused(refusal, 1)
    answer = app(inbound, TOKEN, metrics).post("/webhooks/opsgenie", json=ACK, headers=GOOD)
    assert answer.status_code == 200
    said = "Only the incident commander (@U0ALICE) or an admin can close the incident."
    assert answer.json() == {
        "ok": False,
        "incident_id": 1,
        "result": f"{said} Ask the commander.",  # as before: the whole in one sentence
        "refusal": {
            "what": "close the incident",
            "why": said,
            "fix": "Ask the commander.",
            "who": ["U0ALICE"],
        },
    }


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


class Forwarder:
    """A loopback HTTP endpoint handing each delivery, bytes and headers as received, to the
    app: the emulator's real webhook posts reach the route."""

    def __init__(self, client: TestClient) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = client.post("/webhooks/opsgenie", content=body, headers=headers)
                self.send_response(answer.status_code)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/opsgenie"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_the_emulators_webhook_integration_reaches_the_flow_with_opsgenies_times(
    client: TestClient, inbound: Inbound
) -> None:
    forwarder = Forwarder(client)
    try:
        with OpsgenieEmulator() as og:
            og.add_webhook(forwarder.url, headers=GOOD, actions={"Acknowledge", "Close"})
            og.add_webhook(forwarder.url, headers={"Authorization": "Bearer stale"})
            with httpx2.Client(
                base_url=og.url, headers={"Authorization": f"GenieKey {og.api_key}"}
            ) as api:
                api.post("/v2/alerts", json={"message": "Checkout is down", "alias": "inc-1"})
            og.acknowledge("inc-1", "bob@example.com", at=1_765_015_260.5)
            og.close("inc-1", "bob@example.com", at=1_765_015_900.0)
            refused = [d.status for d in og.deliveries if "stale" in str(d.headers)]
    finally:
        forwarder.close()
    assert [(e.action, e.page_key) for e in inbound.events] == [
        ("acknowledged", "inc-1"),
        ("resolved", "inc-1"),
    ]
    assert inbound.events[0].occurred_at == datetime(2025, 12, 6, 10, 1, 0, 500000, tzinfo=UTC)
    assert inbound.events[0].agent_email == "bob@example.com"
    assert refused == [401, 401, 401]  # the stale integration's Create, Acknowledge, Close

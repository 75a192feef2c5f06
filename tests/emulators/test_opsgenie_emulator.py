"""The Opsgenie emulator over real HTTP: the Alert API's async requests and alias
de-duplication, Who-is-on-call, Opsgenie's error bodies, the rate limit, and the outgoing
Webhook integration posting Opsgenie's payloads with the integration's custom header."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2
import pytest

from bot.emulators.opsgenie import OpsgenieEmulator

BOB = "bob@example.com"


class Receiver:
    """A stdlib HTTP endpoint recording what the webhook integration posts."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.received.append(
                    ({k.lower(): v for k, v in self.headers.items()}, json.loads(body))
                )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/opsgenie"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def og() -> Iterator[OpsgenieEmulator]:
    with OpsgenieEmulator() as emulator:
        yield emulator


@pytest.fixture
def client(og: OpsgenieEmulator) -> Iterator[httpx2.Client]:
    with httpx2.Client(
        base_url=og.url, headers={"Authorization": f"GenieKey {og.api_key}"}, timeout=5
    ) as c:
        yield c


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def create(client: httpx2.Client, **body: Any) -> dict[str, Any]:
    answer = client.post("/v2/alerts", json={"message": "Checkout is down", **body})
    assert answer.status_code == 202, answer.text
    data: dict[str, Any] = answer.json()
    return data


def test_create_is_accepted_and_its_request_status_names_the_alert(
    client: httpx2.Client,
) -> None:
    accepted = create(client, alias="inc-1", priority="P1")
    assert accepted["result"] == "Request will be processed"
    assert {"took", "requestId"} <= accepted.keys()
    status = client.get(f"/v2/alerts/requests/{accepted['requestId']}").json()["data"]
    assert status["isSuccess"] is True and status["action"] == "Create"
    assert status["alias"] == "inc-1"
    alert = client.get("/v2/alerts/inc-1", params={"identifierType": "alias"}).json()["data"]
    assert alert["id"] == status["alertId"]
    assert (alert["priority"], alert["status"], alert["count"]) == ("P1", "open", 1)
    by_id = client.get(f"/v2/alerts/{alert['id']}").json()["data"]
    assert by_id["alias"] == "inc-1"


def test_an_open_alert_with_the_same_alias_is_not_duplicated_its_count_goes_up(
    og: OpsgenieEmulator, client: httpx2.Client
) -> None:
    create(client, alias="inc-2")
    create(client, alias="inc-2")
    assert len(og.alerts()) == 1
    alert = client.get("/v2/alerts/inc-2", params={"identifierType": "alias"}).json()["data"]
    assert alert["count"] == 2


def test_a_closed_alias_opens_a_new_alert(og: OpsgenieEmulator, client: httpx2.Client) -> None:
    create(client, alias="inc-3")
    client.post("/v2/alerts/inc-3/close", params={"identifierType": "alias"}, json={})
    create(client, alias="inc-3")
    assert [a.status for a in og.alerts()] == ["closed", "open"]


def test_held_requests_are_not_found_until_processed(
    og: OpsgenieEmulator, client: httpx2.Client
) -> None:
    og.hold_requests()
    request_id = create(client, alias="inc-4")["requestId"]
    pending = client.get(f"/v2/alerts/requests/{request_id}")
    assert pending.status_code == 404
    assert pending.json()["message"] == "Request not found. It might not be processed, yet."
    assert client.get("/v2/alerts/inc-4", params={"identifierType": "alias"}).status_code == 404
    assert og.process() == 1
    assert client.get(f"/v2/alerts/requests/{request_id}").json()["data"]["isSuccess"] is True


def test_acknowledge_close_notes_and_responders_by_alias(
    og: OpsgenieEmulator, client: httpx2.Client
) -> None:
    create(client, alias="inc-5")
    alias = {"identifierType": "alias"}
    for path, body in [
        ("acknowledge", {"user": "incidentbot"}),
        ("notes", {"note": "paged from #inc-5"}),
        ("responders", {"responder": {"type": "team", "name": "database"}}),
        ("close", {}),
    ]:
        answer = client.post(f"/v2/alerts/inc-5/{path}", params=alias, json=body)
        assert answer.status_code == 202, answer.text
    alert = og.alert("inc-5")
    assert alert is not None
    assert (alert.acknowledged, alert.status) == (True, "closed")
    assert [n.note for n in alert.notes] == ["paged from #inc-5"]
    assert {"type": "team", "name": "database"} in alert.responders


def test_an_action_on_a_missing_alert_fails_in_its_request_status(client: httpx2.Client) -> None:
    answer = client.post("/v2/alerts/nope/acknowledge", params={"identifierType": "alias"}, json={})
    assert answer.status_code == 202
    status = client.get(f"/v2/alerts/requests/{answer.json()['requestId']}").json()["data"]
    assert (status["isSuccess"], status["status"]) == (False, "Alert does not exist")


def test_who_is_on_call_flat_by_schedule_name(client: httpx2.Client) -> None:
    answer = client.get(
        "/v2/schedules/checkout_schedule/on-calls",
        params={"scheduleIdentifierType": "name", "flat": "true"},
    )
    data = answer.json()["data"]
    assert data["_parent"]["name"] == "checkout_schedule"
    assert data["onCallRecipients"] == [BOB]
    missing = client.get("/v2/schedules/nope/on-calls", params={"scheduleIdentifierType": "name"})
    assert missing.status_code == 404 and "requestId" in missing.json()


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"message": ""}, "message", "Message can not be empty."),
        ({"message": "x", "priority": "P0"}, "priority", "should be one of [ P1, P2, P3, P4, P5 ]"),
        (
            {"message": "x", "responders": [{"type": "group", "name": "a"}]},
            "responders",
            "type should be one of [ team, user, escalation, schedule ]",
        ),
    ],
)
def test_validation_errors_are_422_in_opsgenies_words(
    client: httpx2.Client, body: dict[str, Any], field: str, words: str
) -> None:
    answer = client.post("/v2/alerts", json=body)
    assert answer.status_code == 422
    data = answer.json()
    assert data["message"] == "Request body is not processable. Please check the errors."
    assert data["errors"] == {field: words}
    assert {"took", "requestId"} <= data.keys()


def test_a_wrong_key_is_401_could_not_authenticate(og: OpsgenieEmulator) -> None:
    for auth in ("GenieKey wrong", f"Bearer {og.api_key}", ""):
        answer = httpx2.post(
            f"{og.url}/v2/alerts", json={"message": "x"}, headers={"Authorization": auth}
        )
        assert answer.status_code == 401
        assert answer.json()["message"] == "Could not authenticate"
    assert og.alerts() == []


def test_the_rate_limit_answers_429(og: OpsgenieEmulator, client: httpx2.Client) -> None:
    og.rate_limits = True
    og.set_rate_limit("alert", per_minute=1, burst=2)
    statuses = [client.post("/v2/alerts", json={"message": "x"}).status_code for _ in range(3)]
    assert statuses == [202, 202, 429]
    limited = client.post("/v2/alerts", json={"message": "x"})
    assert limited.headers["X-RateLimit-State"] == "THROTTLED"
    assert limited.json()["message"].startswith("You are making too many requests!")
    # another domain has its own bucket
    assert client.get("/v2/schedules/checkout_schedule/on-calls").status_code == 404


def test_the_on_call_acting_in_the_app_posts_the_webhook_with_the_custom_header(
    og: OpsgenieEmulator, client: httpx2.Client, receiver: Receiver
) -> None:
    og.add_webhook(receiver.url, headers={"Authorization": "Bearer hook-token"})
    create(client, alias="inc-6", description="details here")
    og.acknowledge("inc-6", BOB, at=1_700_000_060.5)
    og.add_note("inc-6", BOB, "rolling back")
    og.close("inc-6", BOB, at=1_700_000_600.0)
    actions = [payload["action"] for _, payload in receiver.received]
    assert actions == ["Create", "Acknowledge", "AddNote", "Close"]
    headers, ack = receiver.received[1]
    assert headers["authorization"] == "Bearer hook-token"
    assert ack["source"] == {"name": "", "type": "web"}
    assert {"integrationId", "integrationName"} <= ack.keys()
    alert = ack["alert"]
    assert (alert["alias"], alert["username"]) == ("inc-6", BOB)
    assert alert["updatedAt"] == 1_700_000_060_500_000_000  # nanoseconds
    assert isinstance(alert["createdAt"], int) and alert["createdAt"] < 10**14  # milliseconds
    assert alert["userId"] and alert["alertId"] and alert["tinyId"]
    assert receiver.received[2][1]["alert"]["note"] == "rolling back"
    create_payload = receiver.received[0][1]
    assert create_payload["source"]["type"] == "API"


def test_escalate_has_its_own_shape(
    og: OpsgenieEmulator, client: httpx2.Client, receiver: Receiver
) -> None:
    og.add_webhook(receiver.url, actions={"Escalate"})
    create(client, alias="inc-7")
    og.escalate("inc-7", "checkout_escalation", "dan@example.com")
    [(_, payload)] = receiver.received
    assert payload["action"] == "Escalate"
    assert payload["escalationName"] == "checkout_escalation"
    assert payload["escalationNotify"]["name"] == "dan@example.com"
    assert set(payload["alert"]) == {"alertId"}


def test_a_lost_answer_after_the_work_was_done(og: OpsgenieEmulator, client: httpx2.Client) -> None:
    og.fail("POST /v2/alerts", status=0, apply=True)
    with pytest.raises(httpx2.TransportError):
        client.post("/v2/alerts", json={"message": "x", "alias": "inc-8"})
    assert og.alert("inc-8") is not None


def test_the_control_acts_as_a_user_over_http_at_a_chosen_time(
    og: OpsgenieEmulator, client: httpx2.Client, receiver: Receiver
) -> None:
    og.add_webhook(receiver.url, actions={"Close"})
    create(client, alias="inc-9")
    answer = httpx2.post(
        f"{og.url}/_control/Close", json={"alias": "inc-9", "user": BOB, "at": 1_700_000_000}
    )
    assert answer.status_code == 200 and answer.json()["data"]["status"] == "closed"
    [(_, closed)] = receiver.received
    assert closed["alert"]["updatedAt"] == 1_700_000_000 * 10**9
    assert (
        httpx2.post(f"{og.url}/_control/Close", json={"alias": "nope", "user": BOB}).status_code
        == 404
    )
    assert httpx2.post(f"{og.url}/_control/Delete", json={}).status_code == 400

"""The PagerDuty emulator, exercised with the real ``pagerduty`` client (python-pagerduty, on
httpx2) and a tiny stdlib webhook receiver that checks signatures the way PagerDuty documents."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import ssl
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TypeVar

import httpx2
import pagerduty
import pytest

from bot.emulators.pagerduty import PagerDutyEmulator, signature
from bot.settings import Settings

ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"
V3_INCIDENT_KEYS = {
    "id",
    "type",
    "self",
    "html_url",
    "number",
    "status",
    "incident_key",
    "created_at",
    "title",
    "service",
    "assignees",
    "escalation_policy",
    "teams",
    "priority",
    "urgency",
    "conference_bridge",
    "resolve_reason",
}


# ---------------------------------------------------------------- receiver
def verify(secret: str, body: bytes, header: str) -> bool:
    """PagerDuty's documented check: any ``v1=`` signature equal to HMAC-SHA256(secret, body)."""
    expected = "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, item) for item in header.split(","))


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool

    @property
    def event(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)["event"]
        return data


class Receiver:
    """The bot's webhook endpoint: records, verifies, answers ``status`` (403 on a bad
    signature when ``reject_forged``), and may call ``on_event`` (e.g. the REST API) first."""

    def __init__(self, secret: str = "pd-webhook-secret") -> None:  # noqa: S107
        self.secret = secret
        self.status = 202
        self.reject_forged = True
        self.on_event: Callable[[Received], None] | None = None
        self.received: list[Received] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                ok = verify(receiver.secret, body, headers.get("x-pagerduty-signature", ""))
                got = Received(headers, body, ok)
                receiver.received.append(got)
                if receiver.on_event is not None:
                    receiver.on_event(got)
                status = 403 if receiver.reject_forged and not ok else receiver.status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/pagerduty"

    def types(self) -> list[str]:
        return [r.event["event_type"] for r in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- fixtures
@pytest.fixture
def pd() -> Iterator[PagerDutyEmulator]:
    with PagerDutyEmulator() as emulator:
        yield emulator


Client = TypeVar("Client", bound=httpx2.Client)
_OPEN: list[httpx2.Client] = []


def track(client: Client) -> Client:
    """The pagerduty clients are httpx2 clients: closed after each test."""
    _OPEN.append(client)
    return client


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def rest_client(pd: PagerDutyEmulator, **kw: Any) -> pagerduty.RestApiV2Client:
    """How the bot configures the client against the emulator: its CA, its URL."""
    tls = ssl.create_default_context(cafile=pd.ca_bundle)
    kw.setdefault("default_from", ALICE)
    token = kw.pop("token", pd.api_token)
    client = track(pagerduty.RestApiV2Client(token, base_url=pd.url, verify=tls, **kw))
    client.sleep_timer = 0.0  # never sleep between retries in tests
    return client


def events_client(
    pd: PagerDutyEmulator, service: str = "checkout-api", *, routing_key: str | None = None
) -> pagerduty.EventsApiV2Client:
    key = routing_key or pd.routing_key(service)
    client = track(pagerduty.EventsApiV2Client(key, base_url=pd.url, verify=pd.ssl_context()))
    client.sleep_timer = 0.0
    return client


@pytest.fixture
def rest(pd: PagerDutyEmulator) -> pagerduty.RestApiV2Client:
    return rest_client(pd)


@pytest.fixture
def hook(pd: PagerDutyEmulator) -> Iterator[Receiver]:
    receiver = Receiver(pd.webhook_secret)
    yield receiver
    receiver.close()


def refused(call: Callable[[], Any]) -> httpx2.Response:
    """The HTTP answer behind the client's HttpError."""
    with pytest.raises(pagerduty.HttpError) as info:
        call()
    response: httpx2.Response | None = info.value.response
    assert response is not None
    return response


def new_incident(
    rest: pagerduty.RestApiV2Client, pd: PagerDutyEmulator, title: str = "db down", **extra: Any
) -> dict[str, Any]:
    service = {
        "id": pd.service_id(extra.pop("service", "checkout-api")),
        "type": "service_reference",
    }
    body = {"type": "incident", "title": title, "service": service, **extra}
    incident: dict[str, Any] = rest.rpost("incidents", json=body)
    return incident


# ------------------------------------------------------------------- TLS
def test_tls_needs_the_emulator_ca(pd: PagerDutyEmulator) -> None:
    assert pd.url.startswith("https://127.0.0.1:")
    assert "BEGIN CERTIFICATE" in pd.ca_pem and Path(pd.ca_bundle).read_text() == pd.ca_pem
    with pytest.raises(pagerduty.UrlError):  # the client refuses plain HTTP base URLs
        pagerduty.RestApiV2Client(pd.api_token, base_url=pd.url.replace("https", "http"))
    untrusting = track(pagerduty.RestApiV2Client(pd.api_token, base_url=pd.url))  # system CAs
    untrusting.max_network_attempts = 0  # fail at once instead of retrying with sleeps
    with pytest.raises(pagerduty.Error) as info:
        untrusting.rget("users")
    assert "CERTIFICATE_VERIFY_FAILED" in repr(info.value.__cause__)
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(pd.url + "/users", context=ssl.create_default_context())
    assert pd.calls == []  # the handshake failed: no request ever reached the API
    assert [u["email"] for u in rest_client(pd).list_all("users")] == [ALICE, BOB, CAROL]


# ------------------------------------------------------------- REST basics
def test_wrong_token_is_401_with_pagerduty_error_body(pd: PagerDutyEmulator) -> None:
    error = refused(lambda: rest_client(pd, token="nope").rget("incidents"))
    assert error.status_code == 401
    assert error.json() == {"error": {"message": "Authentication failed", "code": 2006}}
    call = pd.calls[-1]
    assert (call.route, call.status) == ("GET /incidents", 401)
    assert call.headers["authorization"] == "Token token=nope"
    assert call.headers["accept"] == "application/vnd.pagerduty+json;version=2"


def test_create_needs_a_from_header_naming_a_user(pd: PagerDutyEmulator) -> None:
    anonymous = rest_client(pd, default_from=None)
    error = refused(lambda: new_incident(anonymous, pd))
    assert error.status_code == 400
    assert error.json()["error"] == {
        "message": 'You must specify a user\'s email address in the "From" header to perform'
        " this action",
        "code": 2016,
    }
    stranger = rest_client(pd, default_from="mallory@example.com")
    assert refused(lambda: new_incident(stranger, pd)).json()["error"]["code"] == 1008
    assert pd.incidents() == []


def test_create_incident_shape_and_duplicate_incident_key(
    pd: PagerDutyEmulator, rest: pagerduty.RestApiV2Client
) -> None:
    body = {"type": "incident_body", "details": "p99 > 2s"}
    inc = new_incident(rest, pd, "checkout slow", incident_key="k-1", urgency="low", body=body)
    assert re.fullmatch(r"P[A-Z0-9]{6}", inc["id"])
    assert inc["type"] == "incident" and inc["summary"] == "[#1] checkout slow"
    assert inc["self"] == f"{pd.url}/incidents/{inc['id']}"
    assert inc["html_url"] == f"https://incidentbot-emu.pagerduty.com/incidents/{inc['id']}"
    assert (inc["status"], inc["urgency"], inc["incident_key"]) == ("triggered", "low", "k-1")
    assert (
        inc["service"]["type"] == "service_reference"
        and inc["service"]["summary"] == "checkout-api"
    )
    assert inc["escalation_policy"]["id"] == pd.escalation_policy_id("checkout-api")
    assert [a["assignee"]["id"] for a in inc["assignments"]] == [pd.user_id("alice")]
    assert inc["body"] == body and inc["acknowledgements"] == [] and inc["incident_number"] == 1
    assert rest.rget(inc)["id"] == inc["id"]  # "self" is followable
    # PagerDuty refuses a second open incident with the same key on the same service …
    error = refused(lambda: new_incident(rest, pd, "again", incident_key="k-1"))
    assert error.status_code == 400
    assert error.json()["error"]["errors"] == [
        "Open incident with matching dedup key already exists on this service"
    ]
    # … accepts it on another service, and on the same one once the first is resolved.
    new_incident(rest, pd, "other", incident_key="k-1", service="payments")
    rest.rput(inc, json={"type": "incident_reference", "status": "resolved"})
    assert new_incident(rest, pd, "again", incident_key="k-1")["incident_number"] == 3
    assert len(rest.list_all("incidents", params={"incident_key": "k-1"})) == 3


def test_ack_and_resolve_via_put_and_invalid_transitions(
    pd: PagerDutyEmulator, rest: pagerduty.RestApiV2Client
) -> None:
    inc = new_incident(rest, pd)
    as_bob = rest_client(pd, default_from=BOB)
    acked = as_bob.rput(inc, json={"type": "incident_reference", "status": "acknowledged"})
    assert acked["status"] == "acknowledged"
    assert [a["acknowledger"]["id"] for a in acked["acknowledgements"]] == [pd.user_id("bob")]
    assert [a["assignee"]["id"] for a in acked["assignments"]] == [pd.user_id("bob")]
    assert acked["last_status_change_by"]["id"] == pd.user_id("bob")
    bad = refused(lambda: rest.rput(inc, json={"type": "incident", "status": "triggered"}))
    assert bad.json()["error"] == {"message": "Invalid Status Provided", "code": 1003}
    resolved = rest.rput(inc, json={"type": "incident_reference", "status": "resolved"})
    assert resolved["status"] == "resolved" and resolved["resolved_at"]
    assert resolved["assignments"] == [] and resolved["acknowledgements"] == []
    again = refused(lambda: rest.rput(inc, json={"type": "incident", "status": "acknowledged"}))
    assert again.json()["error"] == {"message": "Incident Already Resolved", "code": 1001}
    missing = refused(lambda: rest.rget("incidents/PNOPE01"))
    assert missing.status_code == 404
    assert missing.json()["error"] == {"message": "Not Found", "code": 2100}
    # Several at once, as PUT /incidents does.
    two = [new_incident(rest, pd, f"n{i}") for i in range(2)]
    many = [{"id": i["id"], "type": "incident_reference", "status": "acknowledged"} for i in two]
    updated = rest.rput("incidents", json=many)
    assert [i["status"] for i in updated] == ["acknowledged", "acknowledged"]
    put = pd.calls_to("PUT /incidents/{id}")[0]
    assert put.from_email == BOB and put.json["incident"]["status"] == "acknowledged"
    assert put.params == {"id": inc["id"]} and put.response["incident"]["status"] == "acknowledged"


def test_list_filters_and_classic_pagination(
    pd: PagerDutyEmulator, rest: pagerduty.RestApiV2Client
) -> None:
    made = [
        new_incident(rest, pd, f"i{n}", service="search" if n % 2 else "payments") for n in range(5)
    ]
    rest.rput(made[0], json={"type": "incident_reference", "status": "acknowledged"})
    everything = list(rest.iter_all("incidents", page_size=2))
    assert [i["id"] for i in everything] == [i["id"] for i in made]
    assert len(pd.calls_to("GET /incidents")) == 3  # 2 + 2 + 1
    page = rest.jget("incidents", params={"limit": 2, "offset": 2})
    assert (page["limit"], page["offset"], page["more"], page["total"]) == (2, 2, True, None)
    assert rest.get_total("incidents") == 5
    acked = rest.list_all("incidents", params={"statuses": ["acknowledged"]})
    assert [i["id"] for i in acked] == [made[0]["id"]]
    search = rest.list_all("incidents", params={"service_ids": [pd.service_id("search")]})
    assert len(search) == 2
    open_ = rest.list_all("incidents", params={"statuses[]": ["triggered", "acknowledged"]})
    assert len(open_) == 5
    bad = refused(lambda: rest.rget("incidents", params={"statuses": ["sleeping"]}))
    assert bad.json()["error"]["code"] == 2001


def test_escalate_reassign_delegate_and_priority_via_put(
    pd: PagerDutyEmulator, rest: pagerduty.RestApiV2Client, hook: Receiver
) -> None:
    pd.subscribe(hook.url)
    inc = new_incident(rest, pd)
    escalated = rest.rput(inc, json={"type": "incident_reference", "escalation_level": 2})
    assert [a["assignee"]["id"] for a in escalated["assignments"]] == [pd.user_id("bob")]
    carol = {"assignee": {"id": pd.user_id("carol"), "type": "user_reference"}}
    reassigned = rest.rput(inc, json={"type": "incident_reference", "assignments": [carol]})
    assert [a["assignee"]["summary"] for a in reassigned["assignments"]] == ["Carol Chen"]
    p1 = next(p for p in rest.list_all("priorities") if p["name"] == "P1")
    prio = rest.rput(
        inc,
        json={
            "type": "incident_reference",
            "priority": {"id": p1["id"], "type": "priority_reference"},
        },
    )
    assert prio["priority"]["summary"] == "P1"
    policy = {"id": pd.escalation_policy_id("payments"), "type": "escalation_policy_reference"}
    delegated = rest.rput(inc, json={"type": "incident_reference", "escalation_policy": policy})
    assert delegated["escalation_policy"]["summary"] == "payments escalation"
    assert hook.types() == [
        "incident.triggered",
        "incident.escalated",
        "incident.reassigned",
        "incident.priority_updated",
        "incident.delegated",
    ]
    assert hook.received[3].event["data"]["priority"]["summary"] == "P1"


def test_responder_requests(
    pd: PagerDutyEmulator, rest: pagerduty.RestApiV2Client, hook: Receiver
) -> None:
    pd.subscribe(hook.url, events=["incident.responder.added", "incident.responder.replied"])
    inc = new_incident(rest, pd)
    targets = [
        {"responder_request_target": {"id": pd.user_id("carol"), "type": "user_reference"}},
        {
            "responder_request_target": {
                "id": pd.escalation_policy_id("payments"),
                "type": "escalation_policy_reference",
            }
        },
    ]
    request = rest.rpost(
        f"incidents/{inc['id']}/responder_requests",
        json={
            "requester_id": pd.user_id("alice"),
            "message": "need db help",
            "responder_request_targets": targets,
        },
    )
    assert (
        request["requester"]["id"] == pd.user_id("alice") and request["message"] == "need db help"
    )
    kinds = [t["responder_request_target"]["type"] for t in request["responder_request_targets"]]
    assert kinds == ["user", "escalation_policy"]
    policy_target = request["responder_request_targets"][1]["responder_request_target"]
    assert [r["user"]["id"] for r in policy_target["incidents_responders"]] == [pd.user_id("bob")]
    responders = rest.rget(inc)["incidents_responders"]
    assert [(r["user"]["summary"], r["state"]) for r in responders] == [
        ("Carol Chen", "pending"),
        ("Bob Brown", "pending"),
    ]
    assert [r.event["data"]["type"] for r in hook.received] == ["incident_responder"] * 2
    assert hook.received[0].event["data"]["user"]["id"] == pd.user_id("carol")
    pd.reply_to_responder_request(inc["id"], "carol")
    assert hook.types()[-1] == "incident.responder.replied"
    assert hook.received[-1].event["data"]["state"] == "joined"
    bad = {"requester_id": "PNOBODY", "message": "x", "responder_request_targets": targets}
    error = refused(lambda: rest.rpost(f"incidents/{inc['id']}/responder_requests", json=bad))
    assert error.json()["error"]["code"] == 1008


def test_oncalls_services_policies_users(
    pd: PagerDutyEmulator, rest: pagerduty.RestApiV2Client
) -> None:
    policy = pd.escalation_policy_id("checkout-api")
    oncalls = rest.list_all(
        "oncalls", params={"escalation_policy_ids": [policy], "earliest": "true"}
    )
    assert [(o["escalation_level"], o["user"]["summary"]) for o in oncalls] == [
        (1, "Alice Anders"),
        (2, "Bob Brown"),
    ]
    assert oncalls[0]["schedule"]["type"] == "schedule_reference" and oncalls[0]["start"]
    assert oncalls[1]["schedule"] is None and oncalls[1]["end"] is None
    pd.set_oncall(policy, "carol")
    by_schedule = rest.list_all("oncalls", params={"schedule_ids": [oncalls[0]["schedule"]["id"]]})
    assert [o["user"]["summary"] for o in by_schedule] == ["Carol Chen"]
    mine = rest.list_all("oncalls", params={"user_ids": [pd.user_id("carol")]})
    assert {o["escalation_policy"]["summary"] for o in mine} == {
        "checkout-api escalation",
        "payments escalation",
        "search escalation",
    }
    bob = rest.find("users", BOB, attribute="email")
    assert bob is not None and (bob["name"], bob["time_zone"]) == ("Bob Brown", "Europe/Berlin")
    assert rest.rget(f"users/{bob['id']}")["email"] == BOB
    services = rest.list_all("services", params={"include[]": ["integrations"]})
    keys = {s["name"]: s["integrations"][0]["integration_key"] for s in services}
    assert keys == pd.routing_keys and all(len(k) == 32 for k in keys.values())
    checkout = rest.rget(f"services/{pd.service_id('checkout-api')}")
    assert checkout["escalation_policy"]["id"] == policy and checkout["status"] == "active"
    ep = rest.rget(f"escalation_policies/{policy}")
    assert [r["targets"][0]["type"] for r in ep["escalation_rules"]] == [
        "schedule_reference",
        "user_reference",
    ]
    assert rest.subdomain == "incidentbot-emu"
    extra = pd.add_service("ledger")
    assert extra["routing_key"] == pd.routing_key("ledger") and extra["id"].startswith("PSVC")
    assert pd.oncall(extra["escalation_policy_id"]) == [pd.user_id("alice")]


def test_notes_and_log_entries(
    pd: PagerDutyEmulator, rest: pagerduty.RestApiV2Client, hook: Receiver
) -> None:
    pd.subscribe(hook.url, events=["incident.annotated"])
    inc = new_incident(rest, pd)
    note = rest.rpost(f"incidents/{inc['id']}/notes", json={"content": "rolled back"})
    assert note["content"] == "rolled back" and note["user"]["id"] == pd.user_id("alice")
    assert hook.received[0].event["data"] == {
        "incident": hook.received[0].event["data"]["incident"],
        "id": note["id"],
        "content": "rolled back",
        "trimmed": False,
        "type": "incident_note",
    }
    rest.rput(inc, json={"type": "incident_reference", "status": "resolved"})
    types = [e["type"] for e in rest.iter_all(f"incidents/{inc['id']}/log_entries")]
    assert types[0] == "resolve_log_entry" and types[-1] == "trigger_log_entry"  # newest first
    assert "annotate_log_entry" in types


# ------------------------------------------------------------------ events
def test_events_trigger_dedupe_ack_resolve(pd: PagerDutyEmulator, hook: Receiver) -> None:
    pd.subscribe(hook.url)
    events = events_client(pd)
    key = events.trigger(
        "disk full on db-1",
        "db-1",
        dedup_key="db-1/disk",
        severity="error",
        custom_details={"free": "1%"},
    )
    assert key == "db-1/disk"
    first = pd.incident_by_key(key)
    assert first is not None and first["title"] == "disk full on db-1"
    assert first["first_trigger_log_entry"]["type"] == "trigger_log_entry_reference"
    assert events.trigger("disk full on db-1", "db-1", dedup_key=key) == key
    assert len(pd.incidents()) == 1 and first["alert_counts"]["all"] == 1  # same alert
    events.acknowledge(key)
    acked = pd.incident(first["id"])
    assert acked is not None and acked["status"] == "acknowledged"
    assert acked["acknowledgements"][0]["acknowledger"]["type"] == "service_reference"
    events.resolve(key)
    assert pd.incident(first["id"])["status"] == "resolved"  # type: ignore[index]
    events.resolve(key)  # nothing open with that key: accepted and dropped
    assert pd.events()[-1]["incident_id"] is None
    second = events.trigger("disk full again", "db-1", dedup_key=key)
    assert second == key and len(pd.incidents()) == 2  # a trigger after resolve opens anew
    generated = events.trigger("no key", "web-3")
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    assert hook.types() == [
        "incident.triggered",
        "incident.acknowledged",
        "incident.resolved",
        "incident.triggered",
        "incident.triggered",
    ]
    agent = hook.received[0].event["agent"]
    assert (agent["type"], agent["summary"]) == ("service_reference", "checkout-api")
    # Incidents made by events are ordinary incidents for the REST API.
    rest = rest_client(pd)
    found = rest.list_all("incidents", params={"incident_key": key, "statuses": ["triggered"]})
    assert [i["title"] for i in found] == ["disk full again"]
    assert [e["event_action"] for e in pd.events()] == [
        "trigger",
        "trigger",
        "acknowledge",
        "resolve",
        "resolve",
        "trigger",
        "trigger",
    ]


def test_invalid_events_are_answered_like_pagerduty(pd: PagerDutyEmulator) -> None:
    events = events_client(pd)

    def send(body: Any = None, content: bytes | None = None) -> tuple[int, Any]:
        response = (
            events.post("/v2/enqueue", json=body)
            if content is None
            else events.post(
                "/v2/enqueue", content=content, headers={"Content-Type": "application/json"}
            )
        )
        return response.status_code, response.json()

    status, body = send({"event_action": "trigger", "payload": {"summary": "s"}})
    assert status == 400
    assert body == {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": [
            "'payload.source' is missing or blank",
            "'payload.severity' is missing or blank",
        ],
    }
    status, body = send({"event_action": "acknowledge"})
    assert body["errors"] == ["'dedup_key' is missing or blank"]
    _, body = send(
        {"event_action": "trigger", "payload": {"summary": "s", "source": "h", "severity": "fatal"}}
    )
    assert body["errors"] == [
        "'payload.severity' is invalid (must be one of: critical, error, warning, info)"
    ]
    wrong = events_client(pd, routing_key="short-key!")
    error = refused(lambda: wrong.trigger("s", "h"))
    assert error.json()["errors"] == [
        "Length of 'routing_key' is incorrect (should be 32 characters)",
        "'routing_key' cannot contain non-alphanumeric characters.",
    ]
    unknown = events_client(pd, routing_key="0" * 32)
    error = refused(lambda: unknown.trigger("s", "h"))
    assert (error.status_code, error.json()["errors"]) == (
        400,
        ["Invalid routing key"],
    )
    status, body = send(content=b"{not json")
    assert (status, body["status"], body["errors"]) == (
        400,
        "Unrecognized object",
        ["JSON parse error"],
    )
    assert pd.incidents() == [] and pd.events() == []


# ------------------------------------------------------- limits and faults
def test_rate_limits_answer_429_and_how_the_client_reacts(pd: PagerDutyEmulator) -> None:
    pd.rate_limits = True
    pd.set_rate_limit("rest", per_minute=0.6, burst=2)  # no refill during the test
    rest = rest_client(pd)
    rest.retry[429] = 1  # default: retry 429 forever, sleeping 1.5 s x 2^n between attempts
    rest.rget("users")
    rest.rget("users")
    error = refused(lambda: rest.rget("users"))
    assert error.status_code == 429
    assert error.json() == {"error": {"message": "Rate Limit Exceeded", "code": 2020}}
    assert error.headers["ratelimit-limit"] == "2"
    assert error.headers["ratelimit-remaining"] == "0"
    assert int(error.headers["ratelimit-reset"]) >= 1
    assert "retry-after" not in error.headers  # PagerDuty documents ratelimit-* only
    assert [c.status for c in pd.calls] == [200, 200, 429, 429]  # one retry, then given up
    pd.set_rate_limit("events", per_minute=0.6, burst=1)
    events = events_client(pd)
    events.retry[429] = 1
    events.trigger("one", "h")
    error = refused(lambda: events.trigger("two", "h"))
    assert error.status_code == 429 and len(pd.incidents()) == 1
    assert len(pd.calls_to("POST /v2/enqueue")) == 3


def test_documented_limits_are_rolling_minutes_per_key_across_callers(
    pd: PagerDutyEmulator,
) -> None:
    """Events API v2: about 120 a minute per routing key, "over a 60 second window looking back
    from the current time", whoever sends them; another routing key has its own window."""
    pd.rate_limits = True
    first, second = events_client(pd), events_client(pd)
    for caller in (first, second):
        caller.retry[429] = 1  # one quick retry (the bot's setting), then the error
    for i in range(120):
        (first if i % 2 else second).trigger(f"event {i}", "storm-host", dedup_key=f"d{i % 3}")
    for caller in (first, second):
        assert refused(lambda c=caller: c.trigger("one too many", "h")).status_code == 429
    assert events_client(pd, "payments").trigger("another key", "h")
    statuses = [c.status for c in pd.calls_to("POST /v2/enqueue")]
    assert statuses.count(429) == 4 and statuses[-1] == 202


def test_default_client_retries_429_until_it_gets_through(pd: PagerDutyEmulator) -> None:
    pd.fail("GET /users", status=429, times=3)
    rest = rest_client(pd)  # retry[429] unset: unlimited retries (sleep_timer=0 here)
    assert len(rest.list_all("users")) == 3
    assert [c.status for c in pd.calls_to("GET /users")] == [429, 429, 429, 200]


def test_5xx_and_dropped_connections(
    pd: PagerDutyEmulator, rest: pagerduty.RestApiV2Client
) -> None:
    pd.fail("POST /incidents", status=500)
    with pytest.raises(pagerduty.ServerHttpError) as info:  # REST: no retry on 500 by default
        new_incident(rest, pd)
    assert info.value.response is not None and pd.incidents() == []
    assert info.value.response.json()["error"]["code"] == 2000
    rest.retry[503] = 2
    pd.fail("*", status=503, times=2, delay=0.01)
    assert new_incident(rest, pd)["status"] == "triggered"
    # PagerDuty did the work but the answer was lost: a blind retry hits the dedup check.
    pd.fail("POST /incidents", status=502, apply=True)
    error = refused(lambda: new_incident(rest, pd, "lost", incident_key="once"))
    assert error.status_code == 502 and pd.incident_by_key("once") is not None
    assert refused(lambda: new_incident(rest, pd, "lost", incident_key="once")).status_code == 400
    pd.fail("GET /oncalls", status=0)  # connection dropped: the client's network retry
    assert len(rest.list_all("oncalls")) == 6
    events = events_client(pd)  # the Events client retries 500 twice by default
    pd.fail("POST /v2/enqueue", status=500, times=2)
    assert events.trigger("flaky", "h", dedup_key="f") == "f"
    assert [c.status for c in pd.calls_to("POST /v2/enqueue")] == [500, 500, 202]
    assert pd.pending_faults() == 0


# ---------------------------------------------------------------- webhooks
def test_webhooks_are_signed_shaped_and_delivered_before_the_answer(
    pd: PagerDutyEmulator, rest: pagerduty.RestApiV2Client, hook: Receiver
) -> None:
    sub = pd.subscribe(hook.url)
    inc = new_incident(rest, pd, "checkout 500s", incident_key="c5")
    assert len(hook.received) == 1  # synchronous: delivered before POST /incidents returned
    got = hook.received[0]
    assert got.signature_ok
    assert got.headers["x-pagerduty-signature"] == signature(pd.webhook_secret, got.body)
    assert got.headers["user-agent"] == "PagerDuty-Webhook/V3.0"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-webhook-subscription"] == sub
    assert re.fullmatch(r"[0-9a-f-]{36}", got.headers["x-webhook-id"])
    event = got.event
    assert re.fullmatch(r"[0-9A-Z]{26}", event["id"])
    assert (event["event_type"], event["resource_type"]) == ("incident.triggered", "incident")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event["occurred_at"])
    assert event["agent"]["type"] == "user_reference" and event["agent"]["id"] == pd.user_id(
        "alice"
    )
    data = event["data"]
    assert set(data) == V3_INCIDENT_KEYS
    assert (data["id"], data["number"], data["status"], data["incident_key"]) == (
        inc["id"],
        1,
        "triggered",
        "c5",
    )
    assert [a["summary"] for a in data["assignees"]] == ["Alice Anders"]
    pd.acknowledge(inc["id"], "alice")
    pd.resolve(inc["id"], "bob")
    assert hook.types() == ["incident.triggered", "incident.acknowledged", "incident.resolved"]
    resolved = hook.received[-1].event
    assert resolved["data"]["status"] == "resolved" and resolved["agent"]["summary"] == "Bob Brown"
    assert resolved["client"] == {"name": "PagerDuty"}
    deliveries = pd.webhook_deliveries(subscription_id=sub)
    assert [(d.status, d.attempt, d.ok) for d in deliveries] == [(202, 1, True)] * 3
    assert deliveries[0].body == got.body and deliveries[0].payload["event"]["id"] == event["id"]
    assert len(pd.webhook_events(incident_id=inc["id"])) == 3


def test_rejected_webhooks_are_recorded_and_redelivered_identically(
    pd: PagerDutyEmulator, hook: Receiver
) -> None:
    pd.subscribe(hook.url)
    hook.status = 500
    inc = pd.trigger_incident("payments", "card auth failing", by="bob")
    failed = pd.webhook_deliveries()[0]
    assert (failed.status, failed.ok, failed.retryable) == (500, False, True)
    hook.status = 202
    again = pd.redeliver(failed.event_id)[0]
    assert (again.status, again.attempt) == (202, 2)
    first, second = hook.received
    assert second.body == first.body  # identical bytes …
    assert second.headers["x-webhook-id"] == first.headers["x-webhook-id"]  # … same webhook id
    hook.status = 429
    pd.acknowledge(inc["id"], "bob")
    hook.status = 202
    retried = pd.retry_failed_webhooks()
    assert [(d.event_type, d.attempt, d.status) for d in retried] == [
        ("incident.acknowledged", 2, 202)
    ]
    hook.status = 410  # other 4xx: PagerDuty drops the webhook, no retry
    pd.resolve(inc["id"], "bob")
    assert pd.webhook_deliveries()[-1].retryable is False and pd.retry_failed_webhooks() == []
    dead = pd.subscribe("http://127.0.0.1:9/nowhere", events=["incident.reopened"])
    pd.reopen(inc["id"], "bob")
    lost = pd.webhook_deliveries(subscription_id=dead)[0]
    assert lost.status == 0 and lost.error is not None and lost.error.startswith("connection_error")


def test_secret_rotation_signs_with_every_active_secret(
    pd: PagerDutyEmulator, hook: Receiver
) -> None:
    sub = pd.subscribe(hook.url, secrets=["old-secret", "new-secret"])
    hook.secret = "old-secret"
    inc = pd.trigger_incident("search", "slow queries")
    header = hook.received[0].headers["x-pagerduty-signature"]
    body = hook.received[0].body
    assert header == f"{signature('old-secret', body)},{signature('new-secret', body)}"
    assert hook.received[0].signature_ok and verify("new-secret", body, header)
    pd.subscription(sub).secrets = ["new-secret"]  # rotation done
    hook.secret = "new-secret"
    pd.acknowledge(inc["id"], "carol")
    assert (
        hook.received[1].signature_ok
        and "," not in hook.received[1].headers["x-pagerduty-signature"]
    )
    assert not verify(
        "old-secret", hook.received[1].body, hook.received[1].headers["x-pagerduty-signature"]
    )


def test_forged_and_unsigned_webhooks(pd: PagerDutyEmulator, hook: Receiver) -> None:
    forged = pd.subscribe(hook.url, signature="v1=" + "0" * 64, events=["incident.triggered"])
    unsigned = pd.subscribe(hook.url, unsigned=True, events=["incident.triggered"])
    honest = pd.subscribe(hook.url, events=["incident.triggered"])
    pd.trigger_incident("checkout-api", "forgery test")
    by_sub = {r.headers["x-webhook-subscription"]: r for r in hook.received}
    assert not by_sub[forged].signature_ok and not by_sub[unsigned].signature_ok
    assert "x-pagerduty-signature" not in by_sub[unsigned].headers
    assert by_sub[honest].signature_ok
    statuses = {d.subscription_id: d.status for d in pd.webhook_deliveries()}
    assert statuses == {forged: 403, unsigned: 403, honest: 202}
    event_id = pd.webhook_deliveries(subscription_id=honest)[0].event_id
    tampered = pd.redeliver(event_id, subscription_id=honest, signature="v1=bad")
    assert (
        tampered[0].status == 403 and hook.received[-1].headers["x-pagerduty-signature"] == "v1=bad"
    )


def test_human_helpers_and_subscription_filters(pd: PagerDutyEmulator, hook: Receiver) -> None:
    pd.subscribe(hook.url, services=["payments"])
    resolved_only = Receiver(pd.webhook_secret)
    try:
        pd.subscribe(resolved_only.url, events=["incident.resolved"])
        inc = pd.trigger_incident("payments", "refunds stuck", by="bob")["id"]
        pd.trigger_incident("search", "not for this subscription")
        pd.acknowledge(inc, "bob")
        pd.unacknowledge(inc)  # the ack timed out
        pd.escalate(inc)  # to level 2: carol
        pd.reassign(inc, ["alice"], by="carol")
        pd.delegate(inc, pd.escalation_policy_id("search"), by="alice")
        pd.set_priority(inc, "P2", by="alice")
        pd.add_note(inc, "alice", "restarted the worker")
        pd.resolve(inc, "alice")
        pd.reopen(inc, "alice")
        assert hook.types() == [
            "incident.triggered",
            "incident.acknowledged",
            "incident.unacknowledged",
            "incident.escalated",
            "incident.reassigned",
            "incident.delegated",
            "incident.priority_updated",
            "incident.annotated",
            "incident.resolved",
            "incident.reopened",
        ]
        events = [r.event for r in hook.received]
        assert events[2]["agent"] is None and events[2]["data"]["status"] == "triggered"
        assert [a["summary"] for a in events[3]["data"]["assignees"]] == ["Carol Chen"]
        assert events[5]["data"]["escalation_policy"]["summary"] == "search escalation"
        assert events[-1]["data"]["status"] == "triggered"
        assert resolved_only.types() == ["incident.resolved"]
        pd.resolve(inc, "alice")
        with pytest.raises(ValueError, match="Incident Already Resolved"):
            pd.resolve(inc, "alice")
    finally:
        resolved_only.close()


def test_a_bot_that_calls_back_while_handling_a_webhook(
    pd: PagerDutyEmulator, rest: pagerduty.RestApiV2Client, hook: Receiver
) -> None:
    """Re-entrant: the webhook handler acknowledges through the REST API. No deadlock, and
    both webhooks are delivered, in order, before the original POST returns."""
    pd.subscribe(hook.url)
    bot = rest_client(pd, default_from=CAROL)

    def ack_on_trigger(got: Received) -> None:
        event = got.event
        if event["event_type"] == "incident.triggered":
            bot.rput(
                f"incidents/{event['data']['id']}",
                json={"type": "incident_reference", "status": "acknowledged"},
            )

    hook.on_event = ack_on_trigger
    inc = new_incident(rest, pd)
    assert hook.types() == ["incident.triggered", "incident.acknowledged"]
    assert pd.incident(inc["id"])["status"] == "acknowledged"  # type: ignore[index]


def test_async_webhooks_mode(hook: Receiver) -> None:
    with PagerDutyEmulator(async_webhooks=True) as pd:
        pd.subscribe(hook.url)
        pd.trigger_incident("search", "async")
        assert pd.wait_for_webhooks(5.0)
        assert hook.types() == ["incident.triggered"]


def test_module_entry_point_prints_what_clients_need() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.emulators.pagerduty", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    with proc.stdout:
        try:
            lines = [proc.stdout.readline() for _ in range(12)]
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    settings = dict(line.strip().split("=", 1) for line in lines if not line.startswith("#"))
    assert set(settings) == {
        "PAGERDUTY_API_URL",
        "PAGERDUTY_EVENTS_URL",
        "PAGERDUTY_API_TOKEN",
        "PAGERDUTY_CA_BUNDLE",
        "PAGERDUTY_WEBHOOK_SECRETS",
        "PAGERDUTY_FROM_EMAIL",
        "PAGERDUTY_SERVICE_ID",
        "PAGERDUTY_ESCALATION_POLICY_ID",
    }
    assert {name.lower() for name in settings} <= set(Settings.model_fields)  # names it reads
    assert settings["PAGERDUTY_API_URL"].startswith("https://127.0.0.1:")
    assert settings["PAGERDUTY_API_TOKEN"] == "pd-test-token"
    assert settings["PAGERDUTY_CA_BUNDLE"].endswith("ca.pem")
    assert settings["PAGERDUTY_SERVICE_ID"] == "PSVC001"
    assert settings["PAGERDUTY_FROM_EMAIL"] == "alice@example.com"  # a seeded PagerDuty user
    assert any(
        re.match(
            r"# service checkout-api: id=PSVC001 policy=PEP0001 routing_key=[0-9a-f]{32}$", line
        )
        for line in lines
    )

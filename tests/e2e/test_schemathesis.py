"""schemathesis over the bot's own OpenAPI document (GET /openapi.json), against a running bot
over real HTTP: valid and malformed cases for every operation, the bearer tokens right and the
PagerDuty events correctly signed over the exact bytes sent, so the payloads reach the handlers.
Every answer is checked against the document: never a 5xx, only documented status codes and
content types, JSON that matches the documented schema. Also: the document covers every route
of the app and nothing else, and is served without credentials. SQLite only (the hypothesis
fuzz modules cover PostgreSQL)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from starlette.routing import Route

from bot.emulators.pagerduty import signature
from bot.sandbox import ALERT_TOKEN, API_TOKEN
from bot.web.openapi import document
from tests.e2e.fuzz_rig import Fuzz, sandbox

EXAMPLES = 60  # per operation and generation mode
MIN_SENT = 1_000
SENT: Counter[str] = Counter()  # cases sent, per operation
ANSWERS: defaultdict[str, Counter[int]] = defaultdict(Counter)  # status codes, per operation
# What the bot must have taken at least once: the credentials and signatures are right, and the
# generated bodies get past the checks to the flows.
TAKEN = ("POST /webhooks/alertmanager", "POST /webhooks/grafana", "POST /webhooks/pagerduty")
# Where the credentials sent must never be refused (401)
AUTHENTICATED = (
    *TAKEN,
    "POST /webhooks/datadog",
    "POST /webhooks/newrelic",
    "GET /api/incidents",
    "GET /api/incidents/{incident_id}",
    "GET /api/metrics",
    "POST /api/incidents/import",
    "GET /",
    "GET /incidents/{incident_id}",
)

schemathesis.serializer.alias("application/x-ndjson", "text/plain")  # JSON lines: text
schema = schemathesis.openapi.from_dict(document()).exclude(
    path="/slack/events"  # Bolt checks Slack's signature first; tests/e2e/test_fuzz_slack.py
)


@pytest.fixture(scope="module", params=["sqlite"])
def fz(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    # The cases with a hostile Authorization are wrong guesses from one address: past the
    # throttle's 10 a minute the cases with the right one would meet a 429, not the handlers.
    yield from sandbox(request, tmp_path_factory, auth_failures_per_minute=1_000_000)


@pytest.fixture(scope="module")
def session() -> Iterator[requests.Session]:
    with requests.Session() as http:
        yield http


class PagerDutySigned(requests.auth.AuthBase):
    """Signs the exact body schemathesis serialised, as PagerDuty does."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        raw = body.encode() if isinstance(body, str) else body
        assert isinstance(raw, bytes)  # schemathesis serialises the body before sending
        request.headers["X-PagerDuty-Signature"] = signature(self.secret, raw)
        return request


def credentials(path: str, fz: Fuzz) -> dict[str, Any]:
    if path.startswith("/webhooks/pagerduty"):
        return {"auth": PagerDutySigned(fz.sb.pagerduty.webhook_secret)}
    if path.startswith("/webhooks/"):
        return {"headers": {"Authorization": f"Bearer {ALERT_TOKEN}"}}
    return {"headers": {"Authorization": f"Bearer {API_TOKEN}"}}


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented(
    case: schemathesis.Case[Any], fz: Fuzz, session: requests.Session
) -> None:
    response = case.call(
        base_url=fz.sb.url,
        session=session,
        allow_redirects=False,
        timeout=30,
        **credentials(case.operation.path, fz),
    )
    SENT[case.operation.label] += 1
    if not schema.is_security_param_negated(case):  # else a hostile Authorization, rightly 401
        ANSWERS[case.operation.label][response.status_code] += 1
    case.validate_response(
        response,
        checks=[
            checks.not_a_server_error,
            checks.status_code_conformance,
            checks.content_type_conformance,
            checks.response_schema_conformance,
        ],
    )


def test_the_document_covers_every_route_and_nothing_else(fz: Fuzz) -> None:
    served = {
        (route.path, method.lower())
        for route in fz.sb.bot.web.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {(path, method) for path, item in document()["paths"].items() for method in item}
    assert served == documented


def test_the_document_is_served_without_credentials(fz: Fuzz) -> None:
    response = fz.http.get("/openapi.json")
    assert response.status_code == 200
    assert response.json() == document()
    assert response.json()["components"]["securitySchemes"]["apiToken"]["scheme"] == "bearer"


def test_zz_sent_enough_and_the_bot_is_healthy(fz: Fuzz, request: pytest.FixtureRequest) -> None:
    total = sum(SENT.values())
    print(f"\nschemathesis: {total} cases sent: {dict(sorted(SENT.items()))}")
    print(f"answers: { {op: dict(codes) for op, codes in sorted(ANSWERS.items())} }")
    assert fz.http.get("/healthz").json() == {"ok": True, "database": "ok"}
    refused = {
        op: codes[401] for op, codes in ANSWERS.items() if op in AUTHENTICATED and codes[401]
    }
    assert refused == {}, "credentials refused: the cases did not reach the handlers"
    for op in TAKEN:
        if ANSWERS[op]:
            assert ANSWERS[op][200] > 0, f"{op}: no case taken: {dict(ANSWERS[op])}"
    ran = [i for i in request.session.items if "test_every_operation" in i.name]
    if len(ran) == len(list(schema.get_all_operations())):
        assert total >= MIN_SENT, f"only {total} schemathesis cases sent"

"""Fuzzing every POST endpoint with raw bodies that are barely or not at all JSON: deep
nesting, huge numbers, NaN, binary, truncated, other encodings, odd content types — with the
right credentials (Slack's and PagerDuty's signatures computed over the hostile bytes) and
without. Never a 5xx; afterwards the bot is healthy and its database consistent."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from hypothesis import given, strategies as st

from bot.emulators.pagerduty import signature
from bot.emulators.slack.transport import sign
from bot.sandbox import ALERT_TOKEN, API_TOKEN
from tests.e2e.fuzz_rig import MIN_SENT_BY_MODULE, Fuzz, aftermath, sandbox
from tests.e2e.hostile import JSON_VALUES, TEXT
from tests.fixtures.alerts import alertmanager

MIN_SENT = MIN_SENT_BY_MODULE["bodies"]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fz(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    yield from sandbox(request, tmp_path_factory)


BODY_KINDS = [
    "json",
    "deep",
    "bigint",
    "binary",
    "text",
    "truncated",
    "nan",
    "encoding",
    "empty",
    "form",
]


@st.composite
def raw_bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(BODY_KINDS))
    if kind == "json":
        return json.dumps(draw(JSON_VALUES)).encode()
    if kind == "deep":
        depth = draw(st.one_of(st.integers(1, 40), st.integers(900, 3000)))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        middle = "1" if opener != "[" else ""
        close = draw(st.booleans())
        body = opener * depth + middle + (closer * depth if close else "")
        return (draw(st.sampled_from(["", "payload="])) + body).encode()
    if kind == "bigint":
        digits = draw(st.integers(4000, 6000))
        return b'{"version": "4", "truncatedAlerts": ' + b"9" * digits + b"}"
    if kind == "binary":
        return draw(st.binary(max_size=300))
    if kind == "text":
        return draw(TEXT).encode("utf-8", "surrogatepass")
    if kind == "truncated":
        body = json.dumps(alertmanager()).encode()
        return body[: draw(st.integers(0, len(body) - 1))]
    if kind == "nan":
        return b'{"version": NaN, "groupKey": Infinity, "status": -Infinity, "alerts": [1e999]}'
    if kind == "encoding":
        codec = draw(st.sampled_from(["utf-16", "utf-32", "latin-1", "cp1252"]))
        return json.dumps(alertmanager(), ensure_ascii=False).replace("5xx", "5xx é").encode(codec)
    if kind == "form":  # Slack's shapes: a slash command's fields, an interaction's payload
        value = draw(st.one_of(TEXT, JSON_VALUES.map(json.dumps)))
        key = draw(st.sampled_from(["payload", "command", "text", "token", "ssl_check"]))
        return f"{key}={value}&team_id=T1&user_id=U1".encode("utf-8", "surrogatepass")
    return b""


CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-16",
        "application/x-www-form-urlencoded",
        "text/plain",
        "application/x-ndjson",
        "multipart/form-data; boundary=x",
        "",
    ]
)


def test_fuzz_raw_bodies(fz: Fuzz) -> None:
    """Eight per example: the body to the alert webhooks with their token, to PagerDuty's
    signed, to the import as JSON and as JSON lines, to Slack signed and unsigned (401 or
    400), and to Alertmanager's without the token (401)."""
    slack_secret = fz.sb.slack.signing_secret

    @fz.examples(600)
    @given(body=raw_bodies(), content_type=CONTENT_TYPES)
    def run(body: bytes, content_type: str) -> None:
        alert = {"Authorization": f"Bearer {ALERT_TOKEN}", "Content-Type": content_type}
        for source in ("alertmanager", "grafana"):
            fz.send(source, "POST", f"/webhooks/{source}", content=body, headers=alert)
        signed = {
            "X-PagerDuty-Signature": signature(fz.sb.pagerduty.webhook_secret, body),
            "Content-Type": content_type,
        }
        fz.send("pagerduty", "POST", "/webhooks/pagerduty", content=body, headers=signed)
        for kind in ("application/json", "application/x-ndjson"):
            headers = {"Authorization": f"Bearer {API_TOKEN}", "Content-Type": kind}
            fz.send("import", "POST", "/api/incidents/import", content=body, headers=headers)
        now = int(time.time())
        slack = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(now),
            "X-Slack-Signature": sign(slack_secret, now, body),
        }
        fz.send("slack", "POST", "/slack/events", content=body, headers=slack)
        unsigned = {"Content-Type": content_type}
        refused = fz.send("slack", "POST", "/slack/events", content=body, headers=unsigned)
        assert refused.status_code in (400, 401), refused.text
        refused = fz.send(
            "alertmanager",
            "POST",
            "/webhooks/alertmanager",
            content=body,
            headers={"Authorization": "Bearer not-the-token"},
        )
        assert refused.status_code == 401

    run()


def test_zz_healthy_and_consistent(fz: Fuzz, request: pytest.FixtureRequest) -> None:
    aftermath(fz, request, MIN_SENT)

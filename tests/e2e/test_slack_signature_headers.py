"""Slack signature headers no Slack request carries (a timestamp that is not decimal digits, a
signature that is not `v0=` + 64 hex digits) are refused with a 401 before Bolt sees them: no 500,
no traceback in the log, nothing written, and each counted as a refused credential."""

from __future__ import annotations

import logging

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.sandbox import Sandbox
from tests.e2e.conftest import People, api
from tests.e2e.hostile import BAD_SIGNATURES, BAD_TIMESTAMPS

CASES = [{"X-Slack-Request-Timestamp": t} for t in BAD_TIMESTAMPS] + [
    {"X-Slack-Signature": s} for s in BAD_SIGNATURES
]


def test_malformed_signature_headers_are_a_counted_401_without_a_traceback(
    sb: Sandbox, people: People, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for headers in CASES:
        reply = sb.slack.send_command(
            people.alice, people.general, "declare sev1 Forged", extra_headers=headers
        )
        assert reply.status == 401, (headers, reply.status, reply.body)
    sb.settle()
    assert api(sb, "/api/incidents").json()["incidents"] == []
    assert sb.slack.calls_to("conversations.create") == []
    body = httpx.get(f"{sb.url}/metrics", timeout=10).text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }
    refused = samples[("incidentbot_unauthorized_requests_total", (("endpoint", "slack"),))]
    assert refused == len(CASES)
    assert samples[("incidentbot_slack_requests_total", (("status", "401"),))] == len(CASES)
    tracebacks = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert tracebacks == [], [r.getMessage() for r in tracebacks]


def test_a_well_formed_request_still_reaches_bolt(sb: Sandbox, people: People) -> None:
    reply = sb.slack.send_command(people.alice, people.general, "declare sev3 Real one")
    assert reply.status == 200
    sb.settle()
    assert [i["title"] for i in api(sb, "/api/incidents").json()["incidents"]] == ["Real one"]

"""An alert storm is a burst of requests: the work the webhooks hand to the pool (channels,
cards, lines, pages) waits while alerts are being answered, as it does for Slack's requests,
so the senders get their answers first. What they asked for is committed before the answer."""

from __future__ import annotations

import json
import time
from typing import Any, cast

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bot.core.alerts import AlertGroup
from bot.flows.alerts import AlertFlows
from bot.flows.background import AckGate
from bot.flows.unit import Outcome
from bot.web import webhooks
from bot.web.common import Metrics

TOKEN = "alert-token"
MAX_YIELD = 0.3


class BackgroundWorkDuringIngest:
    """Stands for the flows: while a delivery is being answered and another request too (a
    burst), how long does work behind the answers wait for them?"""

    def __init__(self, gate: AckGate) -> None:
        self.gate = gate
        self.waited: list[float] = []

    def ingest(self, group: AlertGroup) -> Outcome:
        with self.gate.answering():  # another request answered meanwhile
            began = time.monotonic()
            self.gate.yield_to_acks()
            self.waited.append(time.monotonic() - began)
        return Outcome(True, "1 alert change(s)", 7)


def notification() -> dict[str, Any]:
    return {
        "version": "4",
        "groupKey": '{}:{alertname="Checkout5xx"}',
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "Checkout5xx"},
                "startsAt": "2026-11-26T09:00:00Z",
            }
        ],
    }


@pytest.mark.parametrize("path", ["/webhooks/alertmanager", "/webhooks/newrelic"])
def test_work_behind_the_answers_waits_while_alerts_are_answered(path: str) -> None:
    gate = AckGate(quiet=0.01, max_yield=MAX_YIELD)
    flows = BackgroundWorkDuringIngest(gate)
    app = Starlette(
        routes=webhooks.routes(
            alerts=cast(AlertFlows, flows),
            token=TOKEN,
            pagerduty=None,
            pagerduty_secrets=[],
            metrics=Metrics(),
            gate=gate,
        )
    )
    body = notification()
    if path.endswith("newrelic"):
        body = {"id": "1", "state": "activated", "title": "Checkout 5xx", "createdAt": 1}
    answer = TestClient(app).post(
        path, content=json.dumps(body), headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["incident_id"] == 7
    assert flows.waited and flows.waited[0] >= MAX_YIELD * 0.8

"""How the bot talks to PagerDuty's APIs through the `pagerduty` package: its published rate
limits booked before every call (`pace`), the client's own retries cut back so the outbox does
the waiting (`tune`), and PagerDuty's answers as the port's errors (`api_errors`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pagerduty
from pagerduty.errors import Error as PagerDutyError, HttpError

from bot.adapters.pacing_gate import PacingGate
from bot.core.pacing import Budgets, Pacer, Window
from bot.flows.ports import IntegrationError

# PagerDuty's published limits, at 90 % in a rolling window a second longer than their minute:
# Events API v2 "approximately 120 calls/minute per integration key ... calculated over a 60
# second window looking back from the current time"; REST API v2: 960 requests a minute per API
# key (every request, each page of a listing and each retry included).
PACING = {"events": Window(108, 61.0), "rest": Window(864, 61.0)}
MAX_SLEEP = 2.0


def pagerduty_budgets() -> Pacer:
    """In-process budgets with PagerDuty's limits (SQLite: one process)."""
    return Pacer(PACING)


def pagerduty_gate(budgets: Budgets) -> PacingGate:
    return PacingGate(budgets, "pagerduty", max_sleep=MAX_SLEEP)


def pace(gate: PacingGate, name: str, scope: str = "") -> None:
    gate.before(name, scope, f"{name} paced to PagerDuty's rate limit")


def tune(client: pagerduty.ApiClient) -> None:
    client.retry.clear()  # the Events client would retry 5xx up to six times, sleeping
    client.retry[429] = 1  # one quick retry, then the outbox takes over
    client.max_http_attempts = 2
    # No network retry in the client: a POST whose connection dropped after PagerDuty made the
    # incident would be sent again blind (400 "matching dedup key already exists" → given up);
    # the outbox retries instead, and looks the incident up before creating it.
    client.max_network_attempts = 0
    client.sleep_timer = 0.5


@contextmanager
def api_errors(what: str) -> Iterator[None]:
    try:
        yield
    except HttpError as exc:
        response = exc.response
        status = int(getattr(response, "status_code", 0) or 0)
        after = response.headers.get("retry-after") if response is not None else None
        detail = _message(response)
        raise IntegrationError(
            "pagerduty",
            f"http_{status}",
            retryable=status == 429 or status >= 500 or status == 0,
            retry_after=float(after) if after and after.replace(".", "", 1).isdigit() else None,
            detail=f"{what}: {detail}"[:300],
        ) from exc
    except PagerDutyError as exc:  # network errors, timeouts
        raise IntegrationError(
            "pagerduty", "unreachable", retryable=True, detail=f"{what}: {exc}"[:300]
        ) from exc


def _message(response: Any) -> str:
    try:
        body = response.json()
    except Exception:
        return str(getattr(response, "text", ""))[:200]
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return "; ".join([str(error.get("message", "")), *map(str, error.get("errors", []))])
        return str(body.get("message") or body.get("errors") or body)
    return str(body)

"""A small client for Opsgenie's REST API (``Authorization: GenieKey <key>``), on httpx2 (the
HTTP library the PagerDuty adapter's client already brings).

Opsgenie answers errors as ``{"message": …, "errors": {field: words}, "took": …, "requestId":
…}``; they become the port's `IntegrationError`: 429 and 5xx and network failures are retried
(429 after ``Retry-After`` or Opsgenie's ``X-RateLimit-Period-In-Sec``), other 4xx are not. No
retry happens in here: the outbox does the waiting, so an Opsgenie outage holds one page, never a
worker thread."""

from __future__ import annotations

from typing import Any

import httpx2

from bot.flows.ports import IntegrationError

SERVICE = "opsgenie"
TIMEOUT = 10.0
DEFAULT_URL = "https://api.opsgenie.com"  # EU: https://api.eu.opsgenie.com


class OpsgenieError(IntegrationError):
    """An answer Opsgenie gave (``status``), kept so callers can tell a 404 from the rest."""

    def __init__(self, status: int, what: str, message: str, retry_after: float | None) -> None:
        super().__init__(
            SERVICE,
            f"http_{status}",
            retryable=status == 429 or status >= 500,
            retry_after=retry_after,
            detail=f"{what}: {message}"[:300],
        )
        self.status = status


class OpsgenieClient:
    def __init__(
        self,
        *,
        api_key: str | None,
        api_url: str = DEFAULT_URL,
        verify: str | bool = True,
        timeout: float = TIMEOUT,
    ) -> None:
        self._key = api_key
        self._http = httpx2.Client(
            base_url=api_url.rstrip("/"),
            timeout=timeout,
            verify=verify,
            headers={"Authorization": f"GenieKey {api_key or ''}"},
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The answer's JSON object (2xx); `OpsgenieError` / `IntegrationError` otherwise."""
        if not self._key:
            raise IntegrationError(
                SERVICE, "not_configured", retryable=False, detail="set OPSGENIE_API_KEY"
            )
        try:
            answer = self._http.request(method, path, params=params, json=json)
        except httpx2.HTTPError as exc:  # connection refused / reset, timeouts
            raise IntegrationError(
                SERVICE, "unreachable", retryable=True, detail=f"{what}: {exc}"[:300]
            ) from exc
        body = _json(answer)
        if not 200 <= answer.status_code < 300:
            raise OpsgenieError(answer.status_code, what, _message(body, answer), _after(answer))
        if not isinstance(body, dict):
            raise IntegrationError(
                SERVICE, "unexpected_answer", retryable=True, detail=f"{what}: {answer.text[:200]}"
            )
        return body


def _json(answer: httpx2.Response) -> Any:
    try:
        return answer.json()
    except ValueError:
        return None


def _message(body: Any, answer: httpx2.Response) -> str:
    if not isinstance(body, dict):
        return answer.text[:200] or answer.reason_phrase
    message = str(body.get("message") or answer.reason_phrase)
    errors = body.get("errors")
    if isinstance(errors, dict) and errors:
        message += " (" + "; ".join(f"{k}: {v}" for k, v in errors.items()) + ")"
    return message


def _after(answer: httpx2.Response) -> float | None:
    if answer.status_code != 429:
        return None
    for header in ("retry-after", "x-ratelimit-period-in-sec"):
        value = answer.headers.get(header, "")
        if value.replace(".", "", 1).isdigit():
            return float(value)
    return None

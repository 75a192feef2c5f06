"""Signed HTTP requests from "Slack" to the bot, exactly as Slack signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SLACK_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """Slack's request signature: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class BotReply:
    """What the bot answered to one request "Slack" sent it.

    ``status`` is 0 when there was no HTTP answer (timeout, connection refused); ``error``
    then says why (``operation_timeout`` like Slack reports it, or the socket error). In Socket
    Mode (``url`` ``ws://…``) an ack in time is status 200 with its ``payload`` as the body; no
    ack is status 0 with ``operation_timeout`` or ``dispatch_failed: …``. ``error`` is also
    set when Slack would reject the answer (e.g. an invalid ``response_action``).
    """

    url: str
    status: int
    headers: dict[str, str]
    body: str
    json: Any
    request_body: bytes
    request_headers: dict[str, str]
    payload: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    trigger_id: str | None = None
    response_url: str | None = None
    event_id: str | None = None
    view_id: str | None = None
    view_errors: dict[str, str] | None = None
    envelope_ids: list[str] = field(default_factory=list)  # Socket Mode: one per (re)delivery

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300 and self.error is None


def signed_headers(
    secret: str,
    body: bytes,
    content_type: str,
    *,
    signature: str | None = None,
    timestamp: int | None = None,
    unsigned: bool = False,
    extra_headers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    headers = {
        "Content-Type": content_type,
        "User-Agent": SLACK_USER_AGENT,
        "Accept": "application/json,*/*",
    }
    if not unsigned:
        ts = int(time.time()) if timestamp is None else timestamp
        headers["X-Slack-Request-Timestamp"] = str(ts)
        headers["X-Slack-Signature"] = signature or sign(secret, ts, body)
    headers.update(extra_headers or {})
    return headers


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> BotReply:
    """POSTs ``body``; never raises for HTTP or network errors (they land in the reply)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    status, reply_headers, text, error = 0, {}, "", None
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status = response.status
            reply_headers = dict(response.headers.items())
            text = response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        status = exc.code
        reply_headers = dict(exc.headers.items()) if exc.headers else {}
        text = exc.read().decode("utf-8", "replace")
    except urllib.error.URLError as exc:
        is_timeout = isinstance(exc.reason, TimeoutError)
        error = "operation_timeout" if is_timeout else f"connection_error: {exc.reason}"
    except TimeoutError:
        error = "operation_timeout"
    except OSError as exc:
        error = f"connection_error: {exc}"
    parsed: Any = None
    if text.strip():
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    return BotReply(
        url=url,
        status=status,
        headers=reply_headers,
        body=text,
        json=parsed,
        request_body=body,
        request_headers=dict(headers),
        error=error,
    )

"""The shape of Slack's signature headers, checked before Bolt sees a request.

Slack sends `X-Slack-Request-Timestamp` as the Unix time in decimal digits and
`X-Slack-Signature` as `v0=` and 64 lowercase hex digits (an HMAC-SHA256). Bolt's verifier turns
the timestamp into a number with `int()`, which raises on `abc`, `1e9` or `0x10` (a 500 and a
traceback) and accepts ` 12`, `+12`, `1_2`, `-5` or thirty digits. Anything not shaped like
Slack's headers is refused here with the 401 a wrong signature gets, counted like one. A header
left out is Bolt's to judge, as before (it refuses a request without a signature)."""

from __future__ import annotations

import logging
import re

from starlette.datastructures import Headers
from starlette.responses import JSONResponse

from bot.web.common import Metrics

log = logging.getLogger(__name__)

TIMESTAMP = "x-slack-request-timestamp"
SIGNATURE = "x-slack-signature"
_DECIMAL = re.compile(r"[0-9]{1,10}")  # Unix seconds: ten digits last until the year 2286
_V0 = re.compile(r"v0=[0-9a-f]{64}")


def malformed(headers: Headers) -> str | None:
    """Which signature header is not shaped like Slack's (None: both may be Slack's)."""
    for name, shape in ((TIMESTAMP, _DECIMAL), (SIGNATURE, _V0)):
        if any(shape.fullmatch(value) is None for value in headers.getlist(name)):
            return name
    return None


def refusal(headers: Headers, metrics: Metrics) -> JSONResponse | None:
    """The 401 for a request whose signature headers cannot be Slack's, counted as a refused
    credential; None when Bolt may verify the signature."""
    name = malformed(headers)
    if name is None:
        return None
    log.info("refused a Slack request: its %s header is malformed", name)
    metrics.slack_requests.labels("401").inc()
    metrics.unauthorized.labels("slack").inc()
    return JSONResponse({"error": "invalid request"}, status_code=401)

"""Fault injection and PagerDuty's rate limits for the emulated APIs."""

from __future__ import annotations

from ..common import faults as shared
from ..common.faults import Limit, TokenBuckets, Verdict

# Documented limits: REST API v2 960 requests/minute per API key (developer docs, "REST API
# Rate Limits"); Events API v2 "approximately 120 calls/minute per integration key", "calculated
# over a 60 second window looking back from the current time". Both are enforced as rolling
# 60-second windows, counted per key across every caller (two bot processes share one limit).
REST_PER_MINUTE = 960
EVENTS_PER_MINUTE = 120


Fault = shared.RouteFault
FaultBook = shared.RouteFaultBook


class RateLimiter(TokenBuckets):
    """Rolling windows: ``"rest"`` per API token, ``"events"`` per routing key;
    ``set_limit`` replaces one with a token bucket (``burst`` at once, then ``per_minute``)."""

    def __init__(self) -> None:
        super().__init__(
            {
                "rest": Limit.rolling(REST_PER_MINUTE, 60.0, per_key=True),
                "events": Limit.rolling(EVENTS_PER_MINUTE, 60.0, per_key=True),
            }
        )

    def set_limit(self, scope: str, *, per_minute: float, burst: int | None = None) -> None:
        if scope not in self._limits:
            raise ValueError(f"unknown rate-limit scope {scope!r} (rest or events)")
        self._set(scope, Limit.per_minute(per_minute, burst, per_key=True))

    def check(self, scope: str, key: str) -> Verdict:
        """Consumes a token if one is left."""
        return self.take(scope, key)

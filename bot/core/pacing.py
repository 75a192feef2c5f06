"""Token buckets for pacing calls within a service's published rate limits. Pure: the caller
passes the time (seconds on a monotonic clock)."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class Pacer:
    """`delay(key, now)` says how long to wait before the call may go; it books the slot, so
    concurrent callers get successive slots instead of all waking up together. A caller that will
    not wait that long calls `release` to hand the slot back."""

    def __init__(
        self, limits: dict[str, tuple[float, float]], default: tuple[float, float] | None = None
    ) -> None:
        # name -> (calls per minute, burst)
        self._limits = dict(limits)
        self._default = default
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()

    def limit(self, name: str) -> tuple[float, float] | None:
        return self._limits.get(name, self._default)

    def delay(self, name: str, now: float, scope: str = "") -> float:
        limit = self.limit(name)
        if limit is None:
            return 0.0
        per_minute, burst = limit
        rate = per_minute / 60.0
        with self._lock:
            bucket = self._buckets.setdefault((name, scope), _Bucket(burst, now))
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            bucket.tokens -= 1.0
            return 0.0 if bucket.tokens >= 0 else -bucket.tokens / rate

    def release(self, name: str, scope: str = "") -> None:
        with self._lock:
            bucket = self._buckets.get((name, scope))
            if bucket is not None:
                bucket.tokens += 1.0

"""The fault queue and the rate limiter (rolling windows and token buckets) behind both emulators.

Each emulator keeps its own limits and refusal answer (Slack's tiers and ``Retry-After``,
PagerDuty's ``ratelimit-*`` headers); the REST emulators queue their faults per route as a
``RouteFault`` in a ``RouteFaultBook``.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

F = TypeVar("F")


class Delayed(Protocol):
    """A fault that may hold its answer back for ``delay`` seconds."""

    @property
    def delay(self) -> float: ...


class FaultBook(Generic[F]):
    """Queued faults, taken first queued first; a fault keyed ``"*"`` matches any key."""

    def __init__(self, key: Callable[[F], str]) -> None:
        self._key = key
        self._lock = threading.Lock()
        self._queue: list[F] = []

    def add(self, fault: F, times: int) -> None:
        with self._lock:
            self._queue.extend([fault] * times)

    def take(self, key: str) -> F | None:
        with self._lock:
            for i, fault in enumerate(self._queue):
                if self._key(fault) in (key, "*"):
                    return self._queue.pop(i)
        return None

    def pending(self, key: str | None = None) -> int:
        with self._lock:
            return sum(1 for f in self._queue if key is None or self._key(f) == key)

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()


@dataclass(frozen=True)
class RouteFault:
    """One queued failure for a route such as ``"POST /incidents"`` or ``"*"`` (any). ``status``
    429 answers like the vendor's rate limiting, 5xx with the vendor's internal-error body (or
    ``body``), any other status with ``body``; ``status=0`` drops the connection without an
    answer (a network error). ``delay`` holds the answer back; ``apply=True`` performs the
    request first, like a service that did the work but lost the response."""

    route: str
    status: int = 500
    delay: float = 0.0
    body: str | None = None
    apply: bool = False


class RouteFaultBook(FaultBook[RouteFault]):
    """Faults queued per route."""

    def __init__(self) -> None:
        super().__init__(lambda fault: fault.route)


@dataclass(frozen=True)
class Limit:
    """``capacity`` tokens refilled at ``per_second``; one bucket per key when ``per_key``,
    else one bucket for the whole scope. With ``window_s``, a rolling window instead: at most
    ``capacity`` requests in any ``window_s`` seconds (the whole budget may come at once)."""

    capacity: int
    per_second: float
    per_key: bool = True
    window_s: float | None = None

    @classmethod
    def rolling(cls, per_window: int, seconds: float = 60.0, *, per_key: bool) -> Limit:
        return cls(per_window, per_window / seconds, per_key, seconds)

    @classmethod
    def per_minute(cls, per_minute: float, burst: int | None = None, *, per_key: bool) -> Limit:
        capacity = burst if burst is not None else max(1, int(per_minute))
        return cls(capacity, per_minute / 60.0, per_key)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset_s: int  # seconds until a request would be allowed again (ratelimit-reset)


@dataclass
class _Bucket:
    capacity: float
    per_second: float
    tokens: float
    updated: float


class TokenBuckets:
    """Token buckets per ``(scope, key)``, thread-safe; subclasses name the scopes and limits."""

    def __init__(self, limits: dict[str, Limit]) -> None:
        self._lock = threading.Lock()
        self._limits = dict(limits)
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._windows: dict[tuple[str, str], deque[float]] = {}

    def default_limit(self, scope: str) -> Limit:
        """The limit of a scope nobody set (called under the lock)."""
        raise KeyError(scope)

    def _set(self, scope: str, limit: Limit) -> None:
        """Replaces the limit of ``scope``; its buckets start full again."""
        with self._lock:
            self._limits[scope] = limit
            self._buckets = {k: v for k, v in self._buckets.items() if k[0] != scope}
            self._windows = {k: v for k, v in self._windows.items() if k[0] != scope}

    def take(self, scope: str, key: str | None) -> Verdict:
        """Consumes a token if one is left."""
        with self._lock:
            limit = self._limits.get(scope)
            if limit is None:
                limit = self.default_limit(scope)
            at = (scope, (key or "") if limit.per_key else "")
            now = time.monotonic()
            if limit.window_s is not None:
                return self._rolling(at, limit, limit.window_s, now)
            bucket = self._buckets.get(at)
            if bucket is None:
                capacity = limit.capacity
                bucket = self._buckets[at] = _Bucket(capacity, limit.per_second, capacity, now)
            bucket.tokens = min(
                bucket.capacity, bucket.tokens + (now - bucket.updated) * bucket.per_second
            )
            bucket.updated = now
            allowed = bucket.tokens >= 1.0
            if allowed:
                bucket.tokens -= 1.0
            missing = max(0.0, 1.0 - bucket.tokens)
            reset = math.ceil(missing / bucket.per_second) if missing > 0 else 0
            return Verdict(allowed, int(limit.capacity), int(bucket.tokens), max(reset, 0))

    def _rolling(self, at: tuple[str, str], limit: Limit, window_s: float, now: float) -> Verdict:
        """Counts the requests of the last ``window_s`` seconds (called under the lock)."""
        seen = self._windows.setdefault(at, deque())
        while seen and seen[0] <= now - window_s:
            seen.popleft()
        allowed = len(seen) < limit.capacity
        if allowed:
            seen.append(now)
        full = len(seen) >= limit.capacity
        reset = math.ceil(seen[0] + window_s - now) if full else 0
        return Verdict(allowed, limit.capacity, limit.capacity - len(seen), max(reset, 0))

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
            self._windows.clear()

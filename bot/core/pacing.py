"""Window budgets for pacing calls within a service's published rate limits.

A limit is a budget of calls per window, as services publish them ("20 per minute" for a method,
"120 a minute per key, over a 60 second window looking back from the current time"; each
adapter states its own service's limits). The window rolls: at most `budget`
calls in any `seconds`-long span. That is the strictest reading of a per-minute limit, so what it
lets through also passes a fixed per-minute counter and a token bucket holding a minute's worth.

A free window is spent at once — ten declares at once get ten conversations at once — and only what
exceeds the budget waits, until the oldest booking leaves the window. `book` is pure (the caller
passes the bookings and the time); `Pacer` keeps them in memory for one process, and
`bot.store.budgets.SharedBudgets` keeps them in PostgreSQL for every process of a deployment.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Window:
    """At most `budget` calls in any `seconds`-long span."""

    budget: int
    seconds: float

    def __post_init__(self) -> None:
        if self.budget < 1 or self.seconds <= 0:
            raise ValueError(f"a window needs a budget ≥ 1 and a length > 0: {self}")


@dataclass(frozen=True)
class Slot:
    """A booked call: it may go at `at` (on the budget's clock), `wait` seconds from the booking."""

    name: str
    scope: str
    at: float
    wait: float


def book(booked: list[float], window: Window, now: float) -> tuple[list[float], float]:
    """Books one call at `now` or, when the window is spent, as soon as the oldest booking
    leaves it. Returns the bookings still able to matter (sorted, the new one included) and the
    instant booked. Bookings at or before `now - seconds` can no longer share a window with any
    call from now on, so they are dropped: the list never holds more than about two budgets."""
    live = sorted(t for t in booked if t > now - window.seconds)
    at = now
    if len(live) >= window.budget:
        # the span (at - seconds, at] must hold at most budget - 1 other bookings
        at = max(now, live[-window.budget] + window.seconds)
    bisect.insort(live, at)
    return live, at


def unbook(booked: list[float], at: float) -> list[float]:
    """Hands one booking at `at` back (a caller that will not wait for its slot)."""
    live = list(booked)
    if at in live:
        live.remove(at)
    return live


class Budgets(Protocol):
    """Where bookings are kept: one process (`Pacer`) or the whole deployment (PostgreSQL)."""

    def limit(self, name: str) -> Window | None: ...

    def book(self, name: str, scope: str = "") -> Slot | None:
        """Books a call; None when `name` has no limit."""
        ...

    def release(self, slot: Slot) -> None:
        """Hands a booked slot back."""
        ...


class Pacer:
    """In-process budgets (SQLite deployments are one process by design), thread-safe. The
    clock is monotonic seconds; tests inject their own."""

    def __init__(
        self,
        limits: Mapping[str, Window],
        default: Window | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = dict(limits)
        self._default = default
        self.clock = clock  # what the gate in front of the vendor measures waits with
        self._booked: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def limit(self, name: str) -> Window | None:
        return self._limits.get(name, self._default)

    def book(self, name: str, scope: str = "") -> Slot | None:
        window = self.limit(name)
        if window is None:
            return None
        with self._lock:
            now = self.clock()
            live, at = book(self._booked.get((name, scope), []), window, now)
            self._booked[(name, scope)] = live
        return Slot(name, scope, at, at - now)

    def release(self, slot: Slot) -> None:
        with self._lock:
            key = (slot.name, slot.scope)
            if key in self._booked:
                self._booked[key] = unbook(self._booked[key], slot.at)

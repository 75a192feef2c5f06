"""Before each call to a rate-limited vendor: book its slot in the budget (shared by the
deployment's processes on PostgreSQL), sleep a short wait, send a long one back to the outbox.

A budget whose window is full stays full until its oldest booking leaves the window: bookings
leave only with time (what is given back is only ever a deferred call's slot, past the budget).
So once a call is deferred, the gate remembers until when, and sends back the calls that come
meanwhile without booking: in an alert storm hundreds of new incidents each want a channel,
and each would otherwise book and give back a slot in the database only to be told to wait."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from bot.core.pacing import Budgets
from bot.flows.ports import Deferred


class PacingGate:
    def __init__(
        self,
        budgets: Budgets,
        vendor: str,
        *,
        max_sleep: float,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.budgets = budgets
        self.vendor = vendor
        self.max_sleep = max_sleep
        # the budgets' own clock when they keep one in this process (a test's), else monotonic
        kept: Callable[[], float] = getattr(budgets, "clock", time.monotonic)
        self._clock = clock if clock is not None else kept
        self._sleep = sleep
        self._full_until: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def before(self, name: str, scope: str, what: str) -> None:
        """Waits for the call's slot, or raises Deferred (`what`: the reason) with the time
        until the window frees, when that is more than `max_sleep` away."""
        key = (name, scope)
        with self._lock:
            full_until = self._full_until.get(key)
        if full_until is not None:
            left = full_until - self._clock()
            if left > self.max_sleep:
                raise Deferred(self.vendor, what, left)
        slot = self.budgets.book(name, scope)
        if slot is None or slot.wait <= 0:
            return
        if slot.wait > self.max_sleep:
            self.budgets.release(slot)
            with self._lock:
                self._full_until[key] = self._clock() + slot.wait
                if len(self._full_until) > 1000:  # per-channel scopes come and go
                    now = self._clock()
                    self._full_until = {k: t for k, t in self._full_until.items() if t > now}
            raise Deferred(self.vendor, what, slot.wait)
        self._sleep(slot.wait)

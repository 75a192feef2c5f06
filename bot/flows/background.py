"""Thread pools that know when they are idle, and a gate that gives the chat's acks priority.

Bolt runs listeners (which only parse and ack) on `listeners`; the slow work they hand over runs
on the work pool. Under a burst of requests that work would compete with the acks for the
interpreter, so work waits at its start, and between effects, while requests are still being
answered — for at most `max_yield` each time, so a steady stream of requests cannot starve it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

log = logging.getLogger(__name__)
_T = TypeVar("_T")


class TrackedExecutor(ThreadPoolExecutor):
    def __init__(self, workers: int, name: str, *, background: bool = False) -> None:
        super().__init__(
            max_workers=workers,
            thread_name_prefix=name,
            initializer=background_thread if background else None,
        )
        self._busy = 0
        self._cond = threading.Condition()

    def submit(self, fn: Callable[..., _T], /, *args: Any, **kwargs: Any) -> Future[_T]:
        with self._cond:
            self._busy += 1
        return super().submit(self._run, fn, *args, **kwargs)

    def _run(self, fn: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        try:
            return fn(*args, **kwargs)
        except Exception:
            log.exception("background work %s failed", getattr(fn, "__name__", fn))
            raise
        finally:
            with self._cond:
                self._busy -= 1
                self._cond.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._busy == 0, timeout=timeout)


_role = threading.local()


def background_thread() -> None:
    """Marks the calling thread as one that does work behind the acks (see AckGate.step)."""
    _role.background = True


class AckGate:
    """Counts requests being answered; during a burst (two or more answered at once) work waits
    while any is, then for a quiet moment (none answered for `quiet` seconds), at most
    `max_yield` seconds in all. A lone request does not hold work back: its answer is decided
    (written) by the time its work is queued, and what is left of it is the answer's bytes."""

    def __init__(self, quiet: float = 0.02, max_yield: float = 0.25) -> None:
        self.quiet = quiet
        self.max_yield = max_yield
        self._answering = 0
        self._last = 0.0
        self._burst = -1e9  # when two or more requests were last answered at once
        self._cond = threading.Condition()

    @contextmanager
    def answering(self) -> Iterator[None]:
        with self._cond:
            self._answering += 1
            if self._answering > 1:
                self._burst = time.monotonic()
        try:
            yield
        finally:
            with self._cond:
                self._answering -= 1
                self._last = time.monotonic()
                if not self._answering:  # waking the waiters earlier would only cost the acks
                    self._cond.notify_all()

    def step(self) -> None:
        """Before each transaction: background threads yield to the acks; others never wait."""
        if getattr(_role, "background", False):
            self.yield_to_acks()

    def yield_to_acks(self) -> None:
        deadline = time.monotonic() + self.max_yield
        with self._cond:
            while True:
                now = time.monotonic()
                if now >= deadline:
                    return
                if now - self._burst > self.quiet and self._answering <= 1:
                    return  # no burst going on: start now
                if self._answering:
                    self._cond.wait(deadline - now)
                    continue
                calm = self._last + self.quiet - now
                if calm <= 0:
                    return
                self._cond.wait(min(calm, deadline - now))


class BackgroundWork:
    def __init__(
        self, ack_workers: int = 16, workers: int = 4, gate: AckGate | None = None
    ) -> None:
        self.listeners = TrackedExecutor(ack_workers, "bolt")
        self.gate = gate or AckGate()
        self._pool = TrackedExecutor(workers, "work", background=True)

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        def after_acks() -> Any:
            self.gate.yield_to_acks()
            return fn(*args, **kwargs)

        after_acks.__name__ = getattr(fn, "__name__", "work")
        self._pool.submit(after_acks)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        # Listeners submit work, so wait for them first; then for the work they submitted.
        return self.listeners.wait_idle(timeout) and self._pool.wait_idle(timeout)

    def shutdown(self, wait: bool = True) -> None:
        self.listeners.shutdown(wait=wait)
        self._pool.shutdown(wait=wait)

"""Thread pools that know when they are idle: Bolt's listener pool (acks) and the pool for the
slow work that runs after the ack. Tests and the demo wait on `wait_idle` between steps."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

log = logging.getLogger(__name__)
_T = TypeVar("_T")


class TrackedExecutor(ThreadPoolExecutor):
    def __init__(self, workers: int, name: str) -> None:
        super().__init__(max_workers=workers, thread_name_prefix=name)
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


class BackgroundWork:
    """Bolt's listener pool (only acks run there) and the work pool behind it."""

    def __init__(self, ack_workers: int = 16, workers: int = 8) -> None:
        self.listeners = TrackedExecutor(ack_workers, "bolt")
        self._pool = TrackedExecutor(workers, "work")

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self._pool.submit(fn, *args, **kwargs)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        # Listeners submit work, so wait for them first; then for the work they submitted.
        return self.listeners.wait_idle(timeout) and self._pool.wait_idle(timeout)

    def shutdown(self) -> None:
        self.listeners.shutdown(wait=True)
        self._pool.shutdown(wait=True)

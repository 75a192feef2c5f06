"""What both emulator facades do the same way around their :class:`HttpApi`: start/stop and
``with``, ``url``/``port``, latency, the rate-limit switch, clearing faults, the call record."""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, ClassVar, Generic, Self, TypeVar

from .server import HttpApi

CallT = TypeVar("CallT")


class LifecycleMixin(Generic[CallT]):
    """For a facade holding its API server in ``_api`` and its state lock in ``_lock``."""

    scheme: ClassVar[str] = "http"
    _lock: threading.RLock
    _api: HttpApi[CallT, Any, Any]
    _root_url: str = ""

    # ------------------------------------------------------------ lifecycle
    def start(self) -> Self:
        self._api.start()
        host = "127.0.0.1" if self._api.host in ("", "0.0.0.0") else self._api.host
        self._root_url = f"{self.scheme}://{host}:{self._api.port}"
        return self

    def stop(self) -> None:
        self._api.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ----------------------------------------------------------- properties
    @property
    def url(self) -> str:
        """``<scheme>://127.0.0.1:<port>`` (after start)."""
        if not self._root_url:
            raise RuntimeError("the emulator is not started")
        return self._root_url

    @property
    def port(self) -> int:
        return self._api.port

    @property
    def latency(self) -> float:
        """Seconds every answer is delayed."""
        return self._api.latency

    @latency.setter
    def latency(self, value: float) -> None:
        self._api.latency = value

    @property
    def rate_limits(self) -> bool:
        """Enforce the service's rate limits (see ``set_rate_limit``); switching resets them."""
        return self._api.rate_limits

    @rate_limits.setter
    def rate_limits(self, value: bool) -> None:
        self._api.rate_limits = value
        self._api.limiter.reset()

    # -------------------------------------------------------------- faults
    def clear_faults(self) -> None:
        self._api.faults.clear()

    # ---------------------------------------------------------- call record
    @property
    def calls(self) -> list[CallT]:
        with self._lock:
            return list(self._api.calls)

    def _calls_where(self, keep: Callable[[CallT], bool]) -> list[CallT]:
        with self._lock:
            return [c for c in self._api.calls if keep(c)]

    def reset_calls(self) -> None:
        with self._lock:
            self._api.calls.clear()

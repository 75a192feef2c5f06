"""Fault injection and rate limiting for the emulated Jira REST API."""

from __future__ import annotations

from dataclasses import dataclass

from ..common import faults as shared
from ..common.faults import Limit, TokenBuckets, Verdict

# Jira publishes no numbers for Cloud; Data Center's limiter is a token bucket per user that an
# admin configures. The emulator's default is generous; tests set their own (set_rate_limit).
DEFAULT_PER_MINUTE = 600
DEFAULT_BURST = 100
API_PREFIXES = ("/rest/api/2/", "/rest/api/3/", "/rest/api/latest/")


@dataclass(frozen=True)
class Fault:
    """One queued failure. It matches a request when every given filter does: ``route``
    (``"POST issue"``, ``"GET issue/{issueIdOrKey}"`` …), ``method`` and ``path_prefix`` — a
    path such as ``"/rest/api/2/issue"``, or one without a leading slash (``"issue"``,
    ``"search/jql"``) for that path under any API version. No filter: any request.

    ``status`` 429 answers like Jira's rate limiting (``Retry-After`` and ``X-RateLimit-*``),
    5xx with Jira's error body (or ``body``), any other status with ``body``; ``status=0``
    drops the connection without an answer. ``delay`` holds the answer back (longer than the
    client's timeout: a timeout). ``apply=True`` performs the request first, like a Jira that
    did the work but whose answer was lost. ``retry_after`` adds ``Retry-After`` (429 always
    carries one, 1 s unless given).
    """

    status: int = 500
    path_prefix: str | None = None
    method: str | None = None
    route: str | None = None
    delay: float = 0.0
    body: str | None = None
    apply: bool = False
    retry_after: int | None = None

    def matches(self, method: str, path: str, route: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        if self.route is not None and self.route != route:
            return False
        if self.path_prefix is None:
            return True
        if self.path_prefix.startswith("/"):
            return path.startswith(self.path_prefix)
        prefix = self.path_prefix
        return any(path.startswith(api + prefix) for api in API_PREFIXES)

    @property
    def label(self) -> str:
        parts = [self.method or "", self.route or "", self.path_prefix or ""]
        return " ".join(p for p in parts if p) or "*"


class FaultBook(shared.FaultBook[Fault]):
    """Faults taken first queued first among those matching the request."""

    def __init__(self) -> None:
        super().__init__(lambda fault: fault.label)

    def take_for(self, method: str, path: str, route: str) -> Fault | None:
        with self._lock:
            for i, fault in enumerate(self._queue):
                if fault.matches(method, path, route):
                    return self._queue.pop(i)
        return None


class RateLimiter(TokenBuckets):
    """One token bucket per authenticated user (``"rest"``), like Jira Data Center's."""

    def __init__(self) -> None:
        super().__init__(
            {"rest": Limit.per_minute(DEFAULT_PER_MINUTE, DEFAULT_BURST, per_key=True)}
        )

    def set_limit(self, *, per_minute: float, burst: int | None = None) -> None:
        self._set("rest", Limit.per_minute(per_minute, burst, per_key=True))

    @property
    def capacity(self) -> int:
        return self._limits["rest"].capacity

    @property
    def per_minute(self) -> float:
        return self._limits["rest"].per_second * 60.0

    def check(self, user: str) -> Verdict:
        return self.take("rest", user)

"""Failed credentials slow their sender down: after `limit` wrong tokens (login form, bearer
tokens on /api/*, the review pages and a protected /metrics) from one client address within a
clock minute, every credential that address presents is answered 429 with `Retry-After` (the
seconds left in that minute) — the right one too, or the throttle would still confirm a right
guess. The counts live in the database (bot.store.sign_in), one row per address per minute, so
every replica sees the same failures. A request that brings a credential costs one primary-key
lookup; only a failure writes.

The client address is the socket peer. Behind a reverse proxy set TRUSTED_PROXY_HEADER (say
`X-Forwarded-For`): the address is then the right-most entry of that header, the one the proxy
itself appended; entries to its left are whatever the client sent and are never trusted. A header
that is absent or not an IP address leaves the socket peer. IPv6 addresses count per /64, the
block one host usually holds."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.flows.ports import Clock
from bot.store import sign_in
from bot.store.db import Database
from bot.web.common import Metrics, bearer_refusal

LIMIT = 10  # wrong credentials per address per minute before the 429s


def canonical(text: str) -> str | None:
    """An IP address as the throttle counts it (IPv6 by its /64), or None if `text` is none."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def client_address(request: Request, proxy_header: str | None) -> str:
    """Whom a failure is counted against (see the module's docstring for the rule)."""
    peer = request.client.host if request.client else ""
    if proxy_header:
        values = request.headers.getlist(proxy_header)
        if values:
            found = canonical(values[-1].split(",")[-1])
            if found is not None:
                return found
    return canonical(peer) or peer[:64] or "unknown"


@dataclass
class Throttle:
    db: Database
    clock: Clock
    limit: int = LIMIT
    proxy_header: str | None = None
    metrics: Metrics | None = None

    def address(self, request: Request) -> str:
        return client_address(request, self.proxy_header)

    def _retry_after(self) -> int:
        return max(1, math.ceil(60 - self.clock.now().timestamp() % 60))

    def _blocked(self, address: str) -> int | None:
        if sign_in.failures(self.db, address, self.clock.now()) >= self.limit:
            return self._retry_after()
        return None

    def _failed(self, address: str) -> int | None:
        if sign_in.record_failure(self.db, address, self.clock.now()) > self.limit:
            return self._retry_after()  # (only when failures raced past the check)
        return None

    async def blocked(self, request: Request, endpoint: str) -> int | None:
        """Retry-After seconds when the client may not present a credential now; else None.
        Call it before judging the credential."""
        wait = await run_in_threadpool(self._blocked, self.address(request))
        if wait is not None and self.metrics is not None:
            self.metrics.throttled.labels(endpoint).inc()
        return wait

    async def failed(self, request: Request, endpoint: str) -> int | None:
        """Counts a wrong credential; Retry-After seconds when that one is already over."""
        wait = await run_in_threadpool(self._failed, self.address(request))
        if wait is not None and self.metrics is not None:
            self.metrics.throttled.labels(endpoint).inc()
        return wait

    async def bearer(
        self, request: Request, expected: str | None, *, setting: str, endpoint: str
    ) -> Response | None:
        """None when the request carries `Authorization: Bearer <expected>` and its client is not
        throttled; else the 429 or 401 to answer (a 401 counted as a refused credential). Only a
        token presented and wrong is a guess that counts; none at all is just a 401."""
        guess = has_bearer(request)
        if guess:
            wait = await self.blocked(request, endpoint)
            if wait is not None:
                return too_many(wait)
        refused = bearer_refusal(request, expected, setting=setting)
        if refused is None:
            return None
        if self.metrics is not None:
            self.metrics.unauthorized.labels(endpoint).inc()
        if not guess:
            return refused
        wait = await self.failed(request, endpoint)
        return too_many(wait) if wait is not None else refused


def has_bearer(request: Request) -> bool:
    return request.headers.get("authorization", "").partition(" ")[0].lower() == "bearer"


def too_many(retry_after: int) -> JSONResponse:
    return JSONResponse(
        {"error": f"too many wrong credentials from your address; try again in {retry_after} s"},
        status_code=429,
        headers={"Retry-After": str(retry_after)},
    )

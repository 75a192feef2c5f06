"""Answered means done: every request the bot acknowledges is in the database first.

A listener hands over what it acknowledges (`accept`): the request is written to the inbox
table — leased to this process — before the acknowledgement leaves, then worked off at once by
this process's workers, one request at a time per lane (an incident's channel) and in order.
If the process dies (kill -9, OOM) or stops (SIGTERM, after `stop`'s grace period) first, the
row stays: whoever sweeps next (`recover`: the scheduler every few seconds, a web process when it
starts) takes over rows whose owner is gone or whose lease ran out, and runs them. The handlers
are idempotent by the request's key (`processed_request`), so a request cut off in the middle
of its work is finished once, not twice.

Writes are grouped: concurrent `accept` calls share one transaction (the first caller writes
for everybody waiting), so a burst of requests costs a few commits, not one each.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.flows.background import background_thread
from bot.flows.ports import Clock
from bot.logs import bound
from bot.store import inbox as store, liveness
from bot.store.db import Database
from bot.store.inbox import NewRequest

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]

LEASE = timedelta(minutes=10)  # a live owner keeps its rows; only a dead owner's are taken early
MAX_ATTEMPTS = 3  # a request that killed its process three times is set aside, with the error


@dataclass
class _Waiting:
    request: NewRequest
    done: threading.Event = field(default_factory=threading.Event)
    row_id: int | None = None
    error: BaseException | None = None
    future: asyncio.Future[None] | None = None  # accept_async's, resolved on its event loop

    def settle(self) -> None:
        self.done.set()
        future = self.future
        if future is not None:
            future.get_loop().call_soon_threadsafe(_resolve, future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


@dataclass(frozen=True)
class _Job:
    row_id: int
    lane: str
    handler: str
    payload: dict[str, Any]


class Inbox:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        owner: Callable[[], str],
        workers: int = 8,
        before_work: Callable[[], None] | None = None,
        lease: timedelta = LEASE,
    ) -> None:
        self.db = db
        self.clock = clock
        self._owner = owner  # the process's name (see store.liveness), read at each write
        self._before_work = before_work or (lambda: None)
        self.lease = lease
        self.handlers: dict[str, Handler] = {}
        self._write_lock = threading.Lock()
        self._waiting: list[_Waiting] = []
        self._writing = False
        self._lanes: dict[str, deque[_Job]] = {}
        self._lanes_lock = threading.Lock()
        self._ready: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._idle = threading.Condition(self._lanes_lock)
        self._workers = workers
        self._threads: list[threading.Thread] = []  # started with the first request

    def register(self, name: str, handler: Handler) -> None:
        self.handlers[name] = handler

    # -- taking requests -----------------------------------------------------------------------
    def accept(self, key: str, lane: str, handler: str, payload: dict[str, Any]) -> bool:
        """Durably record the request, then queue it here. False: its key was seen before (a
        retry or replay), and nothing is queued. Raises if the database refused: then the
        caller must not acknowledge."""
        waiting = _Waiting(NewRequest(key[:200], lane[:120], handler, payload))
        with self._write_lock:
            self._waiting.append(waiting)
            leader = not self._writing
            self._writing = True
        if leader:
            self._write_all()
        waiting.done.wait()
        return self._accepted(waiting)

    async def accept_async(
        self, key: str, lane: str, handler: str, payload: dict[str, Any]
    ) -> bool:
        """`accept` for an event loop: the requests of a burst wait on the loop, not each in a
        thread of its own; the first of them writes them all in one executor thread."""
        loop = asyncio.get_running_loop()
        waiting = _Waiting(NewRequest(key[:200], lane[:120], handler, payload))
        waiting.future = loop.create_future()
        with self._write_lock:
            self._waiting.append(waiting)
            leader = not self._writing
            self._writing = True
        if leader:
            await loop.run_in_executor(None, self._write_all)
        await waiting.future
        return self._accepted(waiting)

    @staticmethod
    def _accepted(waiting: _Waiting) -> bool:
        if waiting.error is not None:
            raise waiting.error
        return waiting.row_id is not None  # queued by the writer (`_write_all`)

    def _write_all(self) -> None:
        """The leader writes every waiting request, batch after batch, then steps down."""
        while True:
            with self._write_lock:
                batch, self._waiting = self._waiting, []
                if not batch:
                    self._writing = False
                    return
            try:
                now, owner = self.clock.now(), self._owner()
                # one INSERT, committed when it returns (SQLAlchemy splits a batch of more
                # than a thousand rows: those take a transaction)
                writing = self.db.one_write if len(batch) <= 500 else self.db.transaction
                with writing() as session:
                    ids = store.add_all(
                        session=session,
                        requests=[item.request for item in batch],
                        owner=owner,
                        now=now,
                        lease=self.lease,
                    )
                for item, row_id in zip(batch, ids, strict=True):
                    item.row_id = row_id
            except BaseException as exc:
                for item in batch:
                    item.row_id, item.error = None, exc
            for item in batch:  # queued here, committed: the work need not wait for the loop
                if item.row_id is not None:
                    request = item.request
                    self._queue(_Job(item.row_id, request.lane, request.handler, request.payload))
                item.settle()

    # -- working them off ----------------------------------------------------------------------
    def _queue(self, job: _Job) -> None:
        with self._lanes_lock:
            lane = self._lanes.get(job.lane)
            if lane is not None:
                lane.append(job)
                return
            self._lanes[job.lane] = deque([job])
            if not self._threads:
                self._threads = [
                    threading.Thread(target=self._work, name=f"inbox-{n}", daemon=True)
                    for n in range(self._workers)
                ]
                for thread in self._threads:
                    thread.start()
        self._ready.put(job.lane)

    def _work(self) -> None:
        background_thread()  # its transactions let the acks go first
        while True:
            lane = self._ready.get()
            if lane is None:
                return
            while True:
                with self._lanes_lock:
                    jobs = self._lanes[lane]
                    if not jobs:
                        del self._lanes[lane]
                        self._idle.notify_all()
                        break
                    job = jobs[0]
                try:
                    self._run(job)
                finally:
                    with self._lanes_lock:
                        jobs.popleft()

    def _run(self, job: _Job) -> None:
        self._before_work()
        error: str | None = None
        handler = self.handlers.get(job.handler)
        with bound(request=job.handler, inbox_id=job.row_id):
            if handler is None:
                error = f"no handler named {job.handler!r}"
                log.error("inbox #%s: %s", job.row_id, error)
            else:
                try:
                    handler(job.payload)
                except Exception as exc:  # the handler told the person; keep the error
                    log.exception("inbox #%s (%s) failed", job.row_id, job.handler)
                    error = f"{type(exc).__name__}: {exc}"
            try:
                with self.db.one_write() as session:
                    store.finish(
                        session=session, row_id=job.row_id, now=self.clock.now(), error=error
                    )
            except Exception:  # the lease runs out and a sweep runs it again (idempotent)
                log.exception("inbox #%s: could not mark it done", job.row_id)

    # -- after a crash -------------------------------------------------------------------------
    def recover(self) -> int:
        """Take over requests whose process is gone (or whose lease ran out) and queue them
        here, in their order. Returns how many."""
        now, owner = self.clock.now(), self._owner()
        with self.db.transaction() as session:
            owners = store.unfinished_owners(session=session, now=now)
            gone = liveness.dead(session, [o for o in owners if o != owner])
            rows = store.claim_orphans(
                session=session, dead=gone, owner=owner, now=now, lease=self.lease
            )
            tired = [r for r in rows if r.attempts > MAX_ATTEMPTS]
            for row in tired:
                assert row.id is not None
                store.finish(
                    session=session,
                    row_id=row.id,
                    now=now,
                    error=f"set aside after {MAX_ATTEMPTS} attempts",
                )
        for row in tired:
            log.error(
                "inbox #%s (%s) set aside after %s attempts", row.id, row.handler, MAX_ATTEMPTS
            )
        taken = [r for r in rows if r.attempts <= MAX_ATTEMPTS]
        if taken:
            log.warning("taking over %s answered request(s) left unfinished", len(taken))
        for row in taken:
            assert row.id is not None
            self._queue(_Job(row.id, row.lane, row.handler, dict(row.payload)))
        return len(taken)

    def prune(self, older_than: timedelta = timedelta(days=7)) -> tuple[int, int]:
        """Forget finished requests and replay-guard ids older than `older_than`."""
        with self.db.transaction() as session:
            return store.prune(session=session, before=self.clock.now() - older_than)

    # -- stopping ------------------------------------------------------------------------------
    def busy(self) -> bool:
        with self._lanes_lock:
            return bool(self._lanes)

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._lanes_lock:
            while self._lanes:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
            return True

    def stop(self, grace: float) -> int:
        """Finish what is queued within `grace` seconds; what is left stays in the table for
        the next sweep. Returns how many requests were left."""
        self.wait_idle(grace)
        with self._lanes_lock:
            left = sum(len(jobs) for jobs in self._lanes.values())
        with self._lanes_lock:
            threads, self._threads = self._threads, []
        for _ in threads:
            self._ready.put(None)
        if left:
            log.warning(
                "stopping with %s answered request(s) unfinished: the next sweep runs them", left
            )
        return left

"""Deliver outbox effects: right after the commit that made them, and again on every sweep.

Effects of one lane run in order; a failing effect is retried with exponential backoff (or
after the `Retry-After` the service gave) and holds the lane, so a later message never
overtakes an earlier one. Permanent failures, or too many attempts, are given up and reported.

A worker leases the effect it runs. On PostgreSQL a long-lived process (`serve`, `scheduler`)
calls `keep_alive()`: it holds an advisory lock for as long as it lives, so when it dies mid-effect
(kill -9, OOM) the next sweep, in any process, frees its leases instead of waiting them out. On
SQLite the same is judged by the dead process's pid (store.liveness).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Callable, Mapping
from datetime import timedelta
from enum import Enum
from typing import Any

from bot.flows.ports import Clock, Deferred, IntegrationError
from bot.logs import bound
from bot.store import liveness, outbox as store, outbox_leases
from bot.store.db import Database
from bot.store.models import OutboxRow  # the runner's row, handed on to each effect's handler

log = logging.getLogger(__name__)

Handler = Callable[[OutboxRow], None]


class _Ran(Enum):
    """How running an effect ended."""

    DONE = "done"  # it succeeded; the caller marks it done
    MOVED_ON = "moved on"  # given up (recorded): the lane goes on
    HELD = "held"  # to be retried (recorded): the lane waits


GiveUp = Callable[[OutboxRow, str], None]


class OutboxRunner:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        handlers: Mapping[str, Handler],
        *,
        lease: timedelta = timedelta(seconds=120),
        max_attempts: int = 15,
        max_backoff: timedelta = timedelta(minutes=5),
        on_give_up: GiveUp | None = None,
        between_effects: Callable[[], None] | None = None,
        on_first_failure: GiveUp | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.handlers = dict(handlers)
        self.lease = lease
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff
        self.on_give_up = on_give_up
        self.between_effects = between_effects or (lambda: None)
        self.on_first_failure = on_first_failure
        self.owner = f"{liveness.this_host()}:{os.getpid()}"  # lease_owner: 64 characters
        self._local = threading.local()
        self._alive: Any = None

    def keep_alive(self) -> None:
        """PostgreSQL: hold, on a connection of its own, an advisory lock naming this process
        while it lives; leases taken from now on can be freed by others once it is gone."""
        if not self.db.is_postgres or self._alive is not None:
            return
        owner = f"{self.owner}:{secrets.token_hex(3)}"
        connection = liveness.announce(self.db.engine, owner)
        if connection is None:  # another live worker's key (a hash collision): leases only expire
            return
        self._alive, self.owner = connection, owner

    def close(self) -> None:
        alive, self._alive = self._alive, None
        if alive is not None:
            liveness.let_go(alive)

    def reclaim_orphans(self) -> int:
        """Free the leases of workers whose process is gone (see store.liveness: PostgreSQL's
        advisory locks, or on SQLite a pid of this host that no longer runs). Only owners that
        announced themselves are judged; the others' leases run out."""
        now = self.clock.now()
        with self.db.transaction() as session:
            freed, dead = outbox_leases.free_dead_leases(session=session, now=now)
        if not dead:
            return 0
        log.warning("freed %s effect(s) leased by workers that are gone: %s", freed, dead)
        return freed

    def lease_owner(self) -> str:
        """Who a lease taken by this thread names (the process, then the thread)."""
        return f"{self.owner}:{threading.get_ident()}"

    def run_claimed(self, row: OutboxRow) -> int:
        """Run an effect its transaction inserted already leased to this thread (the head of
        a lane that transaction opened: `store.enqueue_all`), then the rest of its lane."""
        assert row.lease_owner is not None
        self.between_effects()
        return self._drive(row.lane, row.lease_owner, row)

    def run_lane(self, lane: str, *, budget: int = 200) -> int:
        """Deliver the lane's due effects in order until it is empty, blocked or out of budget."""
        return self._drive(lane, self.lease_owner(), None, budget)

    def _drive(self, lane: str, owner: str, row: OutboxRow | None, budget: int = 200) -> int:
        """Run `row` (already claimed), then claim and run the lane's next ones. An effect
        that succeeded is marked done in the transaction that claims the next: one
        transaction per effect."""
        done = 0
        while True:
            finished: int | None = None
            if row is not None:
                ran = self._run(row, owner)
                if ran is _Ran.HELD:
                    return done
                done += 1
                finished = row.id if ran is _Ran.DONE else None
            if finished is not None and done < budget:  # one statement on PostgreSQL
                with self.db.one_write() as session:
                    row = store.finish_and_claim(
                        session=session,
                        row_id=finished,
                        lane=lane,
                        owner=owner,
                        now=self.clock.now(),
                        lease=self.lease,
                    )
            else:
                with self.db.transaction() as session:
                    now = self.clock.now()
                    if finished is not None:
                        store.finish(session=session, row_id=finished, now=now, owner=owner)
                    row = None
                    if done < budget:
                        row = store.claim_head(
                            session=session, lane=lane, owner=owner, now=now, lease=self.lease
                        )
            if row is None:
                return done
            self.between_effects()

    def sweep(self) -> int:
        self.reclaim_orphans()
        with self.db.read() as session:
            lanes = store.due_lanes(session=session, now=self.clock.now())
        return sum(self.run_lane(lane) for lane in lanes)

    def _run(self, row: OutboxRow, owner: str) -> _Ran:
        assert row.id is not None
        handler = self.handlers.get(row.kind)
        try:
            if handler is None:
                raise IntegrationError("bot", "unknown_effect", retryable=False, detail=row.kind)
            with bound(incident_id=row.incident_id, effect=row.kind, effect_id=row.id):
                handler(row)
        except Deferred as exc:
            with self.db.transaction() as session:
                at = self.clock.now() + timedelta(seconds=exc.retry_after or 1.0)
                store.retry_later(
                    session=session, row_id=row.id, owner=owner, at=at, error=str(exc), refund=True
                )
            return _Ran.HELD
        except IntegrationError as exc:
            return self._failed(row, owner, str(exc), exc.retryable, exc.retry_after)
        except Exception as exc:  # a bug or an unexpected client error: keep it, retry, report
            log.exception("effect %s #%s failed", row.kind, row.id)
            return self._failed(row, owner, f"{type(exc).__name__}: {exc}", True, None)
        return _Ran.DONE

    def _failed(
        self, row: OutboxRow, owner: str, error: str, retryable: bool, retry_after: float | None
    ) -> _Ran:
        assert row.id is not None
        now = self.clock.now()
        if retryable and row.attempts < self.max_attempts:
            backoff = min(timedelta(seconds=2 ** (row.attempts - 1)), self.max_backoff)
            delay = timedelta(seconds=retry_after) if retry_after is not None else backoff
            log.warning(
                "effect %s #%s failed (attempt %s), retry in %s: %s",
                row.kind,
                row.id,
                row.attempts,
                delay,
                error,
            )
            with self.db.transaction() as session:
                store.retry_later(
                    session=session, row_id=row.id, owner=owner, at=now + delay, error=error
                )
            if row.attempts == 1 and self.on_first_failure is not None:
                self._report(self.on_first_failure, row, error)
            return _Ran.HELD
        log.error(
            "effect %s #%s given up after %s attempts: %s", row.kind, row.id, row.attempts, error
        )
        with self.db.transaction() as session:
            store.give_up(session=session, row_id=row.id, owner=owner, now=now, error=error)
        if self.on_give_up is not None:
            self._report(self.on_give_up, row, error)
        return _Ran.MOVED_ON  # the lane moves on

    @staticmethod
    def _report(hook: GiveUp, row: OutboxRow, error: str) -> None:
        try:
            hook(row, error)
        except Exception:
            log.exception("reporting the failure of effect #%s failed", row.id)

"""Helpers for the fault tests: a sandbox on a scripted clock, the outbox drained by advancing
that clock, and counts of what the emulators really took (successful calls only)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from bot.emulators.slack.server import SlackCall
from bot.sandbox import Sandbox, ScriptedClock
from bot.store.models import OutboxRow
from tests.e2e.conftest import People, api


def people_of(sb: Sandbox) -> People:
    return People(
        *(sb.slack.user_id(n) for n in ("alice", "bob", "carol")),
        sb.slack.channel_by_name("general")["id"],  # type: ignore[index]
    )


def _block_ids(params: dict[str, Any]) -> set[str]:
    blocks = params.get("blocks")
    if not isinstance(blocks, list):
        return set()
    return {str(b.get("block_id")) for b in blocks if isinstance(b, dict)}


@dataclass
class Rig:
    sb: Sandbox
    clock: ScriptedClock
    p: People

    # -- time and the outbox -----------------------------------------------------------------
    def sweep(self, seconds: float = 0.0) -> None:
        """Move the bot's clock on and let the scheduler's sweep retry what is due."""
        if seconds:
            self.clock.advance(seconds=seconds)
        self.sb.bot.runner.sweep()
        self.sb.settle()

    def pending(self) -> list[OutboxRow]:
        with self.sb.bot.db.read() as session:
            return list(
                session.exec(
                    select(OutboxRow)
                    .where(col(OutboxRow.done_at).is_(None))
                    .order_by(col(OutboxRow.id))
                ).all()
            )

    def given_up(self) -> list[OutboxRow]:
        with self.sb.bot.db.read() as session:
            return list(session.exec(select(OutboxRow).where(col(OutboxRow.failed))).all())

    def drain(self, step: float = 400.0, rounds: int = 40) -> None:
        """Sweep (the clock moving past any backoff) until no effect is waiting."""
        for _ in range(rounds):
            if not self.pending():
                return
            self.sweep(step)
        raise AssertionError(
            f"effects still pending: {[(r.kind, r.last_error) for r in self.pending()]}"
        )

    # -- what the API says -------------------------------------------------------------------
    def incident(self, incident_id: int = 1) -> dict[str, Any]:
        response = api(self.sb, f"/api/incidents/{incident_id}")
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def incidents(self) -> list[dict[str, Any]]:
        return api(self.sb, "/api/incidents").json()["incidents"]  # type: ignore[no-any-return]

    # -- what Slack took ---------------------------------------------------------------------
    def ok_calls(
        self, method: str, where: Callable[[SlackCall], bool] = lambda _c: True
    ) -> list[SlackCall]:
        return [c for c in self.sb.slack.calls_to(method) if c.ok and where(c)]

    # What Slack holds, not which calls were answered: a call whose answer was lost did its work.
    def channels_created(self) -> list[dict[str, Any]]:
        """The channels the bot made (archived ones too)."""
        slack = self.sb.slack
        with slack._lock:
            ids = [
                c.id
                for c in slack.ws.channels.values()
                if c.creator == slack.bot_user_id and c.id != self.sb.feed_id
            ]
        return [c for c in map(slack.channel, ids) if c is not None and not c.get("is_im")]

    def cards_posted(self) -> list[dict[str, Any]]:
        return [
            m for c in self.channels_created() for m in self._with_block(c["id"], "card.header")
        ]

    def announcements_posted(self) -> list[dict[str, Any]]:
        return self._with_block(self.sb.feed_id, "feed.summary")

    def _with_block(self, channel: str, block_id: str) -> list[dict[str, Any]]:
        return [
            m
            for m in self.sb.slack.messages(channel, system=False)
            if any(b.get("block_id") == block_id for b in m.get("blocks") or [])
        ]

    def lines(self, channel: str) -> list[str]:
        """The texts of the bot's messages in a channel as they are now (system ones left out)."""
        return [
            str(m.get("text") or "")
            for m in self.sb.slack.messages(channel, system=False)
            if m.get("user") == self.sb.slack.bot_user_id
        ]

    def posted(self, channel: str, needle: str) -> int:
        """How many of the bot's messages in `channel` contain `needle` (what Slack holds: a
        post whose answer was lost counts, as people see it)."""
        return sum(
            needle in str(m.get("text") or "")
            for m in self.sb.slack.messages(channel, system=False)
            if m.get("user") == self.sb.slack.bot_user_id
            and not any(b.get("block_id") == "card.header" for b in m.get("blocks") or [])
        )


def rig_for(db_url: str, **sandbox: Any) -> Iterator[Rig]:
    clock = ScriptedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2))
    with Sandbox(db_url, clock=clock, **sandbox) as sb:
        yield Rig(sb, clock, people_of(sb))

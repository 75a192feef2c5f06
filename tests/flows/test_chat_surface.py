"""An incident's message references are (surface, conversation, message): the chat's `kind` is
recorded with the conversation and the announcement it makes, and a bot connected to another
surface never hands those ids to its chat — the effect ends at once, saying why."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import col, select

from bot.core import lifecycle as lc
from bot.core.catalog import default_catalog
from bot.flows import chat_effects as fx
from bot.flows.incidents import IncidentFlows
from bot.flows.outbox import OutboxRunner
from bot.flows.ports import IntegrationError
from bot.store import incident_reads
from bot.store.db import Database
from bot.store.models import OutboxRow
from tests.flows.fakes import FakeChat, StepClock, World

ALICE, BOB = "U0ALICE", "U0BOB"
ELSEWHERE = (
    "chat: other_surface (this incident's conversation is on slack, which this bot is not"
    " connected to)"
)


@pytest.fixture
def world(db: Database) -> Iterator[World]:
    chat, clock, catalog = FakeChat(), StepClock(), default_catalog()
    effects = fx.ChatEffects(db, chat, catalog, clock, feed_channel="CFEED", public_url=None)
    runner = OutboxRunner(db, clock, effects.handlers, on_give_up=effects.gave_up)
    yield World(db, chat, clock, IncidentFlows(db, catalog, clock, runner), runner)


def declare(w: World, key: str = "d1", *, private: bool = False) -> int:
    outcome = w.flows.declare(
        title="Checkout API returns 500s",
        severity="SEV2",
        actor=ALICE,
        request_key=key,
        private=private,
    )
    assert outcome.ok and outcome.incident_id is not None, outcome.message
    return outcome.incident_id


def surface_of(w: World, incident_id: int) -> str | None:
    with w.db.read() as session:
        summary = incident_reads.get_summary(session=session, incident_id=incident_id)
    assert summary is not None
    return summary.chat_surface


def failures(w: World) -> list[tuple[str, str | None]]:
    with w.db.read() as session:
        rows = session.exec(
            select(OutboxRow).where(OutboxRow.failed == True).order_by(col(OutboxRow.id))  # noqa: E712
        ).all()  # in the order they were queued (PostgreSQL returns rows in no order of its own)
    return [(row.kind, row.last_error) for row in rows]


def test_the_conversation_is_recorded_with_the_surface_that_made_it(world: World) -> None:
    world.chat.kind = "teams"
    private = declare(world, private=True)  # a channel, no announcement
    assert world.chat.names()[0] == "create_channel" and "announce" not in world.chat.names()
    assert surface_of(world, private) == "teams"


def test_an_announcement_without_a_conversation_is_recorded_with_its_surface(
    world: World,
) -> None:
    world.chat.failures = [IntegrationError("slack", "restricted_action", retryable=False)]
    incident_id = declare(world)  # the channel cannot be made; the feed is still told
    assert "announce" in world.chat.names() and "create_channel" not in world.chat.names()
    assert surface_of(world, incident_id) == "slack"


def test_an_incident_whose_conversation_is_on_another_surface_is_never_posted_to(
    world: World,
) -> None:
    incident_id = declare(world)
    assert surface_of(world, incident_id) == "slack"
    world.chat.kind = "teams"  # the deployment now runs on another surface
    world.chat.calls.clear()
    for n, command in enumerate([lc.AddNote("rolled back"), lc.ChangeStatus("identified")]):
        assert world.flows.act(
            command=command, actor=BOB, request_key=f"a{n}", incident_id=incident_id
        ).ok
    world.runner.sweep()
    assert world.chat.calls == []  # neither the lines, the card, the topic nor the announcement
    assert failures(world) == [
        (fx.POST_LINE, ELSEWHERE),
        (fx.REFRESH, ELSEWHERE),
        (fx.POST_LINE, ELSEWHERE),
        (fx.REFRESH, ELSEWHERE),
    ]  # at once, without retrying; and no notice queued where it cannot go


def test_a_channel_made_on_another_surface_is_not_finished_on_this_one(world: World) -> None:
    """The channel was made, then its effect stopped before the card (here: a failed invite);
    by its retry the bot runs on another surface: it must not invite, post or pin there."""

    def invite_fails(channel_id: str, users: object) -> None:
        raise IntegrationError("slack", "internal_error", retryable=True)

    world.chat.invite = invite_fails  # type: ignore[method-assign]
    incident_id = declare(world)
    assert surface_of(world, incident_id) == "slack"
    world.chat.kind = "teams"
    world.chat.calls.clear()
    world.clock.advance(seconds=5)
    world.runner.sweep()
    assert world.chat.calls == []
    assert failures(world) == [(fx.OPEN_CHANNEL, ELSEWHERE), (fx.ANNOUNCE, ELSEWHERE)]

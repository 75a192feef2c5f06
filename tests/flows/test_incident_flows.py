"""Flows over the real store (SQLite and PostgreSQL) with a recording Chat."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlmodel import select

from bot.core import lifecycle as lc
from bot.core.catalog import default_catalog
from bot.core.milestones import Milestone
from bot.flows import chat_effects as fx
from bot.flows.incidents import NOT_AN_INCIDENT, IncidentFlows
from bot.flows.outbox import OutboxRunner
from bot.flows.ports import ConversationGone, Deferred, IntegrationError, RateLimited
from bot.store import incidents as q
from bot.store.db import Database
from bot.store.models import Incident, OutboxRow, ProcessedRequest, TimelineRow
from tests.flows.fakes import FakeChat, StepClock, World

ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"


@pytest.fixture
def world(db: Database) -> Iterator[World]:
    chat, clock, catalog = FakeChat(), StepClock(), default_catalog()
    effects = fx.ChatEffects(
        db, chat, catalog, clock, feed_channel="CFEED", public_url="https://bot.example.com"
    )
    runner = OutboxRunner(db, clock, effects.handlers, on_give_up=effects.gave_up)
    yield World(db, chat, clock, IncidentFlows(db, catalog, clock, runner), runner)


def declare(w: World, key: str = "t1", **kwargs: object) -> int:
    outcome = w.flows.declare(
        title="Checkout API returns 500s", severity="SEV2", actor=ALICE, request_key=key, **kwargs
    )  # type: ignore[arg-type]
    assert outcome.ok, outcome.message
    assert outcome.incident_id is not None
    return outcome.incident_id


def test_declare_stores_everything_and_opens_the_channel_in_order(world: World) -> None:
    incident_id = declare(world)
    assert world.chat.names() == [
        "create_channel",
        "invite",
        "set_topic",
        "post_card",
        "pin",
        "announce",
    ]
    assert world.chat.calls[0][1] == ("inc-20261126-checkout-api-returns-500s", False)
    with world.db.read() as s:
        incident = q.get_incident(session=s, incident_id=incident_id)
        assert incident is not None
        assert (
            incident.conversation_id,
            incident.card_message_id,
            incident.announce_message_id,
        ) == (
            "C0001",
            "1700000000.000001",
            "1700000000.000002",
        )
        assert set(q.milestones(session=s, incident_id=incident_id)) == {
            Milestone.IMPACT_STARTED,
            Milestone.DETECTED,
            Milestone.DECLARED,
        }
        assert q.roles(session=s, incident_id=incident_id) == {"commander": ALICE}
        assert (
            q.milestones(session=s, incident_id=incident_id)[Milestone.DECLARED].at
            == world.clock.now()
        )
        assert world.clock.now().tzinfo is not None
        assert [r.kind for r in q.timeline(session=s, incident_id=incident_id)] == [
            "declared",
            "role",
        ]


def test_a_retried_request_declares_once(world: World) -> None:
    declare(world, key="same")
    again = world.flows.declare(
        title="Checkout API returns 500s", severity="SEV2", actor=ALICE, request_key="same"
    )
    assert again.duplicate
    with world.db.read() as s:
        assert len(s.exec(select(Incident)).all()) == 1


def test_a_channel_effect_paced_after_its_channel_was_made_never_asks_for_a_second(
    world: World,
) -> None:
    """The channel's first run asks Slack before reading anything; a run paced after the
    channel was made gives its attempt back, so its next run is again "attempt 1": it must read
    the incident and find the channel, not ask again."""
    invite = world.chat.invite
    paced: list[str] = []

    def invite_paced_once(channel_id: str, users: object) -> None:
        if not paced:
            paced.append(channel_id)
            raise Deferred("slack", "conversations.invite paced", 0.0)
        invite(channel_id, users)  # type: ignore[arg-type]

    world.chat.invite = invite_paced_once  # type: ignore[method-assign]
    incident_id = declare(world)
    with world.db.read() as s:
        (held,) = s.exec(select(OutboxRow).where(OutboxRow.kind == fx.OPEN_CHANNEL)).all()
        assert (held.attempts, held.done_at) == (0, None)  # the attempt given back
    world.clock.advance(seconds=1)
    world.runner.run_lane(fx.lane(incident_id))
    assert world.chat.names().count("create_channel") == 1
    assert world.chat.names()[:4] == ["create_channel", "invite", "set_topic", "post_card"]
    with world.db.read() as s:
        incident = q.get_incident(session=s, incident_id=incident_id)
        assert incident is not None and (incident.conversation_id, incident.card_message_id) == (
            "C0001",
            "1700000000.000001",
        )


def test_refusal_stores_nothing_not_even_the_request_id(world: World) -> None:
    outcome = world.flows.declare(title=" ", severity="SEV2", actor=ALICE, request_key="k")
    assert not outcome.ok and "title" in outcome.message
    incident_id = declare(world)
    refused = world.flows.act(
        command=lc.ChangeStatus("closed"), actor=BOB, request_key="k2", incident_id=incident_id
    )
    assert not refused.ok and "Resolve it first" in refused.message
    with world.db.read() as s:
        assert s.get(ProcessedRequest, "k") is None and s.get(ProcessedRequest, "k2") is None
        assert len(q.timeline(session=s, incident_id=incident_id)) == 2


def test_acting_outside_an_incident_channel_says_what_to_do(world: World) -> None:
    outcome = world.flows.act(
        command=lc.Acknowledge(), actor=BOB, request_key="x", channel_id="CGENERAL"
    )
    assert (outcome.ok, outcome.message) == (False, NOT_AN_INCIDENT)


def test_changes_post_a_line_and_refresh_the_card_and_topic(world: World) -> None:
    incident_id = declare(world)
    world.chat.calls.clear()
    world.clock.advance(minutes=4)
    assert world.flows.act(
        command=lc.ChangeStatus("identified"), actor=BOB, request_key="s1", channel_id="C0001"
    ).ok
    assert world.chat.names() == ["post_line", "update_announcement", "update_card", "set_topic"]
    assert world.chat.calls[0][1] == ("C0001", "status", "Status: Investigating → Identified")
    world.chat.calls.clear()
    world.flows.act(
        command=lc.AddNote("cache cold"), actor=BOB, request_key="n1", incident_id=incident_id
    )
    assert world.chat.names() == [
        "post_line",
        "update_announcement",
        "update_card",
    ]  # topic unchanged: not re-set


def test_concurrent_double_clicks_acknowledge_once(world: World) -> None:
    incident_id = declare(world)
    barrier = threading.Barrier(6)
    results = []

    def click(n: int) -> None:
        barrier.wait()
        results.append(
            world.flows.act(
                command=lc.Acknowledge(),
                actor=f"U{n}",
                request_key=f"click{n}",
                incident_id=incident_id,
            )
        )

    threads = [threading.Thread(target=click, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.ok for r in results) == [False] * 5 + [True]
    with world.db.read() as s:
        kinds = [r.kind for r in q.timeline(session=s, incident_id=incident_id)]
    assert kinds.count("acknowledged") == 1


def test_name_taken_adds_a_suffix(world: World) -> None:
    world.chat.taken.add("inc-20261126-checkout-api-returns-500s")
    world.chat.taken.add("inc-20261126-checkout-api-returns-500s-2")
    incident_id = declare(world)
    with world.db.read() as s:
        incident = q.get_incident(session=s, incident_id=incident_id)
        assert (
            incident is not None
            and incident.conversation_name == "inc-20261126-checkout-api-returns-500s-3"
        )


def test_a_slack_outage_holds_the_lane_then_delivers_everything_once_in_order(world: World) -> None:
    world.chat.failures = [IntegrationError("slack", "internal_error", retryable=True)]
    incident_id = declare(world)
    assert world.chat.names() == []  # first attempt failed: nothing made, nothing lost
    assert world.flows.act(
        command=lc.ChangeStatus("identified"), actor=BOB, request_key="s", incident_id=incident_id
    ).ok
    with world.db.read() as s:
        incident = q.get_incident(session=s, incident_id=incident_id)
        assert (
            incident is not None and incident.status == "identified"
        )  # the state change did not wait for Slack
    assert world.runner.sweep() == 0  # backoff: not yet due
    world.clock.advance(seconds=2)
    world.runner.sweep()
    assert world.chat.names() == [
        "create_channel",
        "invite",
        "set_topic",
        "post_card",
        "pin",
        "announce",
        "post_line",
        "update_announcement",
        "update_card",
    ]
    world.clock.advance(minutes=10)
    assert world.runner.sweep() == 0


def test_rate_limit_waits_for_retry_after(world: World) -> None:
    world.chat.failures = [RateLimited("slack", 30)]
    declare(world)
    world.clock.advance(seconds=29)
    assert world.runner.sweep() == 0
    world.clock.advance(seconds=1)
    assert world.runner.sweep() == 2  # open_channel, announce


def test_a_permanent_failure_is_given_up_and_reported(world: World) -> None:
    incident_id = declare(world)
    world.chat.failures = [ConversationGone("slack", "is_archived")]
    world.flows.act(command=lc.AddNote("x"), actor=BOB, request_key="n", incident_id=incident_id)
    with world.db.read() as s:
        rows = s.exec(select(OutboxRow).where(OutboxRow.failed == True)).all()  # noqa: E712
        assert [(r.kind, r.last_error) for r in rows] == [(fx.POST_LINE, "slack: is_archived")]
    world.runner.sweep()
    assert (
        "post_line",
        (
            "C0001",
            "error",
            "I could not post an update after 1 attempts (slack: is_archived). The incident itself is saved; check the bot's Slack access and logs.",
        ),
    ) in world.chat.calls


def test_a_notice_its_channel_cannot_take_goes_to_the_feed_with_the_surfaces_answer(
    world: World,
) -> None:
    incident_id = declare(world)
    world.chat.gone.add("C0001")  # archived by someone mid-incident
    world.flows.act(command=lc.AddNote("x"), actor=BOB, request_key="n", incident_id=incident_id)
    world.runner.sweep()
    (notice,) = [
        args for name, args in world.chat.calls if name == "post_line" and args[1] == "error"
    ]
    assert notice[0] == "CFEED"
    assert str(notice[2]).endswith("(and its channel: Slack says is_archived)")


def test_pins_follow_the_reactions(world: World) -> None:
    declare(world)
    assert world.flows.pin(
        channel_id="C0001", ts="1764147600.000100", actor=BOB, request_key="e1"
    ).ok
    assert world.flows.pin(
        channel_id="C0001", ts="1764147600.000100", actor=CAROL, request_key="e2"
    ).ok
    assert world.flows.pin(
        channel_id="C0001", ts="1764147600.000100", actor=BOB, request_key="e1"
    ).duplicate
    with world.db.read() as s:
        (pin,) = s.exec(select(TimelineRow).where(TimelineRow.kind == "pin")).all()
        assert pin.text == "a message" and pin.data["pinned_by"] == [BOB, CAROL]
        assert pin.data["permalink"].endswith("/p1764147600000100")
        assert pin.data["said_at"].startswith("2025-11-26T09:00:00")
    world.flows.unpin(channel_id="C0001", ts="1764147600.000100", actor=BOB, request_key="e3")
    world.flows.unpin(channel_id="C0001", ts="1764147600.000100", actor=CAROL, request_key="e4")
    with world.db.read() as s:
        assert s.exec(select(TimelineRow).where(TimelineRow.kind == "pin")).all() == []
    assert not world.flows.pin(channel_id="CELSEWHERE", ts="1.2", actor=BOB, request_key="e5").ok


def test_a_paced_call_waits_without_using_up_attempts(world: World) -> None:
    from bot.flows.ports import Deferred

    world.runner.max_attempts = 2
    world.chat.failures = [Deferred("slack", "conversations.create paced", 40.0) for _ in range(5)]
    declare(world)
    for _ in range(4):  # paced four more times: far more than max_attempts, still not given up
        world.clock.advance(seconds=40)
        world.runner.sweep()
    with world.db.read() as s:
        (row,) = [r for r in s.exec(select(OutboxRow)).all() if r.kind == fx.OPEN_CHANNEL]
        assert (row.attempts, row.failed, row.done_at) == (0, False, None)
    world.clock.advance(seconds=40)
    world.runner.sweep()
    assert world.chat.names()[:2] == ["create_channel", "invite"]

"""The flows refuse as the core does: each refusal says what was refused, why and, where there is
one, what to do instead; a refused unit of work hands it on in its `Outcome` (its message the
whole plain text), a refused query raises it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest

from bot.core import lifecycle as lc
from bot.core.catalog import default_catalog
from bot.core.lifecycle import Refusal, Refused
from bot.core.people import people_in
from bot.flows import chat_effects as fx
from bot.flows.incidents import IncidentFlows
from bot.flows.outbox import OutboxRunner
from bot.store.db import Database
from tests.flows.fakes import FakeChat, StepClock, World

ALICE, BOB = "U0ALICE", "U0BOB"
NOWHERE = "CGENERAL"  # a channel of no incident


@pytest.fixture
def world(db: Database) -> Iterator[World]:
    chat, clock, catalog = FakeChat(), StepClock(), default_catalog()
    effects = fx.ChatEffects(db, chat, catalog, clock, feed_channel="CFEED", public_url=None)
    runner = OutboxRunner(db, clock, effects.handlers)
    yield World(db, chat, clock, IncidentFlows(db, catalog, clock, runner), runner)


class Incident:
    """A declared incident: its id and its channel."""

    def __init__(self, w: World, *, private: bool = False) -> None:
        outcome = w.flows.declare(
            title="Checkout down", severity="SEV2", actor=ALICE, request_key="d", private=private
        )
        assert outcome.ok and outcome.incident_id is not None, outcome.message
        summary = w.flows.incident(outcome.incident_id)
        assert summary is not None and summary.conversation_id is not None
        self.id, self.channel = outcome.incident_id, summary.conversation_id


def refusal_of(call: Callable[[], object]) -> Refusal:
    """The refusal a flow answered (an Outcome) or raised (a query)."""
    try:
        outcome = call()
    except Refused as refused:
        return refused.refusal
    assert not getattr(outcome, "ok", True), outcome
    refusal = getattr(outcome, "refusal", None)
    assert isinstance(refusal, Refusal), f"refused without its parts: {outcome}"
    assert getattr(outcome, "message", None) == refusal.text
    return refusal


def w_id(w: World) -> int:
    """A new incident's id."""
    return Incident(w).id


def w_channel(w: World) -> str:
    """A new incident's channel."""
    return Incident(w).channel


Asked = Callable[[World], Callable[[], object]]
NOT_AN_INCIDENT = ("This channel is not an incident channel.", "Run this in the incident's")

# (what is asked, what, a part of why, a part of the fix — None: there is none)
CASES: dict[str, tuple[Asked, str, str, str | None]] = {
    "acting outside an incident": (
        lambda w: (
            lambda: w.flows.act(
                command=lc.Acknowledge(), actor=BOB, request_key="a", channel_id=NOWHERE
            )
        ),
        "acknowledge the incident",
        *NOT_AN_INCIDENT,
    ),
    "a decision the core refuses": (
        lambda w: (
            lambda: w.flows.act(
                command=lc.ChangeStatus("closed"), actor=ALICE, request_key="a", incident_id=w_id(w)
            )
        ),
        "close the incident",
        "only a resolved incident can be closed",
        "Resolve it first",
    ),
    "paging outside an incident": (
        lambda w: (
            lambda: w.flows.page(channel_id=NOWHERE, service="checkout", actor=BOB, request_key="p")
        ),
        "page a service",
        *NOT_AN_INCIDENT,
    ),
    "paging without a pager": (
        lambda w: (
            lambda: w.flows.page(
                channel_id=w_channel(w), service="checkout", actor=BOB, request_key="p"
            )
        ),
        "page a service",
        "No pager is set up",
        None,
    ),
    "an unknown playbook": (
        lambda w: (
            lambda: w.flows.attach_by_name(
                channel_id=w_channel(w), name="nope", actor=BOB, request_key="p"
            )
        ),
        "attach a playbook",
        "No playbook `nope`.",
        "Playbooks: none",
    ),
    "the playbooks outside an incident": (
        lambda w: lambda: w.flows.candidates(NOWHERE),
        "list the playbooks",
        *NOT_AN_INCIDENT,
    ),
    "a step of no playbook": (
        lambda w: (
            lambda: w.flows.mark_step(
                run_id=999, step="restart", actor=BOB, request_key="s", done=True
            )
        ),
        "mark a step done",
        "That step is not on any playbook here.",
        None,
    ),
    "a follow-up due in the past": (
        lambda w: (
            lambda: w.flows.add_followup(
                channel_id=w_channel(w),
                text="alert on 5xx",
                owner=None,
                due_on=date(2020, 1, 1),
                actor=BOB,
                request_key="f",
            )
        ),
        "add a follow-up",
        "2020-01-01 is in the past.",
        "Give a due date from today on.",
    ),
    "a follow-up that is gone": (
        lambda w: (
            lambda: w.flows.set_followup_state(
                followup_id=999, done=True, actor=BOB, request_key="f"
            )
        ),
        "mark a follow-up done",
        "That follow-up no longer exists.",
        None,
    ),
    "the follow-ups outside an incident": (
        lambda w: lambda: w.flows.followups(NOWHERE),
        "list the follow-ups",
        *NOT_AN_INCIDENT,
    ),
    "snoozing an incident that is gone": (
        lambda w: (
            lambda: w.flows.snooze_status_update(
                incident_id=999, minutes=30, actor=BOB, request_key="z"
            )
        ),
        "snooze the status-update reminder",
        "no longer needs status updates",
        None,
    ),
    "exporting a private incident's post-mortem": (
        lambda w: (
            lambda: w.flows.export_postmortem(
                incident_id=Incident(w, private=True).id, actor=ALICE, request_key="e"
            )
        ),
        "export the post-mortem",
        "Not exported: this incident is private",
        "The draft stays here: `/incident postmortem`.",
    ),
    "a pin outside an incident": (
        lambda w: (
            lambda: w.flows.pin(
                channel_id=NOWHERE, ts="1700000000.000100", actor=BOB, request_key="pin"
            )
        ),
        "pin a message",
        *NOT_AN_INCIDENT,
    ),
    "the milestones outside an incident": (
        lambda w: lambda: w.flows.milestones_of(NOWHERE),
        "look up the incident's milestones",
        *NOT_AN_INCIDENT,
    ),
    "a drill of an unknown playbook": (
        lambda w: lambda: w.flows.start_drill(name="nope", actor=ALICE, request_key="dr"),
        "start a drill",
        "No playbook `nope` to drill.",
        "Playbooks: none.",
    ),
}


@pytest.mark.parametrize(("asked", "what", "why", "fix"), list(CASES.values()), ids=list(CASES))
def test_each_refusal_of_the_flows_says_what_why_and_what_to_do_instead(
    world: World, asked: Asked, what: str, why: str, fix: str | None
) -> None:
    refusal = refusal_of(asked(world))
    assert refusal.what == what
    assert why in refusal.why
    if fix is None:
        assert refusal.fix is None
    else:
        assert refusal.fix is not None and fix in refusal.fix and fix not in refusal.why
    assert set(people_in(refusal.text)) == set(refusal.who)

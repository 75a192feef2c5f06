"""What a declaration costs the database on its way to Slack, on SQLite and PostgreSQL (where its
rows take two statements): the channel is asked for right after the commit (its effect was inserted already leased to the
delivering thread: no claim), and lanes the declaration added nothing to are never claimed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import col, select

from bot.core.catalog import PagerTarget, default_catalog
from bot.flows import chat_effects as fx
from bot.flows.incidents import IncidentFlows
from bot.flows.outbox import OutboxRunner
from bot.flows.pagers import Pagers
from bot.flows.paging import OPEN
from bot.store.db import Database
from bot.store.models import OutboxRow, PageRow, TimerRow
from tests.flows.fakes import FakeChat, FakePager, StepClock

ALICE = "U0ALICE"
CREATE = "<conversations.create>"


class Recorder:
    """The statements the engine sends (verb and table), the commits, and the channel call."""

    def __init__(self, db: Database, chat: FakeChat) -> None:
        self.seen: list[str] = []
        self.params: list[str] = []
        event.listen(db.engine, "before_cursor_execute", self._statement)
        event.listen(db.engine, "commit", self._commit)
        create = chat.create_channel

        def create_channel(name: str, *, private: bool) -> str:
            self.seen.append(CREATE)
            return create(name, private=private)

        chat.create_channel = create_channel  # type: ignore[method-assign]

    def _statement(self, _c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
        words = statement.split()
        verb = words[0].upper()
        if verb == "WITH":  # data-modifying CTEs (PostgreSQL): what they change, in order
            changes = re.findall(r"(INSERT INTO|UPDATE) (\w+)", statement)
            if changes == [("UPDATE", "outbox")] * 2:  # an effect done, the next claimed
                self.seen.append("UPDATE outbox done+claim")
            else:
                self.seen.append("INSERT " + "+".join(table for _, table in changes))
            self.params.append(repr(params))
        elif verb in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            anchor = {"SELECT": "FROM", "INSERT": "INTO", "DELETE": "FROM"}.get(verb)
            table = words[words.index(anchor) + 1] if anchor in words else words[1]
            if (verb, table) == ("UPDATE", "outbox"):  # a claim counts the attempt; else done
                table += " claim" if "attempts=" in statement.split("WHERE")[0] else " done"
            self.seen.append(f"{verb} {table}")
            self.params.append(repr(params))

    def _commit(self, _conn: Any) -> None:
        self.seen.append("COMMIT")


@pytest.fixture
def flows(db: Database) -> Iterator[tuple[IncidentFlows, Recorder]]:
    chat, clock, catalog = FakeChat(), StepClock(), default_catalog()
    effects = fx.ChatEffects(db, chat, catalog, clock, feed_channel="CFEED", public_url=None)
    runner = OutboxRunner(db, clock, effects.handlers, on_give_up=effects.gave_up)
    flows = IncidentFlows(db, catalog, clock, runner)
    recorder = Recorder(db, chat)
    yield flows, recorder
    event.remove(db.engine, "before_cursor_execute", recorder._statement)
    event.remove(db.engine, "commit", recorder._commit)


def test_slack_is_asked_for_the_channel_right_after_the_declaration_commits(
    db: Database, flows: tuple[IncidentFlows, Recorder]
) -> None:
    incident_flows, recorded = flows
    outcome = incident_flows.declare(
        title="Checkout API returns 500s", severity="SEV3", actor=ALICE, request_key="k1"
    )
    assert outcome.ok
    seen = recorded.seen
    before_slack = seen[: seen.index(CREATE)]
    if db.is_postgres:  # every row in one statement, which commits by itself (no BEGIN/COMMIT)
        assert before_slack == [
            "INSERT processed_request+incident+milestone+role_assignment+timeline_entry+timer+outbox"
        ]
    else:
        assert before_slack == [
            "INSERT processed_request",
            "INSERT incident",
            "INSERT milestone",
            "INSERT role_assignment",
            "INSERT timeline_entry",
            "INSERT outbox",  # the channel and the announcement, in one statement
            "INSERT timer",  # the status-update reminder and the stale-open watch, in one
            "COMMIT",  # and the channel's effect carries what asking takes: nothing is read
        ]
    # the incident is never read back: the channel's record returns the row, and the
    # announcement (the lane's next effect) takes the card the channel's effect just made
    assert "SELECT incident" not in seen
    assert seen.count("SELECT role_assignment") == 1
    with db.read() as session:
        rows = session.exec(select(OutboxRow).order_by(OutboxRow.id)).all()  # type: ignore[arg-type]
        timers = session.exec(select(TimerRow.kind)).all()
    assert [(r.kind, r.attempts, r.done_at is not None) for r in rows] == [
        (fx.OPEN_CHANNEL, 1, True),
        (fx.ANNOUNCE, 1, True),
    ]
    assert sorted(timers) == ["stale_open", "status_update"]  # a commander: no nudge


def test_lanes_the_declaration_added_nothing_to_are_not_claimed(
    flows: tuple[IncidentFlows, Recorder],
) -> None:
    incident_flows, recorded = flows
    assert incident_flows.declare(
        title="Search is slow", severity="SEV3", actor=ALICE, request_key="k2"
    ).ok
    mentioned = " ".join(recorded.params)
    assert "pager:1" not in mentioned and "tracker:1" not in mentioned


def test_an_effect_is_marked_done_in_the_transaction_that_claims_the_next(
    db: Database, flows: tuple[IncidentFlows, Recorder]
) -> None:
    incident_flows, recorded = flows
    assert incident_flows.declare(
        title="Search is slow", severity="SEV3", actor=ALICE, request_key="k3"
    ).ok
    seen = recorded.seen[recorded.seen.index(CREATE) :]
    outbox = [s for s in seen if s.startswith("UPDATE outbox")]
    if db.is_postgres:  # in the same statement, which commits by itself
        assert outbox == ["UPDATE outbox done+claim"] * 2
        return
    assert outbox == [
        "UPDATE outbox done",  # the channel's effect…
        "UPDATE outbox claim",  # …with the announcement's claim
        "UPDATE outbox done",  # the announcement…
        "UPDATE outbox claim",  # …with the look for a next one (none)
    ]
    for done in (i for i, s in enumerate(seen) if s == "UPDATE outbox done"):
        assert seen[done + 1] == "UPDATE outbox claim"  # no COMMIT between


def test_a_declaration_that_pages_at_once_writes_its_page_in_the_same_transaction(
    db: Database,
) -> None:
    """What the declaration sets off beyond its own rows (a page here, or a playbook) is
    written with them, atomically: then it is not one statement alone."""
    chat, clock, catalog = FakeChat(), StepClock(), default_catalog()
    effects = fx.ChatEffects(db, chat, catalog, clock, feed_channel="CFEED", public_url=None)
    runner = OutboxRunner(db, clock, effects.handlers, on_give_up=effects.gave_up)
    paging = Pagers(
        by_kind={"fake": FakePager("fake", "Fake")},
        targets={"fake": PagerTarget(service_id="PSERVICE")},
    )
    flows = IncidentFlows(db, catalog, clock, runner, paging=paging)
    recorded = Recorder(db, chat)
    try:
        outcome = flows.declare(
            title="Checkout is down", severity="SEV1", actor=ALICE, request_key="k9"
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", recorded._statement)
        event.remove(db.engine, "commit", recorded._commit)
    assert outcome.ok and outcome.incident_id is not None
    before_slack = recorded.seen[: recorded.seen.index(CREATE)]
    assert before_slack[-1] == "COMMIT" and "INSERT page" in before_slack
    with db.read() as session:
        pages = session.exec(select(PageRow)).all()
        kinds = session.exec(select(OutboxRow.kind).order_by(col(OutboxRow.id))).all()
    assert [(p.incident_id, p.target) for p in pages] == [(outcome.incident_id, "PSERVICE")]
    assert kinds[:2] == [fx.OPEN_CHANNEL, fx.ANNOUNCE]
    assert OPEN in kinds

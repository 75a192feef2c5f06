"""`register` wires each listener to what Slack sends, through Bolt's own dispatch (signature
checked); a listener that raises is a 500, not an ack; and with the real inbox on the database,
a request is stored before the ack and a replay is stored once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest
from slack_bolt import Ack
from sqlmodel import Session, select

from bot.adapters.slack import blocks as b, checklist, modals
from bot.adapters.slack.app import build_bolt_app
from bot.adapters.slack.listeners.actions import BUTTONS
from bot.adapters.slack.listeners.commands import incident_command
from bot.flows.inbox import Inbox
from bot.store.db import Database
from bot.store.models import InboxRow


@pytest.fixture
def bolt(rig: Any) -> Iterator[Callable[[], Any]]:
    """Dispatch the last request Slack sent through the Bolt app built on the rig's context."""
    pool = ThreadPoolExecutor(2)
    ctx = rig.context(work=SimpleNamespace(listeners=pool))
    app = build_bolt_app(client=rig.client, signing_secret=rig.emu.signing_secret, ctx=ctx)
    yield lambda: app.dispatch(rig.last_request())
    pool.shutdown()


def handlers(rig: Any) -> list[str]:
    return [work for _key, _lane, work, _body in rig.inbox.accepted]


def test_every_work_function_is_registered_with_the_inbox(rig: Any, bolt: Any) -> None:
    assert set(rig.inbox.handlers) == {"command", "action", "view", "event", "shortcut"}


def test_the_command_reaches_its_listener(rig: Any, bolt: Any) -> None:
    rig.command("ack")
    response = bolt()
    assert (response.status, response.body) == (200, "")
    assert handlers(rig) == ["command"]


@pytest.mark.parametrize("action_id", [*BUTTONS, f"{b.SNOOZE}.15", f"{b.SNOOZE}.60"])
def test_every_button_reaches_the_click_listener(rig: Any, bolt: Any, action_id: str) -> None:
    rig.click(action_id, "42")
    assert bolt().status == 200
    assert handlers(rig) == ["action"]


def test_a_button_of_no_listener_is_not_stored(rig: Any, bolt: Any) -> None:
    rig.click("incident.unknown", "42")
    assert bolt().status == 404  # Bolt's answer when no listener matches
    assert handlers(rig) == []


@pytest.mark.parametrize(
    ("form", "values"),
    [
        (
            lambda rig: modals.declare_modal(
                rig.ctx.catalog, now=rig.clock.now(), channel_id=rig.channel, severity=None
            ),
            {"title": "Checkout down"},
        ),
        (
            lambda rig: modals.status_modal(rig.ctx.catalog, incident_id=42, current="identified"),
            {"status": "monitoring"},
        ),
        (
            lambda rig: modals.severity_modal(rig.ctx.catalog, incident_id=42, current="SEV2"),
            {"severity": "SEV1"},
        ),
        (lambda rig: checklist.skip_form(7, "restart-db", "Restart"), {"reason": "not needed"}),
        (
            lambda rig: modals.followup_modal(channel_id=rig.channel, text="x", permalink=None),
            {},
        ),
        (
            lambda rig: modals.timestamps_modal(incident_id=42, stamps={}),
            {"impact_started_at": 1772455200},
        ),
    ],
)
def test_every_form_reaches_its_listener(rig: Any, bolt: Any, form: Any, values: Any) -> None:
    rig.submit(form(rig), values)
    assert bolt().status == 200
    assert handlers(rig) == ["view"]


@pytest.mark.parametrize("added", [True, False])
def test_pushpins_reach_the_reaction_listener(rig: Any, bolt: Any, added: bool) -> None:
    ts = rig.said()
    rig.react(ts, "pushpin")
    if not added:
        rig.react(ts, "pushpin", added=False)
    assert bolt().status == 200
    assert handlers(rig) == ["event"]


def test_the_message_shortcut_reaches_its_listener(rig: Any, bolt: Any) -> None:
    rig.message_shortcut(rig.said(), modals.ADD_FOLLOWUP_SHORTCUT)
    assert bolt().status == 200
    assert handlers(rig) == ["shortcut"]


def test_a_request_the_inbox_refuses_is_a_500_not_an_ack(rig: Any, bolt: Any) -> None:
    rig.inbox.refuse = RuntimeError("database is down")
    rig.command("ack")
    response = bolt()
    assert (response.status, response.body) == (500, "")


def test_a_forged_request_is_refused_before_any_listener(rig: Any, bolt: Any) -> None:
    rig.command("ack", signature="v0=" + "0" * 64)
    assert bolt().status == 401
    assert handlers(rig) == []


# -- with the real inbox --------------------------------------------------------------------------
class StoredWhenAcked(Ack):
    """Bolt's `Ack`, counting the inbox rows at the moment it is called."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db
        self.rows_when_acked: int | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with Session(self.db.engine) as session:
            self.rows_when_acked = len(session.exec(select(InboxRow)).all())
        return super().__call__(*args, **kwargs)


def test_with_the_real_inbox_the_request_is_stored_before_the_ack_and_once(
    rig: Any, db: Database
) -> None:
    done: list[dict[str, Any]] = []
    inbox = Inbox(db, rig.clock, owner=lambda: "listeners-test", workers=1)
    inbox.register("command", done.append)
    ctx = rig.context(inbox=inbox)
    body = rig.command("status identified bad deploy")

    first = StoredWhenAcked(db)
    incident_command(ctx, first, body)
    replay = StoredWhenAcked(db)  # Slack retries with the same trigger
    incident_command(ctx, replay, body)

    assert (first.rows_when_acked, replay.rows_when_acked) == (1, 1)
    assert first.response is not None and first.response.status == 200
    assert inbox.wait_idle(10)
    assert done == [body]
    with Session(db.engine) as session:
        [row] = session.exec(select(InboxRow)).all()
    assert (row.key, row.lane, row.handler) == (
        f"slack:trigger:{body['trigger_id']}",
        f"slack:{rig.channel}",
        "command",
    )
    inbox.stop(1)

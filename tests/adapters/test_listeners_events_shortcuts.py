"""Events and the message shortcut: a :pushpin: reaction (added or removed) and "Add follow-up"
are stored in their channel's lane before the ack; the work pins or unpins the message, or
opens the follow-up form on it."""

from __future__ import annotations

from typing import Any

import pytest

from bot.adapters.slack import modals
from bot.adapters.slack.listeners import FAILED
from bot.adapters.slack.listeners.events import event, reaction
from bot.adapters.slack.listeners.shortcuts import add_followup, shortcut
from bot.core.lifecycle import Refusal, Refused

NOT_HERE = Refused(Refusal("do this", "This is not an incident channel."))


# -- reactions ------------------------------------------------------------------------------------
def test_a_pushpin_is_stored_in_its_channels_lane_before_the_ack(rig: Any) -> None:
    body = rig.react(rig.said(), "pushpin")
    ack = rig.ack()
    reaction(rig.ctx, ack, body, body["event"])
    key = f"slack:event:{body['event_id']}"
    assert rig.inbox.accepted == [(key, f"slack:{rig.channel}", "event", body)]
    assert rig.journal.steps == ["stored", "acked"]
    assert (ack.status, ack.answer) == (200, {})


def test_other_reactions_are_only_acked(rig: Any) -> None:
    body = rig.react(rig.said(), "eyes")
    ack = rig.ack()
    reaction(rig.ctx, ack, body, body["event"])
    assert rig.inbox.accepted == []
    assert ack.status == 200


@pytest.mark.parametrize(("added", "flow"), [(True, "pin"), (False, "unpin")])
def test_the_work_pins_or_unpins_the_message(rig: Any, work: Any, added: bool, flow: str) -> None:
    ts = rig.said()
    body = rig.react(ts, "pushpin")
    if not added:
        body = rig.react(ts, "pushpin", added=False)
    work(event)(body)
    assert rig.flows.calls == [
        (
            flow,
            {
                "channel_id": rig.channel,
                "ts": ts,
                "actor": rig.bob,
                "request_key": f"slack:event:{body['event_id']}",
            },
        )
    ]


# -- "Add follow-up" on a message -----------------------------------------------------------------
def test_the_shortcut_is_stored_in_its_channels_lane_before_the_ack(rig: Any) -> None:
    body = rig.message_shortcut(rig.said(), modals.ADD_FOLLOWUP_SHORTCUT)
    ack = rig.ack()
    add_followup(rig.ctx, ack, body)
    key = f"slack:trigger:{body['trigger_id']}"
    assert rig.inbox.accepted == [(key, f"slack:{rig.channel}", "shortcut", body)]
    assert rig.journal.steps == ["stored", "acked"]
    assert (ack.status, ack.answer) == (200, {})


def test_the_shortcut_opens_the_form_on_the_message(rig: Any, work: Any) -> None:
    rig.flows.answers["followups"] = (rig.incident(), [])
    ts = rig.said("we need an alert on 5xx")
    work(shortcut)(rig.message_shortcut(ts, modals.ADD_FOLLOWUP_SHORTCUT))
    assert rig.flows.named("followups") == [{0: rig.channel}]
    [form] = rig.modals()
    assert form["callback_id"] == modals.FOLLOWUP
    text = form["blocks"][0]["element"]
    assert text["initial_value"] == "we need an alert on 5xx"
    meta = modals.metadata(form)
    assert meta["channel_id"] == rig.channel
    assert (
        meta["permalink"]
        == rig.client.chat_getPermalink(channel=rig.channel, message_ts=ts)["permalink"]
    )


def test_the_shortcut_outside_an_incident_channel_says_so(rig: Any, work: Any) -> None:
    rig.flows.answers["followups"] = NOT_HERE
    work(shortcut)(rig.message_shortcut(rig.said(), modals.ADD_FOLLOWUP_SHORTCUT))
    assert rig.modals() == []
    assert rig.ephemerals() == ["This is not an incident channel."]


def test_a_crash_in_the_shortcut_is_told_ephemerally(rig: Any, work: Any) -> None:
    rig.flows.answers["followups"] = RuntimeError("boom")
    work(shortcut)(rig.message_shortcut(rig.said(), modals.ADD_FOLLOWUP_SHORTCUT))
    assert rig.ephemerals() == [FAILED]

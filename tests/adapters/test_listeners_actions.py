"""Buttons on the card, the checklist and the status reminder: the listener stores the click in
its channel's lane before the ack; the work (`action`) turns each button into what it asks of
the flows, opens the forms, and tells the person ephemerally what was refused or failed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.adapters.slack import blocks as b, checklist, modals
from bot.adapters.slack.listeners import FAILED
from bot.adapters.slack.listeners.actions import action, clicked
from bot.core import lifecycle
from bot.core.catalog import COMMANDER, Phase
from bot.flows.unit import Outcome


def key(body: dict[str, Any]) -> str:
    return f"slack:trigger:{body['trigger_id']}"


# -- the listener ---------------------------------------------------------------------------------
def test_a_click_is_stored_in_its_channels_lane_before_the_ack(rig: Any) -> None:
    body = rig.click(b.ACK, "42")
    ack = rig.ack()
    clicked(rig.ctx, ack, body)
    assert rig.inbox.accepted == [(key(body), f"slack:{rig.channel}", "action", body)]
    assert rig.journal.steps == ["stored", "acked"]
    assert (ack.status, ack.answer) == (200, {})


def test_without_a_channel_the_container_names_it(rig: Any) -> None:
    body = rig.click(b.ACK, "42")
    del body["channel"]
    clicked(rig.ctx, rig.ack(), body)
    [(_key, lane, _work, _body)] = rig.inbox.accepted
    assert lane == f"slack:{rig.channel}"


def test_when_the_inbox_refuses_the_click_is_not_acked(rig: Any) -> None:
    rig.inbox.refuse = RuntimeError("database is down")
    ack = rig.ack()
    with pytest.raises(RuntimeError):
        clicked(rig.ctx, ack, rig.click(b.ACK, "42"))
    assert ack.response is None


# -- the work -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("action_id", "expected"),
    [
        (b.ACK, lifecycle.Acknowledge()),
        (b.RESOLVE, lifecycle.ChangeStatus("resolved")),
        (b.CLOSE, lifecycle.ChangeStatus("closed")),
    ],
)
def test_card_buttons_act_on_their_incident(
    rig: Any, work: Any, action_id: str, expected: lifecycle.Command
) -> None:
    body = rig.click(action_id, "42")
    work(action)(body)
    assert rig.flows.named("act") == [
        {"command": expected, "actor": rig.alice, "request_key": key(body), "incident_id": 42}
    ]
    assert rig.ephemerals() == []


def test_claim_commander_makes_whoever_clicked_the_commander(rig: Any, work: Any) -> None:
    work(action)(rig.click(b.CLAIM_COMMANDER, "42", user=rig.bob))
    [call] = rig.flows.named("act")
    assert call["command"] == lifecycle.AssignRole(COMMANDER, rig.bob)
    assert call["actor"] == rig.bob


def test_a_refused_click_is_told_to_whoever_clicked(rig: Any, work: Any) -> None:
    rig.flows.answers["act"] = Outcome(False, "Close a resolved incident only.")
    work(action)(rig.click(b.CLOSE, "42", user=rig.bob))
    assert rig.ephemerals(rig.bob) == ["Close a resolved incident only."]
    assert rig.ephemerals(rig.alice) == []


def test_a_button_without_an_incident(rig: Any, work: Any) -> None:
    work(action)(rig.click(b.ACK, "none"))
    assert rig.flows.calls == []
    assert rig.ephemerals() == ["That button does not belong to a known incident."]


def test_a_crash_is_told_ephemerally_not_as_a_traceback(rig: Any, work: Any) -> None:
    rig.flows.answers["act"] = RuntimeError("boom")
    work(action)(rig.click(b.RESOLVE, "42"))
    assert rig.ephemerals() == [FAILED]


def test_accepting_the_proposed_mitigation_stamps_its_time(rig: Any, work: Any) -> None:
    body = rig.click(b.ACCEPT_MITIGATION, "42|2026-03-02T13:40:00+00:00")
    work(action)(body)
    mitigated = rig.ctx.catalog.status_with_phase(Phase.MITIGATED).id
    [call] = rig.flows.named("act")
    assert call["command"] == lifecycle.ChangeStatus(
        mitigated, mitigated_at=datetime(2026, 3, 2, 13, 40, tzinfo=UTC)
    )
    assert call["incident_id"] == 42


def test_a_mitigation_button_without_a_valid_time(rig: Any, work: Any) -> None:
    work(action)(rig.click(b.ACCEPT_MITIGATION, "42|yesterday"))
    assert rig.flows.named("act") == []
    assert rig.ephemerals() == ["That button carries no valid time."]


@pytest.mark.parametrize(
    ("action_id", "callback_id", "current"),
    [(b.CHANGE_STATUS, modals.STATUS, "identified"), (b.CHANGE_SEVERITY, modals.SEVERITY, "SEV3")],
)
def test_change_buttons_open_their_form_on_the_current_value(
    rig: Any, work: Any, action_id: str, callback_id: str, current: str
) -> None:
    rig.flows.answers["incident"] = rig.incident(status="identified", severity="SEV3")
    work(action)(rig.click(action_id, "42"))
    assert rig.flows.named("incident") == [{0: 42}]
    [form] = rig.modals()
    assert form["callback_id"] == callback_id
    assert '"incident_id": 42' in form["private_metadata"]
    assert form["blocks"][0]["element"]["initial_option"]["value"] == current


def test_a_change_button_on_an_incident_that_is_gone(rig: Any, work: Any) -> None:
    work(action)(rig.click(b.CHANGE_STATUS, "42"))
    assert rig.modals() == []
    assert rig.ephemerals() == ["That incident no longer exists."]


def test_done_ticks_off_the_step(rig: Any, work: Any) -> None:
    body = rig.click(checklist.DONE, "7:restart-db")
    work(action)(body)
    assert rig.flows.named("mark_step") == [
        {
            "run_id": 7,
            "step": "restart-db",
            "actor": rig.alice,
            "request_key": key(body),
            "done": True,
        }
    ]
    assert rig.ephemerals() == []


def test_done_refused(rig: Any, work: Any) -> None:
    rig.flows.answers["mark_step"] = Outcome(False, "That step is already done.")
    work(action)(rig.click(checklist.DONE, "7:restart-db"))
    assert rig.ephemerals() == ["That step is already done."]


def test_skip_asks_why_in_a_form_naming_the_step(rig: Any, work: Any) -> None:
    step = {
        "type": "section",
        "block_id": "step.restart-db",
        "text": {"type": "mrkdwn", "text": "Restart the primary database"},
    }
    work(action)(rig.click(checklist.SKIP, "7:restart-db", above=[step]))
    [form] = rig.modals()
    assert form["callback_id"] == checklist.SKIP_FORM
    assert "Restart the primary database" in str(form["blocks"])
    assert rig.flows.calls == []


def test_snooze_postpones_the_status_reminder(rig: Any, work: Any) -> None:
    rig.flows.answers["snooze_status_update"] = Outcome(True, "Next reminder in 30 minutes.")
    body = rig.click(f"{b.SNOOZE}.30", "42|30")
    work(action)(body)
    assert rig.flows.named("snooze_status_update") == [
        {"incident_id": 42, "minutes": 30, "actor": rig.alice, "request_key": key(body)}
    ]
    assert rig.ephemerals() == ["Next reminder in 30 minutes."]


def test_a_snooze_button_with_a_bad_value_does_nothing(rig: Any, work: Any) -> None:
    work(action)(rig.click(f"{b.SNOOZE}.30", "42|soon"))
    assert rig.flows.calls == []
    assert rig.ephemerals() == []

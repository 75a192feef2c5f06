"""Forms: each listener checks in the ack what the person can fix in place (errors shown in the
form) and stores the rest, in its lane, before an empty ack; the work (`view`) hands the form
to its flow and tells the person in the channel, ephemerally, only what was refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.adapters.slack import checklist, modals
from bot.adapters.slack.listeners.views import (
    add_followup,
    change,
    declare,
    edit_timestamps,
    skip_step,
    view,
)
from bot.core import lifecycle
from bot.core.milestones import Milestone, Source, Stamp
from bot.core.people import person
from bot.flows.unit import Outcome

IMPACT, DETECTED = Milestone.IMPACT_STARTED, Milestone.DETECTED


def key(body: dict[str, Any]) -> str:
    return f"slack:trigger:{body['trigger_id']}"


def declare_form(rig: Any, channel: str | None = None) -> dict[str, Any]:
    return modals.declare_modal(
        rig.ctx.catalog, now=rig.clock.now(), channel_id=channel or rig.channel, severity=None
    )


def stamps(rig: Any) -> dict[Milestone, Stamp]:
    """Impact 30 minutes ago, detected 20 minutes ago, both by the alert."""
    now = rig.clock.now()
    return {
        IMPACT: Stamp(now - timedelta(minutes=30), Source.ALERT),
        DETECTED: Stamp(now - timedelta(minutes=20), Source.ALERT),
    }


def timestamps_form(rig: Any) -> dict[str, Any]:
    rig.flows.answers["stamps"] = stamps(rig)
    return modals.timestamps_modal(incident_id=42, stamps=stamps(rig))


# -- declare --------------------------------------------------------------------------------------
def test_declare_stores_a_good_form_to_run_alone(rig: Any) -> None:
    body, form = rig.submit(declare_form(rig), {"title": "Checkout API returns 500s"})
    ack = rig.ack()
    declare(rig.ctx, ack, body, form)
    assert rig.inbox.accepted == [(key(body), key(body), "view", body)]
    assert rig.journal.steps == ["stored", "acked"]
    assert (ack.status, ack.answer) == (200, {})


def test_declare_refuses_an_impact_in_the_future_in_the_form(rig: Any) -> None:
    later = rig.clock.now() + timedelta(hours=1)
    body, form = rig.submit(declare_form(rig), {"title": "Checkout", "impact": later})
    ack = rig.ack()
    declare(rig.ctx, ack, body, form)
    assert ack.answer == {
        "response_action": "errors",
        "errors": {"impact": "Impact can't start in the future."},
    }
    assert rig.inbox.accepted == []


def test_declare_shows_what_the_rules_refuse_at_the_title(rig: Any) -> None:
    body, form = rig.submit(declare_form(rig), {"title": "   "})
    ack = rig.ack()
    declare(rig.ctx, ack, body, form)
    assert ack.answer == {
        "response_action": "errors",
        "errors": {
            "title": "An incident needs a title. "
            "For example: `/incident declare sev2 Checkout API 500s`."
        },
    }
    assert rig.inbox.accepted == []


def test_declare_work_declares_and_tells_where(rig: Any, work: Any) -> None:
    rig.flows.answers["declare"] = Outcome(True, "Declared #42", 42)
    rig.flows.answers["incident"] = rig.incident()
    impact = rig.clock.now() - timedelta(minutes=5)
    body, _form = rig.submit(
        declare_form(rig),
        {
            "title": "Checkout API returns 500s",
            "severity": "SEV1",
            "description": "5xx on /pay",
            "impact": impact,
            "private": ["private"],
        },
    )
    work(view)(body)
    assert rig.flows.named("declare") == [
        {
            "title": "Checkout API returns 500s",
            "severity": "SEV1",
            "actor": rig.alice,
            "request_key": key(body),
            "description": "5xx on /pay",
            "impact_started_at": impact,
            "private": True,
        }
    ]
    assert rig.ephemerals() == [f"Declared #42 → <#{rig.channel}>"]


def test_declare_work_survives_a_channel_it_cannot_tell_in(rig: Any, work: Any) -> None:
    rig.flows.answers["declare"] = Outcome(False, "Slow down.")
    body, _form = rig.submit(declare_form(rig, "C0GONE"), {"title": "Checkout"})
    work(view)(body)  # chat.postEphemeral fails: logged, the declaration is the flow's
    assert len(rig.flows.named("declare")) == 1
    assert rig.ephemerals() == []


# -- status and severity --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("form", "values", "expected"),
    [
        (
            "status",
            {"status": "monitoring", "summary": "rolled back"},
            lifecycle.ChangeStatus("monitoring", "rolled back"),
        ),
        ("status", {"status": "identified"}, lifecycle.ChangeStatus("identified", None)),
        ("severity", {"severity": "SEV1"}, lifecycle.ChangeSeverity("SEV1")),
    ],
)
def test_a_change_is_stored_in_the_incidents_lane_and_handed_to_act(
    rig: Any, work: Any, form: str, values: dict[str, Any], expected: lifecycle.Command
) -> None:
    catalog = rig.ctx.catalog
    opened = (
        modals.status_modal(catalog, incident_id=42, current="investigating")
        if form == "status"
        else modals.severity_modal(catalog, incident_id=42, current="SEV2")
    )
    body, submitted = rig.submit(opened, values)
    ack = rig.ack()
    change(rig.ctx, ack, body, submitted)
    assert rig.inbox.accepted == [(key(body), "slack:incident:42", "view", body)]
    assert (ack.status, ack.answer) == (200, {})
    work(view)(body)
    assert rig.flows.named("act") == [
        {"command": expected, "actor": rig.alice, "request_key": key(body), "incident_id": 42}
    ]
    assert rig.ephemerals() == []


def test_a_refused_change_is_told_in_the_incidents_channel(rig: Any, work: Any) -> None:
    rig.flows.answers["act"] = Outcome(False, "Only the commander may lower a SEV1.")
    rig.flows.answers["incident"] = rig.incident()
    opened = modals.severity_modal(rig.ctx.catalog, incident_id=42, current="SEV1")
    body, _form = rig.submit(opened, {"severity": "SEV3"}, user=rig.bob)
    work(view)(body)
    assert rig.ephemerals(rig.bob) == ["Only the commander may lower a SEV1."]


# -- skipping a step ------------------------------------------------------------------------------
def test_skipping_needs_a_reason(rig: Any) -> None:
    body, form = rig.submit(checklist.skip_form(7, "restart-db", "Restart"), {"reason": "   "})
    ack = rig.ack()
    skip_step(rig.ctx, ack, body, form)
    assert ack.answer == {
        "response_action": "errors",
        "errors": {"reason": "Say why the step is skipped."},
    }
    assert rig.inbox.accepted == []


def test_a_skip_is_stored_in_the_runs_lane_and_handed_to_the_flow(rig: Any, work: Any) -> None:
    rig.flows.answers["mark_step"] = Outcome(False, "That step is already done.", 42)
    rig.flows.answers["incident"] = rig.incident()
    form = checklist.skip_form(7, "restart-db", "Restart")
    body, submitted = rig.submit(form, {"reason": "replica is healthy"})
    skip_step(rig.ctx, rig.ack(), body, submitted)
    assert rig.inbox.accepted == [(key(body), "slack:run:7", "view", body)]
    work(view)(body)
    assert rig.flows.named("mark_step") == [
        {
            "run_id": 7,
            "step": "restart-db",
            "actor": rig.alice,
            "request_key": key(body),
            "done": False,
            "reason": "replica is healthy",
        }
    ]
    assert rig.ephemerals() == ["That step is already done."]


def test_a_form_refused_by_its_flow_is_told_with_the_fix_on_its_own_line(
    rig: Any, work: Any
) -> None:
    why = f"Already done by {person(rig.bob)}."
    refusal = lifecycle.Refusal("skip a step", why, who=(rig.bob,), fix="Reopen it first.")
    rig.flows.answers["mark_step"] = Outcome.refused(refusal, 42)
    rig.flows.answers["incident"] = rig.incident()
    form = checklist.skip_form(7, "restart-db", "Restart")
    body, _form = rig.submit(form, {"reason": "replica is healthy"})
    work(view)(body)
    [told] = rig.emu.ephemerals(rig.alice)  # chat.postEphemeral, its blocks checked as Slack does
    section, context = told["blocks"]
    assert section["text"]["text"] == f"Already done by <@{rig.bob}>."
    assert context["elements"][0]["text"] == ":bulb: Reopen it first."
    assert told["text"] == f"Already done by <@{rig.bob}>. Reopen it first."


# -- follow-ups -----------------------------------------------------------------------------------
def followup_form(rig: Any) -> dict[str, Any]:
    return modals.followup_modal(
        channel_id=rig.channel, text="the 5xx alert", permalink="https://x.slack.com/p1"
    )


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        ({"text": "   "}, {"text": "Say what needs doing."}),
        ({"due": date(2026, 3, 1)}, {"due": "That date is in the past."}),
    ],
)
def test_a_followup_form_is_checked_in_place(
    rig: Any, values: dict[str, Any], errors: dict[str, str]
) -> None:
    body, form = rig.submit(followup_form(rig), values)
    ack = rig.ack()
    add_followup(rig.ctx, ack, body, form)
    assert ack.answer == {"response_action": "errors", "errors": errors}
    assert rig.inbox.accepted == []


def test_a_followup_is_stored_in_the_channels_lane_and_handed_to_the_flow(
    rig: Any, work: Any
) -> None:
    rig.flows.answers["add_followup"] = Outcome(False, "This incident is closed.")
    values = {"text": "alert on 5xx", "owner": rig.bob, "due": date(2026, 3, 2)}
    body, form = rig.submit(followup_form(rig), values)
    add_followup(rig.ctx, rig.ack(), body, form)
    assert rig.inbox.accepted == [(key(body), f"slack:{rig.channel}", "view", body)]
    work(view)(body)
    assert rig.flows.named("add_followup") == [
        {
            "channel_id": rig.channel,
            "text": "alert on 5xx",
            "owner": rig.bob,
            "due_on": date(2026, 3, 2),
            "actor": rig.alice,
            "request_key": key(body),
            "source": "shortcut",
            "permalink": "https://x.slack.com/p1",
        }
    ]
    assert rig.ephemerals() == ["This incident is closed."]


# -- milestones -----------------------------------------------------------------------------------
def test_a_timestamps_form_that_changes_nothing_just_closes(rig: Any) -> None:
    body, form = rig.submit(timestamps_form(rig), {})
    ack = rig.ack()
    edit_timestamps(rig.ctx, ack, body, form)
    assert (ack.status, ack.answer) == (200, {})
    assert rig.inbox.accepted == []
    assert rig.flows.named("check") == []


def test_a_correction_the_rules_refuse_is_shown_at_the_first_field(rig: Any) -> None:
    rig.flows.answers["check"] = "Detection can't come before the impact started."
    later = rig.clock.now() - timedelta(minutes=10)
    body, form = rig.submit(timestamps_form(rig), {IMPACT.value: later})
    ack = rig.ack()
    edit_timestamps(rig.ctx, ack, body, form)
    assert rig.flows.named("check") == [
        {
            "incident_id": 42,
            "command": lifecycle.EditMilestones({IMPACT: later}),
            "actor": rig.alice,
        }
    ]
    assert ack.answer == {
        "response_action": "errors",
        "errors": {IMPACT.value: "Detection can't come before the impact started."},
    }
    assert rig.inbox.accepted == []


def test_a_good_correction_is_stored_and_handed_to_act(rig: Any, work: Any) -> None:
    earlier = rig.clock.now() - timedelta(minutes=45)
    body, form = rig.submit(timestamps_form(rig), {IMPACT.value: earlier})
    ack = rig.ack()
    edit_timestamps(rig.ctx, ack, body, form)
    assert rig.inbox.accepted == [(key(body), "slack:incident:42", "view", body)]
    assert (ack.status, ack.answer) == (200, {})
    work(view)(body)
    [call] = rig.flows.named("act")
    assert call["command"] == lifecycle.EditMilestones({IMPACT: earlier})
    assert (call["incident_id"], call["request_key"]) == (42, key(body))


def test_a_timestamps_form_without_its_incident_is_closed(rig: Any, work: Any) -> None:
    opened = timestamps_form(rig) | {"private_metadata": "{}"}
    body, form = rig.submit(opened, {IMPACT.value: datetime(2026, 3, 2, 12, tzinfo=UTC)})
    ack = rig.ack()
    edit_timestamps(rig.ctx, ack, body, form)
    assert (ack.status, rig.inbox.accepted) == (200, [])
    work(view)(body)
    assert rig.flows.calls == []

"""`/incident …`: the listener answers help and mistakes in the ack and stores the rest before
an empty ack; the work (`command`) hands each sub-command to its flow and answers the person
who asked, ephemerally — refusals and crashes included."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from bot.adapters.slack import modals
from bot.adapters.slack.listeners import FAILED
from bot.adapters.slack.listeners.commands import command, incident_command
from bot.core import lifecycle
from bot.core.lifecycle import Refusal, Refused
from bot.core.people import person, typed
from bot.flows.ports import IntegrationError, OnCall
from bot.flows.unit import Outcome

NOT_HERE = Refused(Refusal("do this", "This is not an incident channel."))


# -- the listener: answered in the ack, or stored first -------------------------------------------
def test_help_is_the_ack_itself_and_nothing_is_stored(rig: Any) -> None:
    ack = rig.ack()
    incident_command(rig.ctx, ack, rig.command("help"))
    assert ack.status == 200
    assert "/incident declare" in ack.answer["text"]
    assert ack.answer["blocks"]
    assert rig.inbox.accepted == []


def test_an_unknown_subcommand_is_answered_with_the_help(rig: Any) -> None:
    ack = rig.ack()
    incident_command(rig.ctx, ack, rig.command("frobnicate"))
    assert "frobnicate" in ack.answer["text"]
    assert rig.inbox.accepted == []


def test_a_mistake_is_answered_in_the_ack(rig: Any) -> None:
    ack = rig.ack()
    incident_command(rig.ctx, ack, rig.command("status mitigated"))
    assert ack.answer == {
        "text": "Unknown status `mitigated`; use one of `investigating`, `identified`, "
        "`monitoring`, `resolved`."
    }
    assert rig.inbox.accepted == []


def test_a_declaration_is_stored_before_an_empty_ack_and_runs_alone(rig: Any) -> None:
    body = rig.command("declare sev2 Checkout API returns 500s")
    ack = rig.ack()
    incident_command(rig.ctx, ack, body)
    key = f"slack:trigger:{body['trigger_id']}"
    assert rig.inbox.accepted == [(key, key, "command", body)]
    assert rig.journal.steps == ["stored", "acked"]
    assert (ack.status, ack.answer) == (200, {})


def test_work_on_an_incident_queues_behind_its_channel(rig: Any) -> None:
    body = rig.command("status identified the bad deploy")
    incident_command(rig.ctx, rig.ack(), body)
    [(_key, lane, work, _body)] = rig.inbox.accepted
    assert (lane, work) == (f"slack:{rig.channel}", "command")


def test_when_the_inbox_refuses_nothing_is_acked(rig: Any) -> None:
    rig.inbox.refuse = RuntimeError("database is down")
    ack = rig.ack()
    with pytest.raises(RuntimeError):  # Bolt's error handler answers 500 (test_listeners_bolt)
        incident_command(rig.ctx, ack, rig.command("declare sev2 Checkout down"))
    assert ack.response is None


# -- the work: what each sub-command hands to the flows, and what the person is told -------------
def test_declare_with_a_title_declares_and_links_the_new_channel(rig: Any, work: Any) -> None:
    rig.flows.answers["declare"] = Outcome(True, "Declared #42", 42)
    rig.flows.answers["incident"] = rig.incident()
    body = rig.command("declare sev1 Checkout API returns 500s")
    work(command)(body)
    assert rig.flows.named("declare") == [
        {
            "title": "Checkout API returns 500s",
            "severity": "SEV1",
            "actor": rig.alice,
            "request_key": f"slack:trigger:{body['trigger_id']}",
        }
    ]
    assert rig.ephemerals() == [f"Declared #42 → <#{rig.channel}>"]


def test_declare_says_when_the_channel_is_still_on_its_way(rig: Any, work: Any) -> None:
    rig.flows.answers["declare"] = Outcome(True, "Declared #42", 42)
    rig.flows.answers["incident"] = rig.incident(conversation_id=None)
    work(command)(rig.command("declare Checkout API returns 500s"))
    assert rig.ephemerals() == [
        "Declared #42. The channel is on its way (Slack is slow to answer right now)."
    ]


def test_declare_without_a_title_opens_the_form(rig: Any, work: Any) -> None:
    work(command)(rig.command("declare sev3"))
    [form] = rig.modals()
    assert form["callback_id"] == modals.DECLARE
    assert rig.flows.calls == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("status identified bad deploy", lifecycle.ChangeStatus("identified", "bad deploy")),
        ("resolve all good", lifecycle.ChangeStatus("resolved", "all good")),
        ("close", lifecycle.ChangeStatus("closed")),
        ("severity sev1", lifecycle.ChangeSeverity("sev1")),
        ("ack", lifecycle.Acknowledge()),
        ("note db restarted", lifecycle.AddNote("db restarted")),
        ("visibility public", lifecycle.MakePublic()),
    ],
)
def test_incident_commands_are_handed_to_act_in_the_channel(
    rig: Any, work: Any, text: str, expected: lifecycle.Command
) -> None:
    body = rig.command(text)
    work(command)(body)
    assert rig.flows.named("act") == [
        {
            "command": expected,
            "actor": rig.alice,
            "request_key": f"slack:trigger:{body['trigger_id']}",
            "channel_id": rig.channel,
        }
    ]
    assert rig.ephemerals() == []  # done: the card and the timeline say so


def test_a_role_goes_to_whom_it_names_or_to_whoever_asked(rig: Any, work: Any) -> None:
    work(command)(rig.command(f"commander <@{rig.bob}|bob>"))
    work(command)(rig.command("scribe"))
    assert [call["command"] for call in rig.flows.named("act")] == [
        lifecycle.AssignRole("commander", rig.bob),
        lifecycle.AssignRole("scribe", rig.alice),
    ]


def test_a_refusal_is_told_ephemerally_with_people_mentioned(rig: Any, work: Any) -> None:
    rig.flows.answers["act"] = Outcome(False, f"Only the commander {person(rig.bob)} may do that")
    work(command)(rig.command("close"))
    assert rig.ephemerals() == [f"Only the commander <@{rig.bob}> may do that"]


def test_a_refusal_shows_why_with_its_people_mentioned_and_the_fix_on_its_own_line(
    rig: Any, work: Any
) -> None:
    why = f"Only the incident commander ({person(rig.bob)}) or an admin can close the incident."
    refusal = Refusal("close the incident", why, who=(rig.bob,), fix="Ask the commander.")
    rig.flows.answers["act"] = Outcome.refused(refusal, 42)
    work(command)(rig.command("close"))
    [told] = rig.emu.ephemerals(rig.alice)
    mentioned = f"Only the incident commander (<@{rig.bob}>) or an admin can close the incident."
    assert [(b["type"], _mrkdwn(b)) for b in told["blocks"]] == [
        ("section", mentioned),
        ("context", ":bulb: Ask the commander."),
    ]
    assert told["text"] == f"{mentioned} Ask the commander."  # the plain fallback: all of it


def test_a_refusal_without_a_fix_is_its_reason_alone(rig: Any, work: Any) -> None:
    refusal = Refusal("change the severity", "The incident is already SEV2.")
    rig.flows.answers["act"] = Outcome.refused(refusal, 42)
    work(command)(rig.command("severity sev2"))
    [told] = rig.emu.ephemerals(rig.alice)
    assert [(b["type"], _mrkdwn(b)) for b in told["blocks"]] == [
        ("section", "The incident is already SEV2.")
    ]


def test_a_refusal_someone_typed_into_stays_text(rig: Any, work: Any) -> None:
    why = f"No playbook `{typed('<!channel> {person:U0BOSS}')}`."
    refusal = Refusal("attach a playbook", why, fix="Playbooks: `rollback`.")
    rig.flows.answers["attach_by_name"] = Outcome.refused(refusal)
    work(command)(rig.command("playbook x"))
    [told] = rig.emu.ephemerals(rig.alice)
    shown = _mrkdwn(told["blocks"][0]).replace("\u2060", "")
    assert shown == "No playbook `&lt;!channel&gt; {person:U0BOSS}`."


def _mrkdwn(block: dict[str, Any]) -> str:
    return str(block["text"]["text"] if "text" in block else block["elements"][0]["text"])


def test_a_crash_is_told_ephemerally_not_as_a_traceback(rig: Any, work: Any) -> None:
    rig.flows.answers["act"] = RuntimeError("boom")
    work(command)(rig.command("ack"))
    assert rig.ephemerals() == [FAILED]


def test_page_hands_the_service_to_the_flow(rig: Any, work: Any) -> None:
    body = rig.command("page payments")
    work(command)(body)
    assert rig.flows.named("page") == [
        {
            "channel_id": rig.channel,
            "service": "payments",
            "actor": rig.alice,
            "request_key": f"slack:trigger:{body['trigger_id']}",
        }
    ]
    assert rig.ephemerals() == []


def test_page_refused(rig: Any, work: Any) -> None:
    rig.flows.answers["page"] = Outcome(False, "No service `payments` in the catalog.")
    work(command)(rig.command("page payments"))
    assert rig.ephemerals() == ["No service `payments` in the catalog."]


def test_playbook_lists_the_candidates(rig: Any, work: Any) -> None:
    found = [
        SimpleNamespace(name="db-failover", description="Fail the database over. Then more."),
        SimpleNamespace(name="rollback", description="Roll the deploy back."),
    ]
    rig.flows.answers["candidates"] = (found, {"rollback"})
    work(command)(rig.command("playbook"))
    assert rig.flows.named("candidates") == [{0: rig.channel}]
    assert rig.ephemerals() == [
        "*Playbooks for this incident* (most specific first)\n"
        "• `db-failover`: Fail the database over\n"
        "• `rollback` (attached): Roll the deploy back"
    ]


def test_playbook_without_candidates_or_outside_an_incident(rig: Any, work: Any) -> None:
    rig.flows.answers["candidates"] = ([], set())
    work(command)(rig.command("playbook"))
    rig.flows.answers["candidates"] = NOT_HERE
    work(command)(rig.command("playbook"))
    assert rig.ephemerals() == [
        "No playbook matches this incident. Attach one by name: `/incident playbook <name>`.",
        "This is not an incident channel.",
    ]


def test_playbook_by_name_attaches_it(rig: Any, work: Any) -> None:
    rig.flows.answers["attach_by_name"] = Outcome(False, "No playbook `nope`.")
    body = rig.command("playbook nope")
    work(command)(body)
    assert rig.flows.named("attach_by_name") == [
        {
            "channel_id": rig.channel,
            "name": "nope",
            "actor": rig.alice,
            "request_key": f"slack:trigger:{body['trigger_id']}",
        }
    ]
    assert rig.ephemerals() == ["No playbook `nope`."]


def test_followup_is_recorded_with_owner_and_due_date(rig: Any, work: Any) -> None:
    body = rig.command(f"followup add an alert on 5xx <@{rig.bob}> due 2026-04-01")
    work(command)(body)
    assert rig.flows.named("add_followup") == [
        {
            "channel_id": rig.channel,
            "text": "add an alert on 5xx",
            "owner": rig.bob,
            "due_on": date(2026, 4, 1),
            "actor": rig.alice,
            "request_key": f"slack:trigger:{body['trigger_id']}",
        }
    ]


def test_followups_are_listed(rig: Any, work: Any) -> None:
    rig.flows.answers["followups"] = (rig.incident(), [])
    work(command)(rig.command("followups"))
    rig.flows.answers["followups"] = NOT_HERE
    work(command)(rig.command("followups"))
    told = rig.ephemerals()
    assert told[0].startswith("No follow-ups yet.")
    assert told[1] == "This is not an incident channel."


def test_review_is_off_without_an_api_token(rig: Any, work: Any) -> None:
    work(command)(rig.command("review"))
    assert rig.ephemerals() == [
        "The review page is off: set API_TOKEN (and PUBLIC_URL) on the server."
    ]


def test_review_signs_the_person_in_to_their_incident(rig: Any, work: Any) -> None:
    rig.flows.answers["milestones_of"] = (rig.incident(), {})
    links: list[tuple[str, int]] = []

    def review_link(user: str, incident_id: int) -> str:
        links.append((user, incident_id))
        return "https://bot.example/review/42?t=abc"

    work(command, review_link=review_link)(rig.command("review"))
    assert links == [(rig.alice, 42)]
    assert rig.ephemerals() == [
        "<https://bot.example/review/42?t=abc|Open the review page of #42> "
        "(a sign-in link for you only, valid 10 minutes, once)."
    ]


def test_drill_starts_one_and_links_its_channel(rig: Any, work: Any) -> None:
    rig.flows.answers["start_drill"] = Outcome(True, "Drill #43 started", 43)
    rig.flows.answers["incident"] = rig.incident(id=43)
    body = rig.command("drill db-failover")
    work(command)(body)
    assert rig.flows.named("start_drill") == [
        {
            "name": "db-failover",
            "actor": rig.alice,
            "request_key": f"slack:trigger:{body['trigger_id']}",
        }
    ]
    assert rig.ephemerals() == [f"Drill #43 started → <#{rig.channel}>"]


def test_drill_refused(rig: Any, work: Any) -> None:
    rig.flows.answers["start_drill"] = Outcome(False, "No playbook `nope`.")
    work(command)(rig.command("drill nope"))
    assert rig.ephemerals() == ["No playbook `nope`."]


def test_timestamps_opens_the_milestones_form(rig: Any, work: Any) -> None:
    rig.flows.answers["milestones_of"] = (rig.incident(), {})
    work(command)(rig.command("timestamps"))
    [form] = rig.modals()
    assert form["callback_id"] == modals.TIMESTAMPS
    assert '"incident_id": 42' in form["private_metadata"]


def test_timestamps_outside_an_incident(rig: Any, work: Any) -> None:
    rig.flows.answers["milestones_of"] = NOT_HERE
    work(command)(rig.command("timestamps"))
    assert rig.ephemerals() == ["This is not an incident channel."]
    assert rig.modals() == []


def test_postmortem_when_no_tracker_is_set_up(rig: Any, work: Any) -> None:
    work(command)(rig.command("postmortem"))
    assert rig.ephemerals() == ["Post-mortems are not set up for this bot."]


def test_postmortem_shows_the_draft(rig: Any, work: Any) -> None:
    rig.flows.answers["followups"] = (rig.incident(), [])
    drafts = SimpleNamespace(
        draft=lambda incident_id: SimpleNamespace(
            markdown=f"# Post-mortem of #{incident_id}", template="default"
        )
    )
    work(command, postmortems=drafts)(rig.command("postmortem"))
    [told] = rig.emu.ephemerals(rig.alice)
    assert "Post-mortem draft" in told["text"]
    assert "Post-mortem of #42" in str(told["blocks"])


def test_postmortem_export_hands_the_incident_to_the_flow(rig: Any, work: Any) -> None:
    rig.flows.answers["followups"] = (rig.incident(), [])
    rig.flows.answers["export_postmortem"] = Outcome(True, "Drafted OPS-7")
    body = rig.command("postmortem export")
    work(command, postmortems=SimpleNamespace())(body)
    assert rig.flows.named("export_postmortem") == [
        {
            "incident_id": 42,
            "actor": rig.alice,
            "request_key": f"slack:trigger:{body['trigger_id']}",
        }
    ]
    assert rig.ephemerals() == ["Drafted OPS-7"]


def test_oncall_when_no_pager_is_set_up(rig: Any, work: Any) -> None:
    work(command)(rig.command("oncall"))
    assert rig.ephemerals() == ["No pager is set up for this bot."]


def test_oncall_names_who_is_on_call(rig: Any, work: Any) -> None:
    asked: list[str | None] = []

    def who(service: str | None) -> tuple[str, list[OnCall]]:
        asked.append(service)
        return "payments", [OnCall("Bob Brown", "bob@example.com", 1, "Payments", None)]

    work(command, oncall=SimpleNamespace(who=who))(rig.command("oncall payments"))
    assert asked == ["payments"]
    [told] = rig.ephemerals()
    assert "payments" in told and "Bob Brown" in told


def test_oncall_when_the_pager_does_not_answer(rig: Any, work: Any) -> None:
    def who(service: str | None) -> tuple[str, list[OnCall]]:
        raise IntegrationError("pagerduty", "http_503", retryable=True)

    work(command, oncall=SimpleNamespace(who=who))(rig.command("oncall"))
    assert rig.ephemerals() == [
        "The pager did not answer (pagerduty: http_503). Try again in a moment."
    ]


def test_list_shows_the_open_incidents(rig: Any, work: Any) -> None:
    rig.flows.answers["open_incidents"] = []
    work(command)(rig.command("list"))
    assert rig.ephemerals() == ["No open incidents. :tada:"]

"""Playbooks on incidents, end to end: attached on match or by hand, run from the checklist."""

from __future__ import annotations

from bot.adapters.slack import checklist
from bot.sandbox import Sandbox
from tests.e2e.conftest import (
    People,
    api,
    checklists,
    command,
    declare,
    ephemerals,
    incidents,
    post,
    step_text,
)
from tests.fixtures.alerts import alertmanager


def test_a_matching_playbook_attaches_and_runs_from_its_checklist(
    sb: Sandbox, people: People
) -> None:
    post(sb, "/webhooks/alertmanager", alertmanager())  # CheckoutHigh5xx: matches high-error-rate
    (incident,) = incidents(sb)
    channel = incident["channel"]["id"]
    sb.slack.join(channel, people.alice)
    sb.slack.join(channel, people.bob)
    (message,) = checklists(sb, channel)
    assert "Playbook high-error-rate" in message["blocks"][0]["text"]["text"]
    assert any(
        e["text"] == "Playbook high-error-rate attached (it matches this incident)"
        for e in incident["timeline"]
    )

    # Done, twice (a double click): stamped once, the checklist redrawn in place
    for _ in range(2):
        assert (
            sb.slack.click_button(
                people.alice,
                channel,
                message["ts"],
                checklist.DONE,
                block_id="step.quantify-impact.actions",
            ).status
            == 200
        )
        sb.settle()
        message = checklists(sb, channel)[0]
        if "step.quantify-impact.actions" not in str(message["blocks"]):
            break
    (message,) = checklists(sb, channel)
    assert step_text(message, "quantify-impact").startswith(
        "✅"
    ) and f"<@{people.alice}>" in step_text(message, "quantify-impact")
    assert "step.quantify-impact.actions" not in str(message["blocks"])  # no buttons on a done step

    # Skip asks for a reason; an empty one is refused in the form
    sb.slack.click_button(
        people.bob, channel, message["ts"], checklist.SKIP, block_id="step.what-changed.actions"
    )
    sb.settle()
    (form,) = sb.slack.views(people.bob)
    sb.slack.submit_view(
        people.bob,
        form["id"],
        {"reason": "No deploy in the last day; the provider's status page is red"},
    )
    sb.settle()
    (message,) = checklists(sb, channel)
    skipped = step_text(message, "what-changed")
    assert skipped.startswith("⏭️") and "provider's status page is red" in skipped
    timeline = api(sb, f"/api/incidents/{incident['id']}").json()["timeline"]
    steps = [(e["text"], e["actor"]) for e in timeline if e["kind"] == "step"]
    assert [s for s in steps if s[1] is None] == [  # automated steps without a due time: at once
        (
            "Done: Remind to confirm recovery on the burn-rate windows — reminder set: every 15m until mitigated",
            None,
        ),
        (
            "Done: Record the error budget spent — follow-up recorded for the scribe (nobody holds it yet)",
            None,
        ),
    ]
    assert [s for s in steps if s[1] is not None] == [
        ("Done: Quantify the impact and set the severity", people.alice),
        (
            "Skipped (No deploy in the last day; the provider's status page is red): Find what changed in the last two hours",
            people.bob,
        ),
    ]


def test_list_and_attach_playbooks_by_hand(sb: Sandbox, people: People) -> None:
    incident = declare(sb, people, "sev1 Primary database unreachable")
    channel = incident["channel"]["id"]
    command(sb, people.alice, channel, "playbook")
    assert "No playbook matches" in ephemerals(sb, people.alice)[-1]
    command(sb, people.alice, channel, "playbook database-failover")
    (message,) = checklists(sb, channel)
    assert "Playbook database-failover" in message["blocks"][0]["text"]["text"]
    command(sb, people.alice, channel, "playbook database-failover")
    assert "already on this incident" in ephemerals(sb, people.alice)[-1]
    command(sb, people.alice, channel, "playbook nonsense")
    assert (
        "No playbook `nonsense`" in ephemerals(sb, people.alice)[-1]
        and "`security-incident`" in ephemerals(sb, people.alice)[-1]
    )

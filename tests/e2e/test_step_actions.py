"""Automated playbook steps end to end: the bot pages, invites, posts, sets the cadence, records
follow-ups and reminds, each as an effect that marks its step done with what it did."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.core.people import person
from bot.sandbox import Sandbox, ScriptedClock
from bot.store import timers as timer_store
from bot.store.models import Followup, Incident, PlaybookStep
from tests.e2e.conftest import People, checklists, command, step_text


@pytest.fixture
def clocked(db_url: str) -> Iterator[tuple[Sandbox, ScriptedClock, People]]:
    clock = ScriptedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3))
    with Sandbox(db_url, clock=clock) as sb:
        people = People(
            *(sb.slack.user_id(n) for n in ("alice", "bob", "carol")),
            sb.slack.channel_by_name("general")["id"],  # type: ignore[index]
        )
        yield sb, clock, people


def open_incident(sb: Sandbox, people: People, text: str) -> str:
    command(sb, people.alice, people.general, f"declare {text}")
    incident = sb.bot.flows.incident(1)
    assert incident is not None and incident.conversation_id
    sb.slack.join(incident.conversation_id, people.alice)
    return incident.conversation_id


def tick(sb: Sandbox, clock: ScriptedClock, minutes: float) -> None:
    clock.advance(minutes=minutes)
    sb.bot.timers.fire_due()
    sb.bot.flows.deliver(1)
    sb.settle()


def steps(sb: Sandbox) -> dict[str, PlaybookStep]:
    with sb.bot.db.read() as session:
        return {s.step: s for s in session.exec(select(PlaybookStep)).all()}


def texts(sb: Sandbox, channel: str) -> list[str]:
    return [str(m.get("text", "")) for m in sb.slack.messages(channel)]


def test_database_failover_pages_posts_and_records_on_its_own(
    clocked: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, clock, people = clocked
    channel = open_incident(sb, people, "sev2 Primary database unreachable")
    command(sb, people.alice, channel, "playbook database-failover")
    started = steps(sb)
    # No due time: done in the attaching transaction, with what the bot did
    assert started["status-updates"].state == "done"
    assert started["status-updates"].result == "status updates due every 30 min"
    assert started["restore-redundancy"].state == "done"
    with sb.bot.db.read() as session:
        (followup,) = session.exec(select(Followup)).all()
        cadence = session.exec(select(Incident.status_update_minutes)).one()
    assert followup.source == "playbook" and "Rebuild the failed primary" in followup.text
    assert cadence == 30
    # Due in 5 min: the bot pages the database team when the step comes due, not before
    assert started["page-dba"].state == "open"

    def database_pages() -> list[dict[str, Any]]:
        database = sb.pagerduty.service_id("database")
        return [i for i in sb.pagerduty.incidents() if i["service"]["id"] == database]

    assert not database_pages()
    tick(sb, clock, 5)
    page = steps(sb)["page-dba"]
    # The incident was already paged (SEV2 pages at once), so PagerDuty is asked for the
    # database team's responders on that incident rather than opening a second one.
    assert not database_pages()
    (request,) = sb.pagerduty.calls_to("POST /incidents/{id}/responder_requests")
    assert sb.pagerduty.escalation_policy_id("database") in str(request.json)
    assert page.state == "done" and page.by is None
    assert page.result and page.result.startswith("Requested responders from PagerDuty (database)")
    (message,) = checklists(sb, channel)
    line = step_text(message, "page-dba")
    assert line.startswith("✅") and "done by the bot" in line and "🤖 pages database" in line
    assert "step.page-dba.actions" not in str(message["blocks"])
    # Due in 10 min: the announcement to the feed, in the playbook's words
    tick(sb, clock, 5)
    assert steps(sb)["announce"].result == "posted in the feed"
    (post,) = [t for t in texts(sb, sb.feed_id) if "investigating a database outage" in t]
    assert "Primary database unreachable" in post


@pytest.mark.parametrize(
    "member",
    [
        True,
        False,  # the bot posts there with chat:write.public: it joins to read the history
    ],
    ids=["bot-in-feed", "bot-not-in-feed"],
)
def test_a_post_to_the_feed_whose_answer_is_lost_is_not_posted_twice(
    clocked: tuple[Sandbox, ScriptedClock, People], member: bool
) -> None:
    """Slack posts the playbook's announcement but its answer is lost (a 500 after the work):
    the retry finds the message it posted instead of posting it again."""
    sb, clock, people = clocked
    if member:
        sb.slack.join(sb.feed_id, sb.slack.bot_user_id)
    channel = open_incident(sb, people, "sev2 Primary database unreachable")
    command(sb, people.alice, channel, "playbook database-failover")
    tick(sb, clock, 5)
    # every post from 10 min on is made but its answer lost, until the feed post's is
    sb.slack.fail("chat.postMessage", status=500, apply=True, times=100)
    tick(sb, clock, 5)

    def lost_in_the_feed() -> bool:
        lost = [c for c in sb.slack.calls_to("chat.postMessage") if c.fault is not None]
        return sb.feed_id in {c.params["channel"] for c in lost}

    for _ in range(10):
        if lost_in_the_feed():
            break
        tick(sb, clock, 1)
    assert lost_in_the_feed()
    sb.slack.clear_faults()
    for _ in range(3):  # past the retry's backoff
        tick(sb, clock, 1)
    assert steps(sb)["announce"].result == "posted in the feed"
    posts = [t for t in texts(sb, sb.feed_id) if "investigating a database outage" in t]
    assert len(posts) == 1, posts


def test_invite_brings_the_user_group_in(clocked: tuple[Sandbox, ScriptedClock, People]) -> None:
    sb, clock, people = clocked
    channel = open_incident(sb, people, "sev1 Credentials leaked in a public repo")
    command(sb, people.alice, channel, "playbook security-incident")
    assert people.bob not in sb.slack.members(channel)
    tick(sb, clock, 10)
    invite = steps(sb)["invite-responders"]
    assert invite.state == "done"
    # stored neutral (people as references), rendered by the surface that shows it
    assert invite.result == (
        f"invited {person(people.bob)}, {person(people.carol)} (@security-oncall)"
    )
    assert {people.bob, people.carol} <= set(sb.slack.members(channel))
    line = step_text(checklists(sb, channel)[0], "invite-responders")
    assert f"invited <@{people.bob}>, <@{people.carol}> (@security-oncall)" in line


def test_a_reminder_repeats_until_its_condition_and_resumes_on_reopen(
    clocked: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, clock, people = clocked
    channel = open_incident(sb, people, "sev2 Checkout 5xx burn rate")
    command(sb, people.alice, channel, "playbook high-error-rate")

    def reminders() -> int:
        return sum("Is the 5m burn rate below 1×" in t for t in texts(sb, channel))

    tick(sb, clock, 15)
    tick(sb, clock, 15)
    assert reminders() == 2
    command(sb, people.alice, channel, "status monitoring")  # mitigated: the condition holds
    tick(sb, clock, 15)
    assert reminders() == 2
    command(sb, people.alice, channel, "resolve")
    with sb.bot.db.read() as session:
        pending = {t.kind for t in timer_store.pending(session=session, incident_id=1)}
    assert not [k for k in pending if k.startswith(("remind:", "step:"))]
    command(sb, people.alice, channel, "status investigating")  # reopened, unmitigated again
    with sb.bot.db.read() as session:
        pending = {t.kind for t in timer_store.pending(session=session, incident_id=1)}
    open_steps = [s for s in steps(sb).values() if s.state == "open" and s.due_at is not None]
    assert {f"step:{s.id}" for s in open_steps} <= pending  # past-due steps come back
    assert any(k.startswith("remind:") for k in pending)
    tick(sb, clock, 15)
    assert reminders() == 3


def test_set_severity_and_a_failed_page_say_what_happened(
    clocked: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, _clock, people = clocked
    channel = open_incident(sb, people, "sev3 Status page provider down")
    command(sb, people.alice, channel, "playbook third-party-outage")
    # Nothing here pages or raises the severity; a hand-made playbook does both below.
    flows = sb.bot.flows
    from bot.core.playbooks import Playbook

    playbook = Playbook.model_validate(
        {
            "name": "escalate",
            "description": "Raise and page.",
            "steps": [
                {
                    "id": "raise",
                    "title": "Raise to SEV1",
                    "action": {"type": "set_severity", "severity": "SEV1"},
                },
                {
                    "id": "page-nobody",
                    "title": "Page a service with no PagerDuty",
                    "action": {"type": "page", "service": "frontend"},
                },
            ],
        },
    )
    flows.playbooks = {**flows.playbooks, "escalate": playbook}
    command(sb, people.alice, channel, "playbook escalate")
    got = steps(sb)
    assert got["raise"].state == "done" and got["raise"].result == "severity set to SEV1"
    assert flows.incident(1).severity == "SEV1"  # type: ignore[union-attr]
    assert got["page-nobody"].state == "failed"
    assert "Unknown service `frontend`" in (got["page-nobody"].result or "")
    assert any(
        "Page a service with no PagerDuty” failed (pages frontend): Unknown service" in t
        for t in texts(sb, channel)
    )
    # A person can still do a failed step by hand
    (message,) = [
        m for m in checklists(sb, channel) if "escalate" in m["blocks"][0]["text"]["text"]
    ]
    assert "step.page-nobody.actions" in str(message["blocks"])

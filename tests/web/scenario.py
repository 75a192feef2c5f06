"""A whole incident played through the sandbox (Slack, PagerDuty and Jira emulators) on a
scripted clock, plus some history, for the review-page end-to-end and browser tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.adapters.slack import checklist
from bot.core.milestones import Milestone as M
from bot.sandbox import Sandbox, ScriptedClock
from bot.store import incidents as q
from tests.web.conftest import add_incident

START = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)  # a Monday morning


@dataclass(frozen=True)
class Played:
    incident_id: int
    channel: str
    alice: str
    bob: str
    carol: str


def _command(sb: Sandbox, user: str, channel: str, text: str) -> None:
    reply = sb.slack.send_command(user, channel, text)
    assert reply.status == 200, (reply.status, reply.body)
    sb.settle()


def _checklist_ts(sb: Sandbox, channel: str) -> str:
    (board,) = [
        m
        for m in sb.slack.messages(channel)
        if any(b.get("block_id") == "checklist.head" for b in m.get("blocks") or [])
    ]
    return str(board["ts"])


def play_incident(sb: Sandbox, clock: ScriptedClock) -> Played:
    """Declared (SEV2: paged at once), acknowledged, a playbook with one step done and one
    skipped, a second team paged and never answering, notes, mitigated, resolved, closed."""
    slack = sb.slack
    alice, bob, carol = (slack.user_id(n) for n in ("alice", "bob", "carol"))
    general = slack.channel_by_name("general")["id"]  # type: ignore[index]
    _command(sb, alice, general, "declare sev2 Checkout API returns 500s")
    with sb.bot.db.read() as session:
        (incident,) = [i for i in q.list_incidents(session=session) if i.conversation_id]
    iid, channel = int(incident.id or 0), str(incident.conversation_id)
    for user in (bob, carol):
        slack.join(channel, user)

    clock.advance(minutes=4)
    _command(sb, bob, channel, "ack")
    clock.advance(minutes=2)
    _command(sb, alice, channel, "playbook high-error-rate")
    clock.advance(minutes=3)
    board = _checklist_ts(sb, channel)
    slack.click_button(
        alice, channel, board, checklist.DONE, block_id="step.quantify-impact.actions"
    )
    sb.settle()
    clock.advance(minutes=2)
    slack.click_button(
        carol, channel, board, checklist.SKIP, block_id="step.check-saturation.actions"
    )
    sb.settle()
    (form,) = slack.views(carol)
    slack.submit_view(carol, form["id"], {"reason": "The deploy explains the errors"})
    sb.settle()
    clock.advance(minutes=1)
    _command(sb, alice, channel, "page database")  # the DBAs never answer
    clock.advance(minutes=2)
    _command(sb, carol, channel, "note Rollback to 2026.03.16-2 started")
    clock.advance(minutes=31)  # a long quiet stretch while the rollback runs
    _command(sb, alice, channel, "status monitoring")
    clock.advance(minutes=10)
    _command(sb, alice, channel, "resolve Rolled back; error rate at baseline")
    clock.advance(minutes=30)
    _command(sb, alice, channel, "close")
    sb.settle()
    return Played(iid, channel, alice, bob, carol)


def seed_history(sb: Sandbox, now: datetime, weeks: int = 10) -> None:
    """Past incidents over the previous weeks (stored directly), so the trends have a shape."""
    sevs = ["SEV1", "SEV2", "SEV3", "SEV4"]
    n = 0
    for week in range(1, weeks + 1):
        for k in range(week % 3 + 1):
            n += 1
            mitigated = 20 + (n * 7) % 50
            add_incident(
                sb.bot.db,
                title=f"Past incident {n}",
                severity=sevs[(n + k) % 4],
                start=now - timedelta(weeks=week, hours=k * 5),
                service=("checkout-api", "search", "payments")[n % 3],
                minutes={
                    M.IMPACT_STARTED: 0,
                    M.DETECTED: 3 + n % 5,
                    M.DECLARED: 4 + n % 5,
                    M.ACKNOWLEDGED: 6 + n % 7,
                    M.MITIGATED: mitigated,
                    M.RESOLVED: mitigated + 10 + n % 20,
                    M.CLOSED: mitigated + 200,
                },
            )

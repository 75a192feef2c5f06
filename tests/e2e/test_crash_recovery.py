"""kill -9 of real processes in the middle of their work, on PostgreSQL: `serve` while it
declares incidents (Slack or PagerDuty holding their answer back), and `scheduler` while it posts
a reminder. After the restart nothing is half-made, lost or doubled."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.core.naming import channel_name
from bot.flows.incidents import IncidentFlows
from bot.flows.ports import SystemClock
from bot.settings import Settings
from bot.store.models import Incident, OutboxRow, TimerRow
from tests.e2e.processes import Rig, postgres_url, started_rig, wait_for

HANG = 120.0  # seconds an answer is held back: longer than the test, so never, for the victim

CREATE_LOST = "Checkout down while Slack hangs"  # conversations.create hangs, nothing made yet
CREATE_MADE = "Payments down after Slack made it"  # Slack made the channel, its answer is lost
CARD_LOST = "Search down while the card posts"  # the card's chat.postMessage hangs, not posted
PAGE_MADE = "Login down after PagerDuty paged"  # PagerDuty opened its incident, answer lost


@dataclass
class Crash:
    rig: Rig  # its processes stopped; its emulators still up
    incidents: dict[str, Incident]
    failed: list[OutboxRow]  # effects given up


def _declare(rig: Rig, title: str) -> None:
    reply = rig.slack.send_command(rig.alice, rig.general, f"declare sev2 {title}")
    assert reply.status == 200, (reply.status, reply.body)


@pytest.fixture(scope="module")
def serve_crash(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Crash]:
    """Four declarations, each stopped at a different point inside one `serve`; kill -9; a new
    `serve` (with its in-process scheduler, the single-replica default) finishes them."""
    with started_rig(postgres_url(request), tmp_path_factory.mktemp("serve-crash")) as rig:
        first = rig.serve("serve-1")
        rig.ready(first)
        rig.slack.bot_url = f"{first.url}/slack/events"
        slack, pd = rig.slack, rig.pagerduty

        slack.fail("conversations.create", delay=HANG)  # answers internal_error, never in time
        _declare(rig, CREATE_LOST)
        assert wait_for(lambda: slack.pending_faults() == 0, 10), rig.logs()

        slack.fail("conversations.create", error=None, delay=HANG)  # done, answer held back
        _declare(rig, CREATE_MADE)
        assert wait_for(lambda: len(rig.incident_channels()) == 1, 10), rig.logs()

        slack.fail("chat.postMessage", delay=HANG)
        _declare(rig, CARD_LOST)
        assert wait_for(lambda: slack.pending_faults() == 0, 10), rig.logs()

        pd.fail("POST /incidents", delay=HANG, apply=True)
        _declare(rig, PAGE_MADE)
        assert wait_for(lambda: pd.pending_faults() == 0 and pd.incidents(), 10), rig.logs()

        # Each declaration is stopped where its fault holds it. The page's is held in PagerDuty
        # only: its channel and card may be made at once (a free window of Slack's tier is spent
        # at once, not paced to three channels a burst).
        assert len(rig.incidents()) == 4
        assert not any(i.card_message_id for i in rig.incidents() if i.title != PAGE_MADE)
        first.kill()
        second = rig.serve("serve-2", in_process_scheduler=True)
        assert wait_for(lambda: rig.settled(4), 30), (rig.pending_effects(), rig.logs())
        second.stop()  # what follows reads what was left; other tests need the scheduler lock
        with rig.db.read() as s:
            failed = list(s.exec(select(OutboxRow).where(col(OutboxRow.failed).is_(True))).all())
        yield Crash(rig, {i.title: i for i in rig.incidents()}, failed)


def _channels_named_after(rig: Rig, incident: Incident) -> list[str]:
    base = channel_name(incident.title, incident.created_at)
    pattern = re.compile(rf"^{re.escape(base)}(-\d+)?$")
    return [c["id"] for c in rig.incident_channels() if pattern.match(c["name"])]


def _one_channel_with_its_card(crash: Crash, title: str) -> None:
    rig, incident = crash.rig, crash.incidents[title]
    assert _channels_named_after(rig, incident) == [incident.conversation_id]  # no orphan, no `-2`
    channel = rig.slack.channel(str(incident.conversation_id))
    assert channel is not None and channel["name"] == incident.conversation_name
    (card,) = rig.cards(str(incident.conversation_id))
    assert card["ts"] == incident.card_message_id and title in str(card["text"])
    assert rig.alice in rig.slack.members(str(incident.conversation_id))


@pytest.mark.parametrize("title", [CREATE_LOST, CARD_LOST, PAGE_MADE])
def test_an_interrupted_declaration_ends_with_one_channel_and_one_card(
    serve_crash: Crash, title: str
) -> None:
    _one_channel_with_its_card(serve_crash, title)


def test_a_channel_slack_made_before_the_kill_becomes_the_incident_channel(
    serve_crash: Crash,
) -> None:
    _one_channel_with_its_card(serve_crash, CREATE_MADE)


def test_every_incident_is_paged_once_and_announced_once(serve_crash: Crash) -> None:
    rig = serve_crash.rig
    pages = rig.pagerduty.incidents()
    assert sorted(p["title"] for p in pages) == sorted(f"[SEV2] {t}" for t in serve_crash.incidents)
    assert len({p["incident_key"] for p in pages}) == 4
    announced = [m for m in rig.slack.messages(rig.feed, system=False)]
    assert sorted(serve_crash.incidents) == sorted(
        next(t for t in serve_crash.incidents if t in str(m["text"])) for m in announced
    )
    assert not serve_crash.failed, [(r.kind, r.last_error) for r in serve_crash.failed]


# -- the scheduler --------------------------------------------------------------------------------


@pytest.fixture
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    with started_rig(postgres_url(request), tmp_path) as started:
        yield started


def _status_updates(rig: Rig, incident_id: int) -> tuple[int, int]:
    """(fired, pending) status-update timers of the incident."""
    with rig.db.read() as s:
        rows = s.exec(
            select(TimerRow).where(
                TimerRow.incident_id == incident_id, TimerRow.kind == "status_update"
            )
        ).all()
    return sum(r.outcome == "fired" for r in rows), sum(r.fired_at is None for r in rows)


def test_a_scheduler_killed_while_posting_a_reminder(rig: Rig) -> None:
    """Three schedulers; the leader is killed while Slack holds the reminder's post, twice:
    once before Slack posted it, once after (the answer lost). Either way the reminder lands
    exactly once, and the next one is armed once."""
    catalog = Settings(incidentbot_config=rig.catalog).catalog()
    flows = IncidentFlows(rig.db, catalog, SystemClock(), None)  # effects left to the scheduler
    ids = [
        flows.declare(title=t, severity="SEV2", actor=rig.alice, request_key=t).incident_id
        for t in ("Queue backlog growing", "Cache hit ratio falling")
    ]
    schedulers = [rig.scheduler(f"scheduler-{n}") for n in range(1, 4)]
    rig.ready(*schedulers)
    assert wait_for(lambda: rig.settled(2), 15), rig.logs()
    channels = [str(i.conversation_id) for i in rig.incidents()]

    for incident_id, channel, slack_posted in zip(ids, channels, (False, True), strict=True):
        assert incident_id is not None
        leader = next(s for s in schedulers if s.alive() and s.leads())
        rig.slack.fail(
            "chat.postMessage", error=None if slack_posted else "internal_error", delay=HANG
        )
        with rig.db.engine.begin() as conn:  # this incident's reminder is due now
            conn.exec_driver_sql(
                "UPDATE timer SET due_at = now() WHERE kind = 'status_update' "
                f"AND fired_at IS NULL AND incident_id = {int(incident_id)}"
            )
        assert wait_for(lambda: rig.slack.pending_faults() == 0, 15), rig.logs()
        assert len(rig.reminders(channel)) == (1 if slack_posted else 0)
        leader.kill()
        assert wait_for(lambda: not rig.pending_effects(), 15), (rig.pending_effects(), rig.logs())
        assert len(rig.reminders(channel)) == 1, rig.slack.messages(channel)
        assert _status_updates(rig, incident_id) == (1, 1)  # fired once; the next one armed once
    assert sum(s.alive() for s in schedulers) == 1

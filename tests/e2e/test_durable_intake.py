"""Answered means done, with real processes: a burst of `/incident declare` and button clicks
against a slow Slack, `serve` stopped after its 10th answer — by kill -9, or by SIGTERM as a
deploy does — and a new `serve` started. Every request Slack got an answer for (an HTTP 200, or
in Socket Mode the envelope's ack) took effect, once; nothing was doubled. On SQLite and on
PostgreSQL, over HTTP and over Socket Mode."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlmodel import col, select

from bot.adapters.slack import blocks as b
from bot.core.milestones import Milestone
from bot.store.db import Database
from bot.store.models import InboxRow, MilestoneRow, RoleAssignment, TimelineRow
from tests.e2e.processes import BotProcess, Rig, postgres_url, started_rig, wait_for

BURST = 30  # declares, plus two clicks on each of the three open incidents
SLOW_SLACK = 0.3  # seconds every Web API call takes while the burst is answered
STOP_AFTER = 10  # answers


@dataclass
class Answered:
    declares: list[str] = field(default_factory=list)  # titles
    acks: list[int] = field(default_factory=list)  # incident ids acknowledged by a click
    claims: list[int] = field(default_factory=list)  # incident ids whose commander was claimed
    count: int = 0


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'incidentbot.db'}"
        Database(url).upgrade()
        return url
    return postgres_url(request)


@pytest.fixture(params=["http", "socket-mode"])
def rig(request: pytest.FixtureRequest, db_url: str, tmp_path: Path) -> Iterator[Rig]:
    """HTTP: Slack posts signed requests and a 200 is the answer. Socket Mode: Slack sends
    envelopes over the app's WebSocket and the envelope's ack is the answer."""
    with started_rig(db_url, tmp_path, socket_mode=request.param == "socket-mode") as started:
        yield started


def _serve(rig: Rig, name: str) -> BotProcess:
    process = rig.serve(name, in_process_scheduler=True)
    rig.ready(process)
    if rig.socket_mode:
        rig.connected(1)
    else:
        rig.slack.bot_url = f"{process.url}/slack/events"
    return process


def _open_three(rig: Rig) -> dict[int, tuple[str, str]]:
    """Three incidents with their cards: {incident id: (channel, card ts)}."""
    for n in range(3):
        reply = rig.slack.send_command(rig.alice, rig.general, f"declare sev3 Standing {n}")
        assert reply.status == 200
    assert wait_for(lambda: rig.settled(3), 30), rig.logs()
    return {i.id: (str(i.conversation_id), str(i.card_message_id)) for i in rig.incidents() if i.id}


def _burst(rig: Rig, cards: dict[int, tuple[str, str]], stop: signal.Signals) -> Answered:
    """Send everything at once; stop the process after its STOP_AFTER-th answer."""
    answered, lock, enough = Answered(), threading.Lock(), threading.Event()
    victim = rig.processes[-1]

    def declare(n: int) -> None:
        title = f"Burst {n:02d}"
        reply = _quietly(
            lambda: rig.slack.send_command(rig.alice, rig.general, f"declare sev3 {title}")
        )
        _count(reply, lambda: answered.declares.append(title))

    def click(incident: int, action: str) -> None:
        channel, ts = cards[incident]
        reply = _quietly(
            lambda: rig.slack.click_button(rig.alice, channel, ts, action, value=str(incident))
        )
        into = answered.acks if action == b.ACK else answered.claims
        _count(reply, lambda: into.append(incident))

    def _count(reply: object, record: object) -> None:
        if getattr(reply, "status", None) != 200:
            return
        with lock:
            record()  # type: ignore[operator]
            answered.count += 1
            if answered.count == STOP_AFTER:
                enough.set()

    rig.slack.latency = SLOW_SLACK
    jobs = [(declare, (n,)) for n in range(BURST)]
    jobs += [(click, (i, a)) for i in cards for a in (b.ACK, b.CLAIM_COMMANDER)]
    with ThreadPoolExecutor(len(jobs)) as pool:
        for fn, args in jobs:
            pool.submit(fn, *args)
        assert enough.wait(60), rig.logs()
        victim.popen.send_signal(stop)
    victim.popen.wait(timeout=30)  # SIGTERM: within SHUTDOWN_GRACE (1 s here)
    if rig.socket_mode:
        rig.connected(0)
    rig.slack.latency = 0.0
    return answered


def _quietly(send: object) -> object:
    try:
        return send()  # type: ignore[operator]
    except Exception:  # the process went away mid-request: not answered
        return None


def _acknowledged(rig: Rig) -> set[int]:
    with rig.db.read() as s:
        rows = s.exec(
            select(MilestoneRow).where(MilestoneRow.kind == Milestone.ACKNOWLEDGED.value)
        ).all()
        return {r.incident_id for r in rows}


def _commanded(rig: Rig) -> set[int]:
    with rig.db.read() as s:
        rows = s.exec(select(RoleAssignment).where(RoleAssignment.role == "commander")).all()
        return {r.incident_id for r in rows}


def _unfinished(rig: Rig) -> int:
    with rig.db.read() as s:
        return len(s.exec(select(InboxRow).where(col(InboxRow.done_at).is_(None))).all())


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_every_answered_request_takes_effect_once_after_the_process_goes(
    rig: Rig, stop: signal.Signals, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A grace period shorter than the work left: SIGTERM leaves some of it to the next process.
    monkeypatch.setenv("SHUTDOWN_GRACE", "1")
    _serve(rig, "serve-1")
    cards = _open_three(rig)
    answered = _burst(rig, cards, stop)
    assert answered.count >= STOP_AFTER

    _serve(rig, "serve-2")  # a deploy's new process: it finishes what the old one acked

    def done() -> bool:
        titles = [i.title for i in rig.incidents()]
        return (
            all(t in titles for t in answered.declares)
            and set(answered.acks) <= _acknowledged(rig)
            and set(answered.claims) <= _commanded(rig)
            and _unfinished(rig) == 0
        )

    assert wait_for(done, 60), (answered, [i.title for i in rig.incidents()], rig.logs()[-3000:])
    titles = [i.title for i in rig.incidents()]
    assert len(titles) == len(set(titles)), "a request took effect twice"
    names = [c["name"] for c in rig.incident_channels()]
    assert len(names) == len(set(names))
    with rig.db.read() as s:  # each click once on the timeline, however it was finished
        for incident in set(answered.acks):
            entries = s.exec(
                select(TimelineRow).where(
                    TimelineRow.incident_id == incident, TimelineRow.kind == "acknowledged"
                )
            ).all()
            assert len(entries) == 1

"""Window budgets: a free window is spent at once, only what exceeds it waits (until the oldest
booking leaves the window), and a slot handed back serves the next caller. The clock is injected."""

from __future__ import annotations

import pytest

from bot.adapters.slack.pacing import LIMITS, MAX_SLEEP, SlackPacer
from bot.core.pacing import Pacer, Window, book, unbook
from bot.flows.ports import Deferred

TIER2 = Window(18, 61.0)  # 90 % of Slack's tier 2 (20 a minute), a second longer than a minute


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_free_window_is_spent_at_once_and_the_next_call_waits_until_it_frees() -> None:
    clock = Clock()
    pacer = Pacer({"conversations.create": TIER2}, clock=clock)
    slots = [pacer.book("conversations.create") for _ in range(18)]
    assert all(s is not None and s.wait == 0.0 for s in slots)
    nineteenth = pacer.book("conversations.create")
    assert nineteenth is not None
    assert nineteenth.wait == pytest.approx(61.0)  # when the first booking leaves the window
    assert nineteenth.at == pytest.approx(1061.0)


def test_a_storm_gets_the_budget_at_once_and_the_rest_as_the_window_frees() -> None:
    clock = Clock()
    pacer = Pacer({"conversations.create": TIER2}, clock=clock)
    first = [pacer.book("conversations.create") for _ in range(18)]
    clock.now += 10.0  # the next 12 of a 30-incident storm, ten seconds later
    rest = [pacer.book("conversations.create") for _ in range(12)]
    assert [s.at for s in first if s] == [1000.0] * 18
    assert [s.at for s in rest if s] == [1061.0] * 12
    # in any 61-second span, never more than the budget
    times = sorted(s.at for s in first + rest if s)
    assert max(sum(t <= x < t + 61.0 for x in times) for t in times) == 18


def test_release_hands_the_slot_back_to_the_next_caller() -> None:
    clock = Clock()
    pacer = Pacer({"conversations.create": TIER2}, clock=clock)
    for _ in range(17):
        pacer.book("conversations.create")
    last = pacer.book("conversations.create")
    assert last is not None and last.wait == 0.0
    pacer.release(last)  # that caller will not make the call after all
    again = pacer.book("conversations.create")
    assert again is not None and again.wait == 0.0
    waiting = pacer.book("conversations.create")
    assert waiting is not None and waiting.wait > 0
    pacer.release(waiting)  # a waiting slot handed back is not counted either
    assert pacer.book("conversations.create") == waiting


def test_scopes_and_names_keep_their_own_windows() -> None:
    clock = Clock()
    pacer = Pacer({"chat.postMessage": Window(3, 3.3)}, clock=clock)
    assert [pacer.book("chat.postMessage", "C1").wait for _ in range(3)] == [0.0] * 3  # type: ignore[union-attr]
    assert pacer.book("chat.postMessage", "C2").wait == 0.0  # type: ignore[union-attr]
    assert pacer.book("chat.postMessage", "C1").wait == pytest.approx(3.3)  # type: ignore[union-attr]
    assert pacer.book("users.info") is None  # no limit, no booking
    clock.now += 3.3
    assert pacer.book("chat.postMessage", "C2").wait == 0.0  # type: ignore[union-attr]


def test_old_bookings_are_dropped_and_the_list_stays_bounded() -> None:
    """Ten minutes of a call a second against 18 a window: callers that will not wait hand
    their slot back, and what left the window is forgotten."""
    booked: list[float] = []
    for second in range(600):
        booked, at = book(booked, Window(18, 61.0), float(second))
        if at - second > MAX_SLEEP:
            booked = unbook(booked, at)
        assert len(booked) <= 2 * 18  # the window, and the few sleeping their short wait


def test_a_wait_beyond_max_sleep_goes_back_to_the_outbox_without_its_slot() -> None:
    clock = Clock()
    pacer = SlackPacer(Pacer(LIMITS, clock=clock))
    for _ in range(18):
        pacer.before("conversations.create", None)  # no sleep: the window is free
    with pytest.raises(Deferred) as info:
        pacer.before("conversations.create", None)
    assert info.value.retry_after is not None and info.value.retry_after > MAX_SLEEP
    assert info.value.retry_after == pytest.approx(61.0)
    clock.now += 61.0
    pacer.before("conversations.create", None)  # the deferred call did not keep a slot

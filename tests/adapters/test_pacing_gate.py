"""The gate in front of a rate-limited vendor: a free window is spent at once, a short wait is
slept, a long one goes back to the outbox; and once the window is known full, the calls that
come before it frees go back without booking (a storm's hundreds of channels)."""

from __future__ import annotations

import pytest

from bot.adapters.pacing_gate import PacingGate
from bot.core.pacing import Pacer, Slot, Window
from bot.flows.ports import Deferred


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingBudgets(Pacer):
    def __init__(self, clock: Clock) -> None:
        super().__init__({"create": Window(3, 60.0)}, clock=clock)
        self.booked = 0

    def book(self, name: str, scope: str = "") -> Slot | None:
        self.booked += 1
        return super().book(name, scope)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def budgets(clock: Clock) -> CountingBudgets:
    return CountingBudgets(clock)


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def gate(budgets: CountingBudgets, clock: Clock, slept: list[float]) -> PacingGate:
    return PacingGate(budgets, "vendor", max_sleep=2.0, clock=clock, sleep=slept.append)


def test_once_a_window_is_full_later_calls_wait_their_turn_without_booking(
    gate: PacingGate, budgets: CountingBudgets, clock: Clock
) -> None:
    for _ in range(3):
        gate.before("create", "", "paced")
    with pytest.raises(Deferred) as first:
        gate.before("create", "", "paced")
    assert first.value.retry_after == pytest.approx(60.0)
    assert budgets.booked == 4
    clock.now += 30.0
    for _ in range(50):
        with pytest.raises(Deferred) as later:
            gate.before("create", "", "paced")
        assert later.value.retry_after == pytest.approx(30.0)
    assert budgets.booked == 4  # nothing booked nor given back for them


def test_a_short_wait_left_is_booked_and_slept_and_a_freed_window_is_spent(
    gate: PacingGate, budgets: CountingBudgets, clock: Clock, slept: list[float]
) -> None:
    for _ in range(3):
        gate.before("create", "", "paced")
    with pytest.raises(Deferred):
        gate.before("create", "", "paced")
    clock.now += 59.0
    gate.before("create", "", "paced")  # 1 s to go: booked, slept
    assert slept == [pytest.approx(1.0)] and budgets.booked == 5
    clock.now += 1.0
    gate.before("create", "", "paced")
    gate.before("create", "", "paced")
    assert budgets.booked == 7 and len(slept) == 1


def test_each_budget_and_scope_is_remembered_apart(
    gate: PacingGate, budgets: CountingBudgets
) -> None:
    for _ in range(3):
        gate.before("create", "C1", "paced")
    with pytest.raises(Deferred):
        gate.before("create", "C1", "paced")
    gate.before("create", "C2", "paced")  # another channel's window is free
    gate.before("other", "", "paced")  # no limit
    assert budgets.booked == 6

"""Senders' times: a milestone a sender reports (PagerDuty's occurred_at) is stamped at the
sender's time when the timeline allows it, otherwise at receipt, and the timeline says which."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core import lifecycle as lc
from bot.core.catalog import default_catalog
from bot.core.milestones import Milestone, Source
from bot.core.sender_time import TimeUsed, Told, choose

CAT = default_catalog()
T0 = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)  # detection / declaration
LATER = T0 + timedelta(hours=2)  # when the delivery arrives
ALICE = "U0ALICE"


def pd(at: datetime | None, **kw: object) -> Told:
    return Told("PagerDuty", at, **kw)  # type: ignore[arg-type]


def opened() -> lc.Snapshot:
    return lc.declare(CAT, title="Checkout 500s", severity="SEV2", now=T0, actor=ALICE).snapshot


# -- the rule --------------------------------------------------------------------------------------


def test_a_time_inside_the_bounds_is_used_and_said() -> None:
    chosen = choose(pd(T0 + timedelta(minutes=1)), received=LATER, floors=[("detection", T0)])
    assert (chosen.at, chosen.used) == (T0 + timedelta(minutes=1), TimeUsed.SENDER)
    assert chosen.why == "at PagerDuty's time 14:01:00 UTC, received 16:00:00 UTC"


def test_a_time_before_a_floor_is_replaced_by_receipt_and_said() -> None:
    chosen = choose(
        pd(T0 - timedelta(minutes=1, seconds=50)), received=LATER, floors=[("detection", T0)]
    )
    assert (chosen.at, chosen.used) == (LATER, TimeUsed.RECEIPT)
    assert chosen.why == (
        "PagerDuty's time 13:58:10 UTC is before detection (14:00:00 UTC); stamped at receipt"
    )


def test_the_callers_own_floors_count_too() -> None:
    page = T0 + timedelta(minutes=5)
    chosen = choose(
        pd(T0 + timedelta(minutes=2), not_before=(("the page", page),)),
        received=LATER,
        floors=[("detection", T0)],
    )
    assert chosen.used is TimeUsed.RECEIPT and "before the page (14:05:00 UTC)" in chosen.why


@pytest.mark.parametrize(
    ("ahead", "used"),
    [
        (timedelta(0), TimeUsed.SENDER),
        (timedelta(seconds=60), TimeUsed.SENDER),  # a clock a minute fast is tolerated
        (timedelta(seconds=61), TimeUsed.RECEIPT),
        (timedelta(days=400), TimeUsed.RECEIPT),
    ],
)
def test_a_time_more_than_a_minute_ahead_of_receipt_is_not_believed(
    ahead: timedelta, used: TimeUsed
) -> None:
    chosen = choose(pd(LATER + ahead), received=LATER, floors=[("detection", T0)])
    assert chosen.used is used
    assert chosen.at == (LATER + ahead if used is TimeUsed.SENDER else LATER)
    if used is TimeUsed.RECEIPT:
        assert "is in the future; stamped at receipt" in chosen.why


def test_no_time_means_receipt() -> None:
    chosen = choose(pd(None), received=LATER)
    assert (chosen.at, chosen.why) == (LATER, "PagerDuty gave no time; stamped at receipt")


def test_the_date_is_named_when_the_day_differs() -> None:
    chosen = choose(pd(T0 - timedelta(days=1)), received=LATER)
    assert chosen.why.startswith("at PagerDuty's time 2026-02-28 14:00:00 UTC")


# -- in the state machine ---------------------------------------------------------------------------


def test_an_acknowledgement_is_stamped_at_the_senders_time() -> None:
    told = pd(T0 + timedelta(minutes=1))
    decision = lc.decide(
        CAT, opened(), lc.Acknowledge(told), now=LATER, actor=ALICE, source=Source.PAGER
    )
    stamp = decision.set_milestones[Milestone.ACKNOWLEDGED]
    assert stamp.at == T0 + timedelta(minutes=1)
    (entry,) = decision.entries
    assert entry.at == stamp.at
    assert entry.text == "Acknowledged (at PagerDuty's time 14:01:00 UTC, received 16:00:00 UTC)"
    assert entry.data["time_used"] == "sender"


def test_an_acknowledgement_before_detection_is_stamped_at_receipt() -> None:
    told = pd(T0 - timedelta(seconds=50))
    decision = lc.decide(CAT, opened(), lc.Acknowledge(told), now=LATER, actor=ALICE)
    assert decision.set_milestones[Milestone.ACKNOWLEDGED].at == LATER
    assert "13:59:10 UTC is before detection" in decision.entries[0].text
    assert decision.entries[0].data["time_used"] == "receipt"


def test_a_resolution_is_bounded_by_mitigation_and_stamps_the_implied_mitigation_with_it() -> None:
    snap = opened()
    mitigated = lc.decide(
        CAT, snap, lc.ChangeStatus("monitoring"), now=T0 + timedelta(minutes=30), actor=ALICE
    )
    snap = lc.apply(snap, mitigated)
    early = lc.decide(
        CAT,
        snap,
        lc.ChangeStatus("resolved", told=pd(T0 + timedelta(minutes=10))),
        now=LATER,
        actor=None,
    )
    assert early.set_milestones[Milestone.RESOLVED].at == LATER
    assert "is before mitigation (14:30:00 UTC)" in early.entries[0].text

    fresh = opened()
    resolved = lc.decide(
        CAT,
        fresh,
        lc.ChangeStatus("resolved", told=pd(T0 + timedelta(minutes=40))),
        now=LATER,
        actor=None,
    )
    at = T0 + timedelta(minutes=40)
    assert resolved.set_milestones[Milestone.RESOLVED].at == at
    assert resolved.set_milestones[Milestone.MITIGATED].at == at  # implied, never after resolution


def test_a_reopening_is_not_before_the_resolution_it_reopens() -> None:
    snap = opened()
    snap = lc.apply(
        snap,
        lc.decide(CAT, snap, lc.ChangeStatus("resolved"), now=T0 + timedelta(hours=1), actor=ALICE),
    )
    before = lc.decide(
        CAT,
        snap,
        lc.ChangeStatus("investigating", told=pd(T0 + timedelta(minutes=59))),
        now=LATER,
        actor=None,
    )
    assert before.entries[0].at == LATER
    assert "is before the resolution (15:00:00 UTC)" in before.entries[0].text
    after = lc.decide(
        CAT,
        snap,
        lc.ChangeStatus("investigating", told=pd(T0 + timedelta(minutes=61))),
        now=LATER,
        actor=None,
    )
    assert after.entries[0].at == T0 + timedelta(minutes=61)

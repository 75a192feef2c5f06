"""The review agenda (bot.core.agenda): pure, to the second."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.core import agenda
from bot.core.agenda import Activity, PageFact, StepFact, TeamMedian, Transition
from bot.core.milestones import Milestone as M

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def act(minutes: float, text: str = "x", kind: str = "note", source: str = "chat") -> Activity:
    return Activity(at(minutes), kind, text, source)


def stamps(**minutes: float) -> dict[M, datetime]:
    names = {
        "impact": M.IMPACT_STARTED,
        "detected": M.DETECTED,
        "declared": M.DECLARED,
        "ack": M.ACKNOWLEDGED,
        "mitigated": M.MITIGATED,
        "resolved": M.RESOLVED,
        "closed": M.CLOSED,
    }
    return {names[k]: at(v) for k, v in minutes.items()}


# -- silence ----------------------------------------------------------------------------------------
def test_longest_silence_is_between_consecutive_entries() -> None:
    ms = stamps(detected=0, declared=0, resolved=60)
    entries = [
        act(0, "Declared", "declared"),
        act(5, "ack"),
        act(7, "note A"),
        act(38, "note B"),  # 31 minutes after note A: the longest
        act(50, "status"),
        act(60, "Resolved", "resolved"),
    ]
    s = agenda.longest_silence(ms, entries, now=at(500))
    assert s is not None
    assert (s.start, s.end) == (at(7), at(38))
    assert s.duration == timedelta(minutes=31)
    assert s.before is not None and s.before.text == "note A"
    assert s.after is not None and s.after.text == "note B"
    assert not s.ongoing


def test_silence_counts_from_the_declaration_and_up_to_the_resolution() -> None:
    # nothing between the declaration and the first entry for 20 minutes
    ms = stamps(detected=0, declared=0, resolved=90)
    entries = [act(20, "first"), act(30, "second"), act(90, "Resolved", "resolved")]
    s = agenda.longest_silence(ms, entries, now=at(1000))
    assert s is not None and s.duration == timedelta(minutes=60)  # 30 → 90 (resolution)
    entries = [act(40, "first"), act(45, "Resolved", "resolved")]
    s = agenda.longest_silence(stamps(declared=0, resolved=45), entries, now=at(1000))
    assert s is not None and (s.start, s.end, s.before) == (at(0), at(40), None)


def test_entries_after_resolution_do_not_count_and_the_close_is_not_silence() -> None:
    ms = stamps(declared=0, resolved=10, closed=600)
    entries = [act(0, "d", "declared"), act(10, "r", "resolved"), act(600, "c", "closed")]
    s = agenda.longest_silence(ms, entries, now=at(2000))
    assert s is not None and s.duration == timedelta(minutes=10)


def test_an_open_incident_is_silent_until_now() -> None:
    ms = stamps(declared=0)
    entries = [act(0, "d", "declared"), act(3, "note")]
    s = agenda.longest_silence(ms, entries, now=at(45))
    assert s is not None and s.ongoing and (s.start, s.end) == (at(3), at(45))
    assert s.before is not None and s.after is None


def test_system_entries_do_not_break_a_silence() -> None:
    ms = stamps(declared=0, resolved=60)
    entries = [
        act(0, "d", "declared"),
        act(15, "Reminder: post a status update", source="system"),
        act(30, "Reminder: post a status update", source="system"),
        act(45, "the fix is out"),
        act(60, "r", "resolved"),
    ]
    s = agenda.longest_silence(ms, entries, now=at(100))
    assert s is not None and (s.start, s.end) == (at(0), at(45))


def test_the_time_spent_resolved_before_a_reopen_is_not_silence() -> None:
    ms = stamps(declared=0, resolved=200)  # the last resolution
    entries = [
        act(0, "d", "declared"),
        act(10, "Resolved", "resolved"),
        act(130, "Reopened", "reopened"),  # 2 hours resolved: not a silence
        act(150, "note"),
        act(200, "Resolved again", "resolved"),
    ]
    intervals = agenda.open_intervals(ms, entries, now=at(1000))
    assert intervals == [(at(0), at(10), False), (at(130), at(200), False)]
    s = agenda.longest_silence(ms, entries, now=at(1000))
    assert s is not None and (s.start, s.end) == (at(150), at(200))
    assert s.after is not None and s.after.text == "Resolved again"


def test_reopened_and_still_open() -> None:
    entries = [act(0, "d", "declared"), act(5, "r", "resolved"), act(20, "o", "reopened")]
    intervals = agenda.open_intervals(stamps(declared=0), entries, now=at(30))
    assert intervals == [(at(0), at(5), False), (at(20), at(30), True)]


def test_imported_incident_with_milestones_and_no_entries() -> None:
    ms = stamps(impact=-10, detected=0, declared=0, resolved=42)
    s = agenda.longest_silence(ms, [], now=at(1000))
    assert s is not None and s.duration == timedelta(minutes=42) and not s.ongoing


def test_no_silence_without_any_start_or_without_time() -> None:
    assert agenda.longest_silence({}, [], now=T0) is None
    ms = stamps(declared=0, resolved=0)
    assert agenda.longest_silence(ms, [act(0, "d", "declared")], now=T0) is None


def test_entries_before_the_declaration_are_ignored_and_order_does_not_matter() -> None:
    ms = stamps(detected=0, declared=10, resolved=40)
    entries = [act(40, "r", "resolved"), act(25, "b"), act(-30, "alert"), act(10, "d", "declared")]
    s = agenda.longest_silence(ms, entries, now=at(100))
    assert s is not None and (s.start, s.end) == (at(10), at(25))


def test_non_utc_input_is_compared_by_instant() -> None:
    paris = timezone(timedelta(hours=1))
    ms = {M.DECLARED: T0.astimezone(paris), M.RESOLVED: at(30)}
    entries = [Activity(at(10).astimezone(paris), "note", "n", "slack")]
    s = agenda.longest_silence(ms, entries, now=at(100))
    assert s is not None and s.duration == timedelta(minutes=20)


# -- transitions ------------------------------------------------------------------------------------
def test_transition_durations_skip_missing_and_negative() -> None:
    ms = stamps(impact=-5, detected=0, declared=0, mitigated=30, resolved=40)
    found = agenda.transition_durations(ms)
    labels = {t.label: d for t, d in found.items()}
    assert labels == {
        "Impact started → Detected": timedelta(minutes=5),
        "Detected → Declared": timedelta(0),
        "Mitigated → Resolved": timedelta(minutes=10),
    }
    assert agenda.transition_durations(stamps(detected=10, ack=5)) == {}


def test_team_medians_per_transition() -> None:
    others = [stamps(detected=0, ack=m) for m in (1, 2, 10)] + [stamps(detected=0, ack=3)]
    medians = agenda.team_medians(others)
    mtta = Transition(M.DETECTED, M.ACKNOWLEDGED)
    assert medians[mtta] == TeamMedian(2.5 * 60, 4)
    assert Transition(M.IMPACT_STARTED, M.DETECTED) not in medians
    assert agenda.team_medians([]) == {}


def test_slowest_transition_is_the_furthest_over_its_median() -> None:
    ms = stamps(impact=-10, detected=0, declared=1, ack=20, mitigated=50, resolved=55)
    medians = {
        Transition(M.IMPACT_STARTED, M.DETECTED): TeamMedian(600, 9),  # 10m vs 10m: on par
        Transition(M.DETECTED, M.ACKNOWLEDGED): TeamMedian(300, 9),  # 20m vs 5m: +15m (4×)
        Transition(M.ACKNOWLEDGED, M.MITIGATED): TeamMedian(600, 9),  # 30m vs 10m: +20m (3×)
        Transition(M.DETECTED, M.DECLARED): TeamMedian(1, 9),  # 60s vs 1s: 60× but only +59s
    }
    slow = agenda.slowest_transition(ms, medians)
    assert slow is not None
    assert slow.transition == Transition(M.ACKNOWLEDGED, M.MITIGATED)
    assert slow.took == timedelta(minutes=30)
    assert slow.excess == timedelta(minutes=20)
    assert slow.ratio == pytest.approx(3.0)


def test_slowest_without_team_data_is_the_longest() -> None:
    ms = stamps(detected=0, declared=0, ack=4, mitigated=9, resolved=30)
    slow = agenda.slowest_transition(ms, {})
    assert slow is not None
    assert slow.transition == Transition(M.MITIGATED, M.RESOLVED)
    assert slow.team is None and slow.ratio is None
    assert agenda.slowest_transition({}, {}) is None


def test_transitions_with_a_median_win_over_those_without() -> None:
    # resolved → closed took 3 hours but nobody else has closed yet: it is not compared
    ms = stamps(detected=0, ack=20, resolved=30, closed=210)
    medians = {Transition(M.DETECTED, M.ACKNOWLEDGED): TeamMedian(600, 2)}
    slow = agenda.slowest_transition(ms, medians)
    assert slow is not None and slow.transition == Transition(M.DETECTED, M.ACKNOWLEDGED)


def test_a_zero_median_has_no_ratio() -> None:
    ms = stamps(detected=0, declared=3)
    slow = agenda.slowest_transition(ms, {Transition(M.DETECTED, M.DECLARED): TeamMedian(0, 4)})
    assert slow is not None and slow.ratio is None and slow.excess == timedelta(minutes=3)


# -- steps and pages --------------------------------------------------------------------------------
def test_skipped_and_failed_steps_are_kept_in_order() -> None:
    steps = [
        StepFact("hp", "Quantify", "done", by="U1", at=at(5)),
        StepFact("hp", "Check saturation", "skipped", "The deploy explains it", "U2", at(8)),
        StepFact("hp", "Page DBA", "failed", result="PagerDuty said 400", at=at(9)),
        StepFact("hp", "Later", "open"),
    ]
    assert [s.title for s in agenda.skipped_steps(steps)] == ["Check saturation", "Page DBA"]


def test_unacknowledged_pages() -> None:
    pages = [
        PageFact("checkout-api", "resolved", at(0), True),
        PageFact("database", "triggered", at(10), False),
        PageFact(None, "failed", at(12), False),
    ]
    assert [p.service for p in agenda.unacknowledged_pages(pages)] == ["database", None]


# -- the agenda -------------------------------------------------------------------------------------
def test_build_lists_every_item_in_order_with_plain_text() -> None:
    ms = stamps(impact=-4, detected=0, declared=0, ack=3, mitigated=40, resolved=50, closed=90)
    entries = [
        act(0, "Declared", "declared"),
        act(3, "Acknowledged", "acknowledged"),
        act(8, "Rollback started"),
        act(40, "Status: Identified → Monitoring", "status"),
        act(50, "Resolved", "resolved"),
    ]
    steps = [
        StepFact("high-error-rate", "Check saturation", "skipped", "  the deploy explains it "),
        StepFact("high-error-rate", "Ask DBA", "skipped", None),
    ]
    pages = [PageFact("database", "triggered", at(12), False)]
    medians = {Transition(M.ACKNOWLEDGED, M.MITIGATED): TeamMedian(900, 3)}
    result = agenda.build(
        milestones=ms, entries=entries, steps=steps, pages=pages, medians=medians, now=at(120)
    )
    kinds = [i.kind for i in result.items]
    assert kinds == [
        "silence",
        "transition",
        "skipped_step",
        "skipped_step",
        "unacknowledged_page",
    ]
    silence, slow, skip1, skip2, page = result.items
    assert silence.title == "Longest silent stretch: 32m 00s"
    assert "“Rollback started” (02 Mar 09:08 UTC)" in silence.detail
    assert "“Status: Identified → Monitoring” (02 Mar 09:40 UTC)" in silence.detail
    assert (
        slow.title == "Slowest transition: Acknowledged → Mitigated took 37m 00s (2.5× the median)"
    )
    assert "22m 00s longer than usual; the team's median is 15m 00s over 3 other incidents" in (
        slow.detail
    )
    assert "reason given: “the deploy explains it”" in skip1.detail
    assert "no reason given" in skip2.detail
    assert page.title == "Page to database never acknowledged"
    assert "it ended triggered without an acknowledgement" in page.detail
    assert result.silence is not None and result.slowest is not None
    assert len(result.skipped) == 2 and len(result.unacknowledged) == 1


def test_build_when_every_transition_was_faster_than_usual() -> None:
    ms = stamps(detected=0, ack=2)
    medians = {Transition(M.DETECTED, M.ACKNOWLEDGED): TeamMedian(600, 1)}
    result = agenda.build(milestones=ms, entries=[], steps=[], pages=[], medians=medians, now=at(3))
    slow = next(i for i in result.items if i.kind == "transition")
    assert slow.title.startswith("No transition was slower than usual")
    assert "over 1 other incident." in slow.detail


def test_build_ongoing_silence_and_a_failed_page_and_step() -> None:
    result = agenda.build(
        milestones=stamps(declared=0),
        entries=[act(0, "Declared", "declared")],
        steps=[StepFact("db", "Fail over", "failed", result="timeout")],
        pages=[PageFact(None, "failed", at(1), False)],
        medians={},
        now=at(30),
    )
    silence = result.items[0]
    assert silence.title == "Longest silent stretch: 30m 00s" and "and counting" in silence.detail
    assert [i.kind for i in result.items] == ["silence", "failed_step", "unacknowledged_page"]
    assert "db: timeout." in result.items[1].detail
    assert result.items[2].title == "Page to the default service never acknowledged"
    assert "never reached the pager" in result.items[2].detail


def test_build_with_nothing_to_say() -> None:
    result = agenda.build(milestones={}, entries=[], steps=[], pages=[], medians={}, now=T0)
    assert result.items == ()

"""The state machine, exhaustively: every status pair, every milestone rule, every refusal."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.core import lifecycle as lc
from bot.core.catalog import Phase, default_catalog
from bot.core.lifecycle import Refused, Snapshot
from bot.core.milestones import Milestone, Source, Stamp
from bot.core.people import person

CAT = default_catalog()
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ALICE, BOB = "U0ALICE", "U0BOB"
PHASE = {s.id: s.phase for s in CAT.statuses}


def opened(**kwargs: object) -> Snapshot:
    return lc.declare(
        CAT, title="Checkout API returns 500s", severity="SEV2", now=T0, actor=ALICE, **kwargs
    ).snapshot  # type: ignore[arg-type]


def at_status(status: str) -> Snapshot:
    """An incident that reached `status` the way a team would."""
    snap = opened()
    path = {
        "investigating": [],
        "identified": ["identified"],
        "monitoring": ["monitoring"],
        "resolved": ["resolved"],
        "closed": ["resolved", "closed"],
    }[status]
    for i, step in enumerate(path, start=1):
        snap = lc.apply(
            snap,
            lc.decide(CAT, snap, lc.ChangeStatus(step), now=T0 + timedelta(minutes=i), actor=ALICE),
        )
    assert snap.status == status
    return snap


# -- declare -------------------------------------------------------------------------------------


def test_declare_stamps_detected_declared_and_impact_and_makes_declarer_commander() -> None:
    opening = lc.declare(CAT, title="  Checkout   API 500s ", severity="sev2", now=T0, actor=ALICE)
    snap = opening.snapshot
    assert (snap.title, snap.severity, snap.status) == (
        "Checkout API 500s",
        "SEV2",
        "investigating",
    )
    assert {m: s.at for m, s in snap.milestones.items()} == {
        Milestone.IMPACT_STARTED: T0,
        Milestone.DETECTED: T0,
        Milestone.DECLARED: T0,
    }
    assert all(s.by == ALICE and s.source is Source.CHAT for s in snap.milestones.values())
    assert snap.roles == {"commander": ALICE}
    assert [e.kind.value for e in opening.entries] == ["declared", "role"]


def test_declare_with_earlier_impact_start_records_it() -> None:
    impact = T0 - timedelta(minutes=20)
    opening = lc.declare(
        CAT, title="x", severity=None, now=T0, actor=ALICE, impact_started_at=impact
    )
    assert opening.snapshot.milestones[Milestone.IMPACT_STARTED].at == impact
    assert opening.snapshot.severity == "SEV3"  # the catalog's default
    assert "milestone" in [e.kind.value for e in opening.entries]


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"title": "   "}, "needs a title"),
        ({"title": "x" * 151}, "151 characters"),
        ({"title": "ok", "severity": "SEV9"}, "Unknown severity"),
        ({"title": "ok", "impact_started_at": T0 + timedelta(seconds=1)}, "out of order"),
    ],
)
def test_declare_refusals(kwargs: dict[str, object], needle: str) -> None:
    kwargs = {"severity": "SEV2", **kwargs}
    with pytest.raises(Refused, match=needle):
        lc.declare(CAT, now=T0, actor=ALICE, **kwargs)  # type: ignore[arg-type]


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        lc.declare(CAT, title="x", severity="SEV1", now=datetime(2026, 1, 1), actor=ALICE)


def test_alert_born_incident_has_no_commander() -> None:
    snap = lc.declare(
        CAT, title="x", severity="SEV1", now=T0, actor=None, source=Source.ALERT
    ).snapshot
    assert snap.roles == {}


# -- every status pair ---------------------------------------------------------------------------


def expected(current: str, target: str) -> str:
    """The oracle, written from the product rules rather than from the code."""
    if current == "closed":
        return "refused:closed"
    if current == target:
        return "refused:same"
    if target == "closed" and current != "resolved":
        return "refused:resolve-first"
    return "ok"


@pytest.mark.parametrize(("current", "target"), list(itertools.product(PHASE, PHASE)))
def test_every_status_transition(current: str, target: str) -> None:
    snap = lc.apply(  # bob commands, so he may close too
        at_status(current),
        lc.Decision(roles={"commander": BOB}),
    )
    now = T0 + timedelta(hours=1)
    outcome = expected(current, target)
    if outcome != "ok":
        with pytest.raises(Refused):
            lc.decide(CAT, snap, lc.ChangeStatus(target), now=now, actor=BOB)
        return
    decision = lc.decide(CAT, snap, lc.ChangeStatus(target), now=now, actor=BOB)
    after = lc.apply(snap, decision)
    assert after.status == target
    phase, before_phase = PHASE[target], PHASE[current]
    stamps = after.milestones
    if phase is Phase.MITIGATED:
        assert Milestone.MITIGATED in stamps
        assert Milestone.RESOLVED not in stamps
    if phase is Phase.RESOLVED:
        assert stamps[Milestone.RESOLVED].at == now
        assert Milestone.MITIGATED in stamps
    if phase is Phase.CLOSED:
        assert stamps[Milestone.CLOSED].at == now
    kinds = [e.kind.value for e in decision.entries]
    if before_phase is Phase.RESOLVED and phase in (Phase.ACTIVE, Phase.MITIGATED):
        assert kinds == ["reopened"]
        assert Milestone.RESOLVED not in stamps
    if phase is Phase.ACTIVE and before_phase in (Phase.MITIGATED, Phase.RESOLVED):
        # impact is back: mitigation no longer holds; the timeline keeps the old stamps
        assert Milestone.MITIGATED not in stamps and Milestone.RESOLVED not in stamps
        assert kinds == (["reopened"] if before_phase is Phase.RESOLVED else ["status"])
    if before_phase is Phase.RESOLVED and phase is Phase.MITIGATED:
        assert stamps[Milestone.MITIGATED] == snap.milestones[Milestone.MITIGATED]
    assert decision.entries and all(e.actor == BOB for e in decision.entries)


def test_monitoring_keeps_first_mitigation_and_resolve_keeps_it() -> None:
    snap = at_status("monitoring")
    first = snap.milestones[Milestone.MITIGATED]
    snap = lc.apply(
        snap,
        lc.decide(
            CAT,
            snap,
            lc.ChangeStatus("resolved", "rolled back"),
            now=T0 + timedelta(hours=2),
            actor=BOB,
        ),
    )
    assert snap.milestones[Milestone.MITIGATED] == first


def test_resolve_without_monitoring_implies_mitigation_at_resolution() -> None:
    snap = opened()
    now = T0 + timedelta(minutes=30)
    decision = lc.decide(CAT, snap, lc.ChangeStatus("resolved", "  fixed  "), now=now, actor=BOB)
    assert decision.summary == "fixed"
    assert decision.set_milestones[Milestone.MITIGATED] == Stamp(now, Source.IMPLIED, BOB)
    assert decision.set_milestones[Milestone.RESOLVED] == Stamp(now, Source.CHAT, BOB)


def test_reopen_then_resolve_uses_the_last_resolution() -> None:
    snap = at_status("resolved")
    snap = lc.apply(
        snap,
        lc.decide(
            CAT, snap, lc.ChangeStatus("investigating"), now=T0 + timedelta(hours=1), actor=BOB
        ),
    )
    later = T0 + timedelta(hours=3)
    snap = lc.apply(snap, lc.decide(CAT, snap, lc.ChangeStatus("resolved"), now=later, actor=BOB))
    assert snap.milestones[Milestone.RESOLVED].at == later


def test_closing_unresolved_is_refused_with_the_way_forward() -> None:
    with pytest.raises(Refused, match="Resolve it first"):
        lc.decide(CAT, opened(), lc.ChangeStatus("closed"), now=T0, actor=ALICE)


def test_closed_incident_accepts_notes_only() -> None:
    snap = at_status("closed")
    note = lc.decide(CAT, snap, lc.AddNote("late finding"), now=T0 + timedelta(days=1), actor=BOB)
    assert note.entries[0].text == "late finding"
    for command in (lc.Acknowledge(), lc.ChangeSeverity("SEV1"), lc.AssignRole("comms", BOB)):
        with pytest.raises(Refused, match="closed"):
            lc.decide(CAT, snap, command, now=T0 + timedelta(days=1), actor=BOB)


# -- other commands ------------------------------------------------------------------------------


def test_ack_once() -> None:
    snap = opened()
    later = T0 + timedelta(minutes=3)
    decision = lc.decide(CAT, snap, lc.Acknowledge(), now=later, actor=BOB)
    assert decision.set_milestones == {Milestone.ACKNOWLEDGED: Stamp(later, Source.CHAT, BOB)}
    with pytest.raises(Refused, match=re.escape(f"Already acknowledged by {person(BOB)}")):
        lc.decide(CAT, lc.apply(snap, decision), lc.Acknowledge(), now=later, actor=ALICE)


def test_ack_before_detection_is_refused() -> None:
    with pytest.raises(Refused, match="out of order"):
        lc.decide(CAT, opened(), lc.Acknowledge(), now=T0 - timedelta(seconds=1), actor=BOB)


def test_severity_changes_and_refusals() -> None:
    snap = opened()
    raised = lc.decide(CAT, snap, lc.ChangeSeverity("sev1"), now=T0, actor=BOB)
    assert (
        raised.severity == "SEV1" and raised.entries[0].text == "Raised severity from SEV2 to SEV1"
    )
    lowered = lc.decide(CAT, snap, lc.ChangeSeverity("4"), now=T0, actor=BOB)
    assert lowered.entries[0].text == "Lowered severity from SEV2 to SEV4"
    with pytest.raises(Refused, match="already SEV2"):
        lc.decide(CAT, snap, lc.ChangeSeverity("SEV2"), now=T0, actor=BOB)
    with pytest.raises(Refused, match="Unknown severity"):
        lc.decide(CAT, snap, lc.ChangeSeverity("SEV7"), now=T0, actor=BOB)


def test_roles_assign_replace_and_refuse_repeat() -> None:
    snap = opened()
    decision = lc.decide(CAT, snap, lc.AssignRole("commander", BOB), now=T0, actor=BOB)
    assert decision.roles == {"commander": BOB}
    assert decision.entries[0].data == {"role": "commander", "user": BOB, "previous": ALICE}
    with pytest.raises(Refused, match="already the Incident Commander"):
        lc.decide(CAT, lc.apply(snap, decision), lc.AssignRole("commander", BOB), now=T0, actor=BOB)
    with pytest.raises(Refused, match="Unknown role"):
        lc.decide(CAT, snap, lc.AssignRole("pilot", BOB), now=T0, actor=BOB)


@pytest.mark.parametrize("text", ["", "   ", "x" * 3001])
def test_bad_notes_are_refused(text: str) -> None:
    with pytest.raises(Refused):
        lc.decide(CAT, opened(), lc.AddNote(text), now=T0, actor=BOB)


def test_refusal_changes_nothing() -> None:
    snap = opened()
    before = repr(snap)
    with pytest.raises(Refused):
        lc.decide(CAT, snap, lc.ChangeStatus("closed"), now=T0, actor=BOB)
    assert repr(snap) == before


# -- corrections (/incident timestamps) ----------------------------------------------------------
def test_the_commander_corrects_milestones_and_the_original_stays_on_the_timeline() -> None:
    snap = at_status("closed")
    earlier = T0 - timedelta(minutes=20)
    decision = lc.decide(
        CAT,
        snap,
        lc.EditMilestones({Milestone.IMPACT_STARTED: earlier}),
        now=T0 + timedelta(hours=1),
        actor=ALICE,
    )
    assert decision.set_milestones == {
        Milestone.IMPACT_STARTED: Stamp(earlier, Source.MANUAL, ALICE)
    }
    (entry,) = decision.entries
    assert entry.text == (
        "Impact started corrected to 2026-03-01 11:40:00 UTC (was 2026-03-01 12:00:00 UTC, from chat)"
    )
    assert entry.data["from"] == T0.isoformat() and entry.data["from_by"] == ALICE


@pytest.mark.parametrize(
    ("changes", "actor", "needle"),
    [
        (
            {Milestone.DETECTED: T0 - timedelta(hours=1)},
            ALICE,
            "must not be after",
        ),  # impact > detected
        ({Milestone.DECLARED: T0}, ALICE, "cannot be edited"),
        ({Milestone.IMPACT_STARTED: T0 + timedelta(days=1)}, ALICE, "future"),
        ({Milestone.IMPACT_STARTED: T0 - timedelta(minutes=5)}, BOB, "Only the incident commander"),
        ({Milestone.IMPACT_STARTED: T0}, ALICE, "Nothing changed"),
    ],
)
def test_corrections_that_are_refused(
    changes: dict[Milestone, datetime], actor: str, needle: str
) -> None:
    with pytest.raises(Refused, match=needle):
        lc.decide(
            CAT,
            at_status("resolved"),
            lc.EditMilestones(changes),
            now=T0 + timedelta(hours=2),
            actor=actor,
        )


def test_an_open_incident_cannot_be_given_a_resolution_by_correction_but_an_admin_may_edit() -> (
    None
):
    with pytest.raises(Refused, match="not resolved yet"):
        lc.decide(CAT, opened(), lc.EditMilestones({Milestone.RESOLVED: T0}), now=T0, actor=ALICE)
    admin = CAT.model_copy(update={"admins": (BOB,)})
    decision = lc.decide(
        admin,
        opened(),
        lc.EditMilestones({Milestone.ACKNOWLEDGED: T0}),
        now=T0 + timedelta(minutes=1),
        actor=BOB,
    )
    assert Milestone.ACKNOWLEDGED in decision.set_milestones

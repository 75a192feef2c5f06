"""Every refusal of the core says what was refused, why, who the sentence is about and, where
there is one, what to do instead: the parts each surface lays out its own way. Its plain text
(`reason`, `str()`) is the why, then the fix."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from bot.core import lifecycle as lc
from bot.core.catalog import default_catalog
from bot.core.lifecycle import Refusal, Refused, Snapshot
from bot.core.milestones import Milestone
from bot.core.people import people_in, person
from bot.core.refusals import sentence

CAT = default_catalog()
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LATER = T0 + timedelta(hours=2)
ALICE, BOB = "U0ALICE", "U0BOB"  # Alice declares, so she is the commander


def declared(severity: str = "SEV2", **kwargs: object) -> Snapshot:
    return lc.declare(
        CAT, title="Checkout API 500s", severity=severity, now=T0, actor=ALICE, **kwargs
    ).snapshot  # type: ignore[arg-type]


def moved(snap: Snapshot, *statuses: str) -> Snapshot:
    for i, status in enumerate(statuses, start=1):
        at = T0 + timedelta(minutes=i)
        snap = lc.apply(snap, lc.decide(CAT, snap, lc.ChangeStatus(status), now=at, actor=ALICE))
    return snap


def acked(by: str | None) -> Snapshot:
    snap = declared()
    return lc.apply(snap, lc.decide(CAT, snap, lc.Acknowledge(), now=T0, actor=by))


def declare(**kwargs: object) -> Callable[[], object]:
    fields: dict[str, object] = {"title": "Checkout API 500s", "severity": "SEV2", **kwargs}
    return lambda: lc.declare(CAT, now=T0, actor=ALICE, **fields)  # type: ignore[arg-type]


def decide(snap: Snapshot, command: lc.Command, actor: str | None = ALICE) -> Callable[[], object]:
    return lambda: lc.decide(CAT, snap, command, now=LATER, actor=actor)


def edit(changes: dict[Milestone, datetime], actor: str = ALICE) -> Callable[[], object]:
    return decide(moved(declared(), "resolved"), lc.EditMilestones(changes), actor)


ONLY_THE_COMMANDER = "Only the incident commander ({person:U0ALICE}) or an admin can"
ASK = "Ask the commander, or an admin."
USE_ONE_OF = "Use one of `"

# (the refused call, what, a part of why, who, a part of the fix — None: there is none)
CASES: dict[str, tuple[Callable[[], object], str, str, tuple[str, ...], str | None]] = {
    "a declaration without a title": (
        declare(title="  "),
        "declare an incident",
        "An incident needs a title.",
        (),
        "For example: `/incident declare sev2",
    ),
    "a title too long": (
        declare(title="x" * 151),
        "declare an incident",
        "The title is 151 characters",
        (),
        "Shorten it",
    ),
    "a declaration of an unknown severity": (
        declare(severity="SEV9"),
        "declare an incident",
        "Unknown severity 'SEV9'.",
        (),
        USE_ONE_OF,
    ),
    "a declaration with its impact after it": (
        declare(impact_started_at=T0 + timedelta(seconds=1)),
        "declare an incident",
        "The milestones are out of order",
        (),
        None,
    ),
    "a change to a closed incident": (
        decide(moved(declared(), "resolved", "closed"), lc.ChangeSeverity("SEV1")),
        "change the severity",
        "This incident is closed.",
        (),
        "Declare a new incident if the problem is back.",
    ),
    "an unknown severity": (
        decide(declared(), lc.ChangeSeverity("SEV9")),
        "change the severity",
        "Unknown severity 'SEV9'.",
        (),
        USE_ONE_OF,
    ),
    "the severity it has": (
        decide(declared(), lc.ChangeSeverity("SEV2")),
        "change the severity",
        "The incident is already SEV2.",
        (),
        None,
    ),
    "a SEV1 changed by someone else than its commander": (
        decide(declared("SEV1"), lc.ChangeSeverity("SEV2"), BOB),
        "change the severity of a SEV1",
        ONLY_THE_COMMANDER,
        (ALICE,),
        ASK,
    ),
    "an unknown role": (
        decide(declared(), lc.AssignRole("captain", BOB)),
        "assign a role",
        "Unknown role 'captain'.",
        (),
        USE_ONE_OF,
    ),
    "a role to whom holds it": (
        decide(declared(), lc.AssignRole("commander", ALICE)),
        "assign a role",
        f"{person(ALICE)} is already the Incident Commander.",
        (ALICE,),
        None,
    ),
    "a second acknowledgement": (
        decide(acked(BOB), lc.Acknowledge()),
        "acknowledge the incident",
        f"Already acknowledged by {person(BOB)}.",
        (BOB,),
        None,
    ),
    "a second acknowledgement of the bot's": (
        decide(acked(None), lc.Acknowledge()),
        "acknowledge the incident",
        "Already acknowledged.",
        (),
        None,
    ),
    "an empty note": (
        decide(declared(), lc.AddNote("  ")),
        "add a note",
        "A note needs text.",
        (),
        "For example: `/incident note <what happened>`.",
    ),
    "a note too long": (
        decide(declared(), lc.AddNote("x" * (lc.MAX_NOTE + 1))),
        "add a note",
        f"The note is {lc.MAX_NOTE + 1} characters",
        (),
        "Split it",
    ),
    "a public incident made public": (
        decide(declared(), lc.MakePublic()),
        "make the incident public",
        "This incident is already public.",
        (),
        None,
    ),
    "a private incident made public by someone else than its commander": (
        decide(declared(private=True), lc.MakePublic(), BOB),
        "make a private incident public",
        ONLY_THE_COMMANDER,
        (ALICE,),
        ASK,
    ),
    "an unknown status": (
        decide(declared(), lc.ChangeStatus("fixed")),
        "change the status",
        "Unknown status 'fixed'.",
        (),
        USE_ONE_OF,
    ),
    "the status it has": (
        decide(declared(), lc.ChangeStatus("investigating")),
        "change the status",
        "The incident is already Investigating.",
        (),
        None,
    ),
    "closing before resolving": (
        decide(declared(), lc.ChangeStatus("closed")),
        "close the incident",
        "The incident is Investigating: only a resolved incident can be closed.",
        (),
        "Resolve it first (`/incident resolve`), then close it.",
    ),
    "closing by someone else than the commander": (
        decide(moved(declared(), "resolved"), lc.ChangeStatus("closed"), BOB),
        "close the incident",
        ONLY_THE_COMMANDER,
        (ALICE,),
        ASK,
    ),
    "a mitigation in the future": (
        decide(declared(), lc.ChangeStatus("monitoring", mitigated_at=LATER + timedelta(1))),
        "change the status",
        "Mitigation can't be in the future.",
        (),
        None,
    ),
    "a mitigation before the impact": (
        decide(declared(), lc.ChangeStatus("monitoring", mitigated_at=T0 - timedelta(hours=1))),
        "change the status",
        "That would put the milestones out of order",
        (),
        None,
    ),
    "a correction of the bot's own record": (
        edit({Milestone.DECLARED: T0}),
        "correct the timestamps",
        "Declared is the bot's record of when it happened here",
        (),
        None,
    ),
    "a correction of what has not happened": (
        decide(declared(), lc.EditMilestones({Milestone.MITIGATED: T0})),
        "correct the timestamps",
        "The incident is not mitigated yet.",
        (),
        "Change its status instead.",
    ),
    "a correction into the future": (
        edit({Milestone.IMPACT_STARTED: LATER + timedelta(days=1)}),
        "correct the timestamps",
        "cannot be in the future",
        (),
        None,
    ),
    "a correction that changes nothing": (
        edit({Milestone.IMPACT_STARTED: T0}),
        "correct the timestamps",
        "Nothing changed",
        (),
        None,
    ),
    "a correction out of order": (
        edit({Milestone.DETECTED: T0 - timedelta(hours=1)}),
        "correct the timestamps",
        "That would put the milestones out of order",
        (),
        None,
    ),
    "a correction by someone else than the commander": (
        edit({Milestone.IMPACT_STARTED: T0 - timedelta(minutes=5)}, BOB),
        "correct the timestamps",
        ONLY_THE_COMMANDER,
        (ALICE,),
        ASK,
    ),
}


@pytest.mark.parametrize(
    ("call", "what", "why", "who", "fix"), list(CASES.values()), ids=list(CASES)
)
def test_each_refusal_says_what_why_who_and_what_to_do_instead(
    call: Callable[[], object], what: str, why: str, who: tuple[str, ...], fix: str | None
) -> None:
    with pytest.raises(Refused) as raised:
        call()
    refusal = raised.value.refusal
    assert refusal.what == what
    assert why in refusal.why
    assert refusal.who == who
    if fix is None:
        assert refusal.fix is None
    else:
        assert refusal.fix is not None and fix in refusal.fix
        assert fix not in refusal.why  # the fix is not said twice
    # who are the people the sentence names; each part is a sentence of its own
    assert set(people_in(refusal.text)) == set(refusal.who)
    assert all(part.endswith(".") for part in (refusal.why, refusal.fix) if part)
    # and the plain text stays the whole of it: the reason, then what to do instead
    assert raised.value.reason == str(raised.value) == refusal.text
    assert refusal.text == (refusal.why if fix is None else f"{refusal.why} {refusal.fix}")


def test_what_someone_typed_cannot_name_a_person_in_a_refusal() -> None:
    with pytest.raises(Refused) as raised:
        lc.decide(CAT, declared(), lc.ChangeSeverity("{person:U0BOSS}"), now=LATER, actor=ALICE)
    assert people_in(raised.value.reason) == []
    assert raised.value.refusal.who == ()


def test_a_clause_from_elsewhere_becomes_a_sentence_of_its_own() -> None:
    assert sentence("set pager.schedule in the catalog") == "Set pager.schedule in the catalog."
    assert sentence(" Map it in the catalog. ") == "Map it in the catalog."
    assert sentence("`x` is wrong?") == "`x` is wrong?"


def test_a_refusal_without_a_fix_is_its_reason_alone() -> None:
    refusal = Refusal("page a service", "No pager is set up.")
    assert (Refused(refusal).reason, refusal.who, refusal.fix) == ("No pager is set up.", (), None)

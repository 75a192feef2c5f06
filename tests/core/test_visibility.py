"""Making a private incident public: the same authority as closing it (the commander or a
catalog admin; anyone while nobody commands; the bot itself), and never the other way."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.core import commands as c, lifecycle as lc
from bot.core.catalog import catalog_from_mapping
from bot.core.lifecycle import Refused
from bot.core.people import person
from bot.core.timeline import EntryKind

ALICE, BOB, ADMIN = "U0ALICE", "U0BOB", "U0ADMIN"
CAT = catalog_from_mapping({"admins": [ADMIN]})
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def private(commander: str | None = ALICE) -> lc.Snapshot:
    return lc.declare(
        CAT, title="Keys in logs", severity="SEV2", now=T0, actor=commander, private=True
    ).snapshot


@pytest.mark.parametrize(
    ("commander", "actor"),
    [(ALICE, ALICE), (ALICE, ADMIN), (None, BOB), (ALICE, None)],
    ids=["commander", "admin", "nobody-commands", "the-bot"],
)
def test_who_may_make_it_public(commander: str | None, actor: str | None) -> None:
    decision = lc.decide(CAT, private(commander), lc.MakePublic(), now=T0, actor=actor)
    assert decision.private is False
    (entry,) = decision.entries
    assert entry.kind is EntryKind.VISIBILITY and entry.actor == actor
    assert lc.apply(private(commander), decision).private is False


def test_anyone_else_is_refused_and_a_public_incident_stays_as_it_is() -> None:
    with pytest.raises(
        Refused, match=re.escape(f"Only the incident commander ({person(ALICE)}) or an admin")
    ):
        lc.decide(CAT, private(), lc.MakePublic(), now=T0, actor=BOB)
    public = lc.declare(CAT, title="Slow", severity="SEV3", now=T0, actor=ALICE).snapshot
    with pytest.raises(Refused, match="already public"):
        lc.decide(CAT, public, lc.MakePublic(), now=T0, actor=ALICE)
    unchanged = lc.decide(CAT, public, lc.AddNote("x"), now=T0, actor=ALICE)
    assert unchanged.private is None and lc.apply(public, unchanged).private is False


def test_parsing() -> None:
    assert c.parse("visibility public", CAT) == c.MakeVisible()
    assert c.parse("visibility PUBLIC", CAT) == c.MakeVisible()
    assert isinstance(c.parse("visibility private", CAT), c.Invalid)
    assert isinstance(c.parse("visibility", CAT), c.Invalid)

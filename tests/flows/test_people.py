"""People are identities matched across pagers and the chat surface by email: whoever
acknowledges in one pager or another is one person with one chat handle, the chat is asked
about an email once, and someone the chat does not know is kept, and named, by their email."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.core.catalog import PagerTarget, catalog_from_mapping
from bot.core.milestones import Milestone
from bot.flows import chat_effects as fx
from bot.flows.incidents import IncidentFlows
from bot.flows.outbox import OutboxRunner
from bot.flows.pager_effects import PagerEffects
from bot.flows.pager_in import PagerInbound
from bot.flows.pagers import Pagers
from bot.flows.paging import pages_of
from bot.flows.people import People
from bot.flows.ports import PagerEvent
from bot.flows.unit import Outcome
from bot.store import incident_reads, incidents as q, people as store
from bot.store.db import Database
from tests.flows.fakes import FakeChat, FakePager, StepClock


class Rig:
    """Two pagers (`first` knows its users by id and says their email when asked; `other`
    names them by email, as Opsgenie's usernames are) and a chat that knows Alice and Bob."""

    def __init__(self, db: Database) -> None:
        self.db, self.chat, self.clock = db, FakeChat(), StepClock()
        self.pagers = Pagers(
            by_kind={"first": FakePager("first", "First"), "other": FakePager("other", "Other")},
            targets={"first": PagerTarget(service_id="PDEFAULT")},
        )
        catalog = catalog_from_mapping(
            {
                "services": {
                    "checkout": {"pager": {"service_id": "P1"}},
                    "search": {
                        "pager": {
                            "kind": "other",
                            "responders": [{"type": "team", "name": "search"}],
                        }
                    },
                }
            }
        )
        chat = fx.ChatEffects(
            db, self.chat, catalog, self.clock, feed_channel="CFEED", public_url=None
        )
        pages = PagerEffects(db, self.pagers, catalog, self.clock, public_url=None)
        runner = OutboxRunner(db, self.clock, {**chat.handlers, **pages.handlers})
        self.flows = IncidentFlows(db, catalog, self.clock, runner, paging=self.pagers)
        self.people = People(db, self.chat, self.pagers, self.clock)

    def asked_by_email(self) -> list[object]:
        return [args for name, args in self.chat.calls if name == "user_by_email"]


@pytest.fixture
def rig(db: Database) -> Iterator[Rig]:
    yield Rig(db)


def test_one_person_acknowledging_in_two_pagers_is_one_identity_with_one_chat_handle(
    rig: Rig,
) -> None:
    by_id = rig.people.from_pager("first", user_id="p-alice", email=None, name="Alice")
    by_email = rig.people.from_pager("other", user_id=None, email="Alice@Example.com", name=None)
    assert by_id.chat == by_email.chat == "U0ALICE"
    assert by_id.person_id == by_email.person_id is not None
    assert by_id.email == by_email.email == "alice@example.com"
    with rig.db.read() as session:
        person = store.by_email(session=session, email="ALICE@example.com")
        assert person is not None and person.id == by_id.person_id
        assert store.by_handle(session=session, system="pager:first", handle="p-alice") == person
        assert (
            store.by_handle(session=session, system="pager:other", handle="alice@example.com")
            == person
        )


def test_the_chat_is_asked_about_an_email_once(rig: Rig) -> None:
    for _ in range(3):
        assert rig.people.from_pager("first", user_id="p-alice", email=None).chat == "U0ALICE"
        assert rig.people.from_pager("other", user_id=None, email="alice@example.com").chat == (
            "U0ALICE"
        )
    assert rig.asked_by_email() == [("alice@example.com",)]


def test_someone_the_chat_does_not_know_is_kept_by_email(rig: Rig) -> None:
    someone = rig.people.from_pager("other", user_id=None, email="Dana@Example.com", name=None)
    assert (someone.chat, someone.email, someone.known_as) == (
        None,
        "dana@example.com",
        someone.email,
    )
    with rig.db.read() as session:
        person = store.by_email(session=session, email="dana@example.com")
    assert person is not None and person.id == someone.person_id
    # they may join the chat later: an email the chat did not know is asked about again
    named = rig.people.from_pager("other", user_id=None, email="dana@example.com", name="Dana D")
    assert rig.asked_by_email() == [("dana@example.com",), ("dana@example.com",)]
    assert (named.person_id, named.known_as) == (person.id, "Dana D (dana@example.com)")


def test_a_pager_user_with_no_email_anywhere_is_nobody_to_match(rig: Rig) -> None:
    someone = rig.people.from_pager("first", user_id="p-ghost", email=None, name="Ghost")
    assert (someone.person_id, someone.chat, someone.named) == (None, None, "Ghost")
    odd = rig.people.from_pager("other", user_id=None, email="on-call desk")  # not an email
    assert (odd.person_id, odd.chat, odd.named) == (None, None, "on-call desk")
    assert rig.asked_by_email() == []


def test_a_chat_persons_email_is_asked_once_and_is_the_one_pagers_match(rig: Rig) -> None:
    assert rig.people.email_of("U0BOB") == "bob@example.com"
    assert rig.people.email_of("U0BOB") == "bob@example.com"
    assert [args for name, args in rig.chat.calls if name == "user_email"] == [("U0BOB",)]
    # a pager naming Bob by email finds the same person, and the chat is not asked again
    someone = rig.people.from_pager("other", user_id=None, email="bob@example.com")
    assert someone.chat == "U0BOB" and rig.asked_by_email() == []
    assert rig.people.email_of("U0NOBODY") is None


def _acknowledged(
    rig: Rig, incident: int, pager: str, email: str | None, agent: str | None
) -> Outcome:
    with rig.db.read() as session:
        pages = pages_of(session=session, incident_id=incident)
    (page,) = [p for p in pages if p.pager == pager.lower()]
    event = PagerEvent(
        pager=pager,
        id=f"delivery-{incident}",
        action="acknowledged",
        page_id=None,
        page_key=page.key,
        url=None,
        agent_id=agent,
        agent_email=email,
        agent_name=None,
        note=None,
        occurred_at=rig.clock.now() - timedelta(seconds=30),
    )
    return PagerInbound(rig.flows, rig.pagers, rig.chat, rig.people).handle(event)


def _paged_incident(rig: Rig, name: str) -> int:
    outcome = rig.flows.declare(
        title=name, severity="SEV3", actor="U0BOB", request_key=f"declare-{name}"
    )
    assert outcome.ok and outcome.incident_id is not None
    incident = rig.flows.incident(outcome.incident_id)
    assert incident is not None and incident.conversation_id is not None
    service = {"first": "checkout", "other": "search"}[name]
    paged = rig.flows.page(
        channel_id=incident.conversation_id, service=service, actor="U0BOB", request_key=name
    )
    assert paged.ok, paged.message
    rig.clock.advance(minutes=2)
    return outcome.incident_id


def test_acknowledgements_in_either_pager_are_stamped_by_the_same_chat_person(rig: Rig) -> None:
    first, other = _paged_incident(rig, "first"), _paged_incident(rig, "other")
    assert _acknowledged(rig, first, "First", None, "p-alice").ok
    assert _acknowledged(rig, other, "Other", "alice@example.com", None).ok
    with rig.db.read() as session:
        stamps = [
            q.milestones(session=session, incident_id=i)[Milestone.ACKNOWLEDGED].by
            for i in (first, other)
        ]
    assert stamps == ["U0ALICE", "U0ALICE"]
    assert rig.asked_by_email() == [("alice@example.com",)]


def test_an_acknowledgement_by_an_unknown_email_names_the_email(rig: Rig) -> None:
    incident = _paged_incident(rig, "other")
    assert _acknowledged(rig, incident, "Other", "dana@example.com", None).ok
    with rig.db.read() as session:
        stamp = q.milestones(session=session, incident_id=incident)[Milestone.ACKNOWLEDGED]
        detail = incident_reads.detail(session=session, incident_id=incident)
    assert stamp.by is None  # no chat handle to hold
    assert detail is not None
    acked = [e.text for e in detail.timeline if e.kind == "acknowledged"]
    assert len(acked) == 1 and acked[0].startswith("Acknowledged by dana@example.com")

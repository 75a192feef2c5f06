"""Paging through the Pager port: each page goes to the pager of its target's kind (the
deployment's default when the catalog names none), a second page adds responders, acks and
resolutions made here reach every pager paged, and a pager's webhook event moves the incident."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.core import lifecycle
from bot.core.catalog import PagerTarget, catalog_from_mapping
from bot.core.milestones import Milestone, Source
from bot.flows import chat_effects as fx
from bot.flows.incidents import IncidentFlows
from bot.flows.oncall import OnCallLookup
from bot.flows.outbox import OutboxRunner
from bot.flows.pager_effects import PagerEffects
from bot.flows.pager_in import PagerInbound
from bot.flows.pagers import Pagers
from bot.flows.paging import pages_of
from bot.flows.ports import PagePlan, PagerEvent, Responder
from bot.store import incidents as q
from bot.store.db import Database
from tests.flows.fakes import FakeChat, FakePager, StepClock

ALICE = "U0ALICE"
CATALOG = {
    "services": {
        "checkout": {"pager": {"service_id": "PCHECKOUT", "escalation_policy_id": "PEP1"}},
        "search": {
            "pager": {
                "kind": "other",
                "responders": [{"type": "team", "name": "search-team"}],
                "schedule": "search-rota",
            }
        },
    }
}


class Rig:
    def __init__(self, db: Database) -> None:
        self.db, self.chat, self.clock = db, FakeChat(), StepClock()
        self.first, self.other = FakePager("first", "First"), FakePager("other", "Other")
        self.pagers = Pagers(
            by_kind={"first": self.first, "other": self.other},
            targets={"first": PagerTarget(service_id="PDEFAULT")},
        )
        catalog = catalog_from_mapping(CATALOG)
        chat = fx.ChatEffects(
            db, self.chat, catalog, self.clock, feed_channel="CFEED", public_url=None
        )
        pages = PagerEffects(db, self.pagers, catalog, self.clock, public_url=None)
        self.runner = OutboxRunner(db, self.clock, {**chat.handlers, **pages.handlers})
        self.flows = IncidentFlows(db, catalog, self.clock, self.runner, paging=self.pagers)

    def declare(self, severity: str = "SEV1") -> int:
        outcome = self.flows.declare(
            title="Checkout down", severity=severity, actor=ALICE, request_key=f"d-{severity}"
        )
        assert outcome.ok and outcome.incident_id is not None, outcome.message
        return outcome.incident_id

    def channel(self, incident_id: int) -> str:
        incident = self.flows.incident(incident_id)
        assert incident is not None and incident.conversation_id is not None
        return incident.conversation_id

    def pages(self, incident_id: int) -> list[tuple[str, str, str, str]]:
        with self.db.read() as session:
            return [
                (p.pager, p.kind, p.target, p.status)
                for p in pages_of(session=session, incident_id=incident_id)
            ]


@pytest.fixture
def rig(db: Database) -> Iterator[Rig]:
    yield Rig(db)


def test_an_incident_without_a_service_pages_the_default_pager_with_its_default_target(
    rig: Rig,
) -> None:
    incident = rig.declare("SEV1")
    assert rig.pages(incident) == [("first", "alert", "PDEFAULT", "triggered")]
    (request,) = rig.first.asked("open")
    assert request.key == f"incidentbot-{incident}"  # type: ignore[attr-defined]
    assert request.severity_rank == 0  # type: ignore[attr-defined]
    assert rig.other.calls == []


def test_a_page_goes_to_the_pager_of_its_service_and_a_second_one_adds_responders(
    rig: Rig,
) -> None:
    incident = rig.declare("SEV3")  # not paged at once
    channel = rig.channel(incident)
    assert rig.flows.page(channel_id=channel, service="search", actor=ALICE, request_key="p1").ok
    assert rig.flows.page(channel_id=channel, service="checkout", actor=ALICE, request_key="p2").ok
    assert rig.flows.page(channel_id=channel, service="search", actor=ALICE, request_key="p3").ok
    assert rig.pages(incident) == [
        ("other", "alert", "search-team", "triggered"),
        ("first", "alert", "PCHECKOUT", "triggered"),
        ("other", "responders", "search-team", "triggered"),
    ]
    (opened,) = rig.other.asked("open")
    assert opened.responders == (Responder(type="team", name="search-team"),)  # type: ignore[attr-defined]
    (checkout,) = rig.first.asked("open")
    # the target's escalation policy travels as an escalation responder
    assert checkout.responders == (Responder(type="escalation", id="PEP1"),)  # type: ignore[attr-defined]
    ((page, plan),) = rig.other.asked("add_responders")  # type: ignore[misc]
    assert page.pager_id == f"other-incidentbot-{incident}-search-0"
    assert plan == PagePlan("responders", "search-team")


def test_acks_and_resolutions_made_here_reach_every_pager_paged(rig: Rig) -> None:
    incident = rig.declare("SEV3")
    channel = rig.channel(incident)
    for n, service in enumerate(("search", "checkout")):
        rig.flows.page(channel_id=channel, service=service, actor=ALICE, request_key=f"p{n}")
    assert rig.flows.act(
        command=lifecycle.Acknowledge(), actor=ALICE, request_key="ack", channel_id=channel
    ).ok
    assert len(rig.other.asked("acknowledge")) == len(rig.first.asked("acknowledge")) == 1
    assert {status for *_, status in rig.pages(incident)} == {"acknowledged"}


def test_a_pager_event_acknowledges_at_the_pagers_time_and_names_the_pager(rig: Rig) -> None:
    incident = rig.declare("SEV3")
    channel = rig.channel(incident)
    rig.flows.page(channel_id=channel, service="search", actor=ALICE, request_key="p")
    rig.clock.advance(minutes=5)
    at = rig.clock.now() - timedelta(minutes=1)  # acknowledged before the delivery came
    event = PagerEvent(
        pager="Other",
        id="delivery-1",
        action="acknowledged",
        page_id=None,
        page_key=f"incidentbot-{incident}-search-0",
        url=None,
        agent_id="p-alice",
        agent_email=None,
        agent_name="Alice",
        note=None,
        occurred_at=at,
    )
    inbound = PagerInbound(rig.flows, rig.pagers, rig.chat)
    assert inbound.handle(event).ok
    assert inbound.handle(event).duplicate  # the replay key is the pager's kind and the id
    with rig.db.read() as session:
        stamp = q.milestones(session=session, incident_id=incident)[Milestone.ACKNOWLEDGED]
    assert (stamp.source, stamp.by, stamp.at) == (Source.PAGER, ALICE, at)


def test_who_is_on_call_asks_the_pager_of_the_service(rig: Rig) -> None:
    lookup = OnCallLookup(rig.flows, rig.pagers)
    service, people = lookup.who("search")
    assert (service, [(p.name, p.via) for p in people]) == ("search", [("Alice", "search-rota")])
    with pytest.raises(lifecycle.Refused) as refused:
        lookup.who("checkout")
    assert refused.value.refusal == lifecycle.Refusal(
        "see who is on call",
        "No schedule known for `checkout`.",
        fix="Name one in the catalog.",  # the pager's fix, as a sentence of its own
    )


def test_without_a_pager_paging_is_refused_with_the_setup_to_do(db: Database) -> None:
    rig = Rig(db)
    rig.flows.paging = Pagers(missing="No pager is set up.", missing_fix="Set one up.")
    incident = rig.declare("SEV3")
    outcome = rig.flows.page(
        channel_id=rig.channel(incident), service="search", actor=ALICE, request_key="p"
    )
    assert (outcome.ok, outcome.message) == (False, "No pager is set up. Set one up.")
    assert outcome.refusal == lifecycle.Refusal(
        "page a service", "No pager is set up.", fix="Set one up."
    )


def test_a_service_its_pager_cannot_page_is_refused_with_what_to_set(db: Database) -> None:
    rig = Rig(db)
    incident = rig.declare("SEV3")
    rig.flows.catalog = catalog_from_mapping(
        {"services": {"billing": {"pager": {"kind": "other"}}}}
    )
    outcome = rig.flows.page(
        channel_id=rig.channel(incident), service="billing", actor=ALICE, request_key="p"
    )
    assert outcome.refusal == lifecycle.Refusal(
        "page a service",
        "`billing` cannot be paged: nothing to page.",
        fix="Map the service.",  # the pager's fix, as a sentence of its own
    )
    assert outcome.message == "`billing` cannot be paged: nothing to page. Map the service."

"""The pages repository: what was sent to a pager for an incident and what came of it, as plain
values that outlive the session — on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from bot.core.milestones import Source
from bot.core.timeline import Entry, EntryKind
from bot.store import incidents as q, pages
from bot.store.db import Database
from bot.store.pages import Page
from tests.store.conftest import T0


def request(db: Database, incident_id: int, key: str, *, pager: str = "pagerduty") -> Page:
    with db.transaction() as session:
        return pages.record_page_requested(
            session=session,
            incident_id=incident_id,
            pager=pager,
            kind="incident",
            key=key,
            service="checkout",
            target="PSVC",
            requested_by="U1",
            now=T0,
        )


def test_a_requested_page_is_pending_and_read_back_as_a_frozen_value(
    db: Database, incident_id: int
) -> None:
    page = request(db, incident_id, "incidentbot-1")
    assert (page.status, page.pager, page.key, page.pager_incident_id) == (
        "pending",
        "pagerduty",
        "incidentbot-1",
        None,
    )
    with db.read() as session:
        assert pages.page(session=session, page_id=page.id) == page
        assert pages.pages_of(session=session, incident_id=incident_id) == [page]
        assert pages.page(session=session, page_id=page.id + 100) is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        page.status = "triggered"  # type: ignore[misc]


def test_a_landed_page_keeps_the_pagers_incident_and_link(db: Database, incident_id: int) -> None:
    page = request(db, incident_id, "k1")
    with db.transaction() as session:
        landed = pages.record_page_landed(
            session=session,
            page_id=page.id,
            now=T0,
            pager_incident_id="Q1",
            html_url="https://p/Q1",
        )
    assert (landed.status, landed.pager_incident_id, landed.html_url) == (
        "triggered",
        "Q1",
        "https://p/Q1",
    )
    with db.read() as session:
        assert pages.page_lines(session=session, incident_id=incident_id) == [
            ("checkout", "triggered", "https://p/Q1")
        ]


def test_an_acknowledgement_carried_to_the_pager_stamps_the_first_time_only(
    db: Database, incident_id: int
) -> None:
    page = request(db, incident_id, "k1")
    later = T0 + timedelta(minutes=5)
    with db.transaction() as session:
        pages.record_page_followed(session=session, page_id=page.id, status="acknowledged", now=T0)
    with db.transaction() as session:
        pages.record_page_followed(
            session=session, page_id=page.id, status="acknowledged", now=later
        )
        pages.record_page_followed(
            session=session, page_id=page.id + 100, status="resolved", now=later
        )
    with db.read() as session:
        stored = pages.page(session=session, page_id=page.id)
    assert stored is not None and (stored.status, stored.acknowledged_at) == ("acknowledged", T0)


def test_a_page_given_up_is_failed(db: Database, incident_id: int) -> None:
    page = request(db, incident_id, "k1")
    with db.transaction() as session:
        pages.record_page_failed(session=session, page_id=page.id, now=T0)
    with db.read() as session:
        stored = pages.page(session=session, page_id=page.id)
    assert stored is not None and stored.status == "failed"


def test_a_pagers_event_finds_our_first_page_by_its_incident_or_our_key(
    db: Database, incident_id: int
) -> None:
    first = request(db, incident_id, "k1")
    request(db, incident_id, "k2")
    request(db, incident_id, "k1-other", pager="opsgenie")
    with db.transaction() as session:
        assert (
            pages.page_heard_of(
                session=session, pager="pagerduty", pager_incident_id=None, key=None, url=None
            )
            is None
        )
        assert (
            pages.page_heard_of(
                session=session, pager="opsgenie", pager_incident_id="Q9", key="k1", url=None
            )
            is None
        )  # another pager's key
        heard = pages.page_heard_of(
            session=session, pager="pagerduty", pager_incident_id="Q1", key="k1", url="https://p/Q1"
        )
    assert heard is not None and heard.id == first.id
    assert (heard.pager_incident_id, heard.html_url) == ("Q1", "https://p/Q1")  # noted on it
    with db.transaction() as session:
        again = pages.page_heard_of(
            session=session, pager="pagerduty", pager_incident_id="Q1", key=None, url=None
        )
    assert again == heard


def test_the_pagers_status_reaches_every_page_on_its_incident(
    db: Database, incident_id: int
) -> None:
    one, two = request(db, incident_id, "k1"), request(db, incident_id, "k2")
    other = request(db, incident_id, "k3")
    with db.transaction() as session:
        for page in (one, two):
            pages.record_page_landed(
                session=session, page_id=page.id, now=T0, pager_incident_id="Q1"
            )
    acked = T0 + timedelta(minutes=3)
    with db.transaction() as session:
        pages.record_pager_status(
            session=session,
            pager="pagerduty",
            pager_incident_id="Q1",
            status="acknowledged",
            url="https://p/Q1",
            acknowledged_at=lambda paged_at: max(paged_at, acked),
        )
    with db.read() as session:
        stored = {p.id: p for p in pages.pages_of(session=session, incident_id=incident_id)}
    assert [(stored[p.id].status, stored[p.id].acknowledged_at) for p in (one, two)] == [
        ("acknowledged", acked),
        ("acknowledged", acked),
    ]
    assert stored[one.id].html_url == "https://p/Q1"
    assert stored[other.id].status == "pending"


def test_whether_the_timeline_already_says_a_page_landed(db: Database, incident_id: int) -> None:
    page = request(db, incident_id, "k1")
    with db.transaction() as session:
        entry = Entry(
            EntryKind.PAGE, T0, "Paged PagerDuty: Q1", None, Source.PAGER, {"page_id": page.id}
        )
        q.add_entries(session=session, incident_id=incident_id, entries=[entry], now=T0)
    with db.read() as session:
        said = pages.page_announced(
            session=session, incident_id=incident_id, page_id=page.id, prefix="Paged PagerDuty"
        )
        other = pages.page_announced(
            session=session, incident_id=incident_id, page_id=page.id + 1, prefix="Paged PagerDuty"
        )
        elsewhere = pages.page_announced(
            session=session, incident_id=incident_id, page_id=page.id, prefix="Paged Opsgenie"
        )
    assert (said, other, elsewhere) == (True, False, False)

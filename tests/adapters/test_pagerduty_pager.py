"""PagerDuty behind the neutral Pager port: how it plans a page, and its v3 webhook events as
the port's `PagerEvent` (the calls themselves are driven against the emulator in tests/e2e)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.adapters.pagerduty import PagerDutyPager
from bot.adapters.pagerduty_webhooks import parse_event
from bot.core.catalog import PagerTarget
from bot.flows.ports import CannotPage, PagePlan

KEY = "r" * 32


@pytest.fixture
def pager() -> PagerDutyPager:
    return PagerDutyPager(
        api_token=None,
        from_email=None,
        api_url="https://pd.invalid",
        events_url="https://pd.invalid",
    )


def test_it_is_the_pager_of_kind_pagerduty(pager: PagerDutyPager) -> None:
    assert (pager.kind, pager.name) == ("pagerduty", "PagerDuty")


@pytest.mark.parametrize(
    ("target", "alert_born", "has_page", "plan"),
    [
        (PagerTarget(routing_key=KEY, service_id="PSVC1"), True, False, PagePlan("event", KEY)),
        (
            PagerTarget(routing_key=KEY, service_id="PSVC1"),
            False,
            False,
            PagePlan("incident", "PSVC1"),
        ),
        (
            PagerTarget(service_id="PSVC1", escalation_policy_id="PEP1"),
            False,
            True,
            PagePlan("responders", "PEP1"),
        ),
        (PagerTarget(service_id="PSVC1"), False, True, PagePlan("incident", "PSVC1")),
        (PagerTarget(routing_key=KEY), False, False, None),
    ],
)
def test_events_when_alert_born_a_rest_incident_else_and_responders_for_a_second_page(
    pager: PagerDutyPager,
    target: PagerTarget,
    alert_born: bool,
    has_page: bool,
    plan: PagePlan | None,
) -> None:
    planned = pager.plan(target, alert_born=alert_born, has_page=has_page)
    if plan is None:
        assert isinstance(planned, CannotPage) and "PAGERDUTY_SERVICE_ID" in planned.fix
    else:
        assert planned == plan


def test_a_service_id_typed_as_is_is_a_target(pager: PagerDutyPager) -> None:
    assert pager.target_named("PABC123") == PagerTarget(kind="pagerduty", service_id="PABC123")
    assert pager.target_named("checkout") is None


def _event(event_type: str, **data: object) -> dict[str, object]:
    return {
        "event": {
            "id": "01DEN3RT",
            "event_type": event_type,
            "occurred_at": "2026-12-01T09:05:00.000Z",
            "agent": {"id": "PUSER1", "type": "user_reference", "summary": "Alice"},
            "data": {"id": "PINC1", "html_url": "https://pd.example/incidents/PINC1", **data},
        }
    }


def test_a_webhook_event_is_the_ports_event_with_pagerdutys_time() -> None:
    event = parse_event(_event("incident.acknowledged", incident_key="incidentbot-7"))
    assert (event.pager, event.id, event.action) == ("PagerDuty", "01DEN3RT", "acknowledged")
    assert (event.page_id, event.page_key) == ("PINC1", "incidentbot-7")
    assert (event.agent_id, event.agent_email, event.agent_name) == ("PUSER1", None, "Alice")
    assert event.occurred_at == datetime(2026, 12, 1, 9, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("event_type", "action", "note"),
    [
        ("incident.triggered", "triggered", None),
        ("incident.resolved", "resolved", None),
        ("incident.reopened", "reopened", None),
        ("incident.escalated", "note", "escalated"),
        ("incident.reassigned", "note", "reassigned"),
        ("incident.annotated", "incident.annotated", None),  # not used: passed as is
    ],
)
def test_event_types_become_actions_or_notes(
    event_type: str, action: str, note: str | None
) -> None:
    event = parse_event(_event(event_type))
    assert (event.action, event.note) == (action, note)

"""Opsgenie's webhook payloads ("Alert action data", as documented) parsed into `PagerEvent`:
the action mapped, the alias echoed back, the user's email, and the action's own time from
``alert.updatedAt`` (epoch nanoseconds)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.adapters.opsgenie.webhooks import WebhookPayloadError, parse_event

ALERT_ID = "8e2d6bb4-3a0c-4d52-a8a5-7d1c2e3f4a5b"
USER_ID = "0b7c4d1e-7a9f-4c2b-9d3e-1f2a3b4c5d6e"


def payload(action: str, **alert: Any) -> dict[str, Any]:
    return {
        "source": {"name": "", "type": "web"},
        "alert": {
            "updatedAt": 1_765_015_260_123_000_000,  # 2025-12-06T10:01:00.123Z, in nanoseconds
            "tags": [],
            "message": "[SEV1] Checkout is down",
            "username": "bob@example.com",
            "alertId": ALERT_ID,
            "source": "incidentbot",
            "alias": "incident-1-page-1",
            "tinyId": "23",
            "createdAt": 1_765_015_200_000,  # milliseconds
            "userId": USER_ID,
            "entity": "",
            **alert,
        },
        "action": action,
        "integrationId": "4f1e2d3c-0000-4000-8000-000000000001",
        "integrationName": "incidentbot webhook",
    }


@pytest.mark.parametrize(
    ("action", "ours"),
    [
        ("Create", "triggered"),
        ("Acknowledge", "acknowledged"),
        ("UnAcknowledge", "reopened"),
        ("Close", "resolved"),
        ("AddNote", "note"),
    ],
)
def test_actions_map_onto_the_ports_actions(action: str, ours: str) -> None:
    event = parse_event(payload(action))
    assert event is not None
    assert (event.pager, event.action) == ("Opsgenie", ours)
    assert (event.page_id, event.page_key) == (ALERT_ID, "incident-1-page-1")
    assert (event.agent_id, event.agent_email) == (USER_ID, "bob@example.com")


def test_the_events_time_is_the_actions_updated_at_in_nanoseconds() -> None:
    event = parse_event(payload("Acknowledge"))
    assert event is not None
    assert event.occurred_at == datetime(2025, 12, 6, 10, 1, 0, 123000, tzinfo=UTC)


@pytest.mark.parametrize("updated", [None, "yesterday", 0, -5, 10**30, True])
def test_an_absent_or_unreadable_time_is_none(updated: Any) -> None:
    event = parse_event(payload("Close", updatedAt=updated))
    assert event is not None and event.occurred_at is None


def test_a_redelivery_is_the_same_event_another_action_is_not() -> None:
    first, again = parse_event(payload("Acknowledge")), parse_event(payload("Acknowledge"))
    later = parse_event(payload("Acknowledge", updatedAt=1_765_015_999_000_000_000))
    assert first is not None and again is not None and later is not None
    assert first.id == again.id != later.id


def test_notes_escalations_and_ownership_say_what_happened() -> None:
    note = parse_event(payload("AddNote", note="rolling back"))
    owner = parse_event(payload("AssignOwnership", owner="carol@example.com"))
    escalation = parse_event(
        {
            "action": "Escalate",
            "alert": {"alertId": ALERT_ID},
            "escalationId": "51859f57-0000-4000-8000-000000000002",
            "escalationName": "checkout_escalation",
            "escalationNotify": {"name": "dan@example.com", "id": USER_ID, "entity": "user"},
            "escalationTime": 0,
            "repeatCount": 0,
            "integrationId": "4f1e2d3c-0000-4000-8000-000000000001",
            "integrationName": "incidentbot webhook",
        }
    )
    assert note is not None and note.note == "note: rolling back"
    assert owner is not None and owner.note == "assigned to carol@example.com"
    assert escalation is not None and escalation.action == "note"
    assert escalation.note == "escalated (checkout_escalation) to dan@example.com"
    assert escalation.occurred_at is None and escalation.page_key is None


def test_actions_the_bot_does_not_follow_are_none() -> None:
    assert parse_event(payload("AddTags")) is None
    assert parse_event(payload("Delete")) is None


def test_what_the_bot_did_through_the_api_told_back_is_none_but_its_create() -> None:
    """The bot acts as the user `incidentbot`: its acknowledgements, closes, responders and
    notes come back as echoes and are ignored; its create carries the alert's id and is kept."""
    api = {"source": {"name": "incidentbot API", "type": "API"}}
    for action in ("Acknowledge", "Close", "AddResponder", "AddNote"):
        echo = {**payload(action, username="incidentbot", userId=""), **api}
        assert parse_event(echo) is None, action
    created = parse_event({**payload("Create", username="incidentbot", userId=""), **api})
    assert created is not None and created.action == "triggered"
    assert (created.page_id, created.agent_email) == (ALERT_ID, None)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ([], "expected an Opsgenie webhook"),
        ({"alert": {"alertId": ALERT_ID}}, "action is missing"),
        ({"action": "Close"}, "alert is missing"),
        ({"action": "Close", "alert": {"alertId": "../../x"}}, "alert.alertId"),
        ({"action": "Close", "alert": {"alertId": ALERT_ID, "alias": 5}}, "alert.alias"),
    ],
)
def test_malformed_payloads_say_what_is_wrong(body: Any, problem: str) -> None:
    with pytest.raises(WebhookPayloadError, match=problem.replace(".", r"\.")):
        parse_event(body)

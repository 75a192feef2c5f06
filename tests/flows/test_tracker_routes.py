"""The post-mortem export follows the incident's service's `tracker:` in the catalog: its
project for the post-mortem and the follow-ups linked to it, issues of the tracker even where a
service desk is set up, the desk with its own request type, and a clear line naming the missing
setting when the catalog asks for a desk the deployment does not have."""

from __future__ import annotations

from typing import Any

from bot.core.catalog import catalog_from_mapping
from bot.flows.tracker_effects import TrackerEffects
from bot.store import incident_reads
from bot.store.db import Database
from tests.flows.tracker_fakes import (
    Desky,
    Row,
    Tracky,
    closed_incident as closed,
    export,
    tracker_effects_for,
)

NO_DESK = "set DESKY_QUEUE"


def closed_incident(db: Database, service: str | None) -> int:
    return closed(db, service, followups={"Add a canary": None})


def effects(db: Database, services: dict[str, Any], **options: Any) -> TrackerEffects:
    catalog = catalog_from_mapping(
        {"services": services, "postmortem": options.pop("postmortem", {})}
    )
    return tracker_effects_for(db, catalog, no_desk=NO_DESK, **options)


def postmortem_lines(db: Database, incident: int) -> list[str]:
    with db.read() as session:
        timeline = incident_reads.timeline(session=session, incident_id=incident)
    return [e.text for e in timeline if e.kind == "postmortem"]


def projects(tracker: Tracky) -> list[tuple[str, str]]:
    return [(m["project"], m["labels"][0]) for m in tracker.made]


def test_a_services_project_takes_its_postmortem_and_follow_ups(db: Database) -> None:
    tracker = Tracky()
    fx = effects(db, {"payments": {"tracker": {"project": "PAY"}}, "checkout": {}}, tracker=tracker)
    export(db, fx, closed_incident(db, "payments"))
    assert projects(tracker) == [("PAY", "postmortem"), ("PAY", "postmortem-followup")]
    tracker.made.clear()
    export(db, fx, closed_incident(db, "checkout"))
    export(db, fx, closed_incident(db, None))
    assert {project for project, _ in projects(tracker)} == {"OPS"}  # the tracker's default


def test_the_services_project_comes_before_the_postmortem_settings(db: Database) -> None:
    tracker = Tracky()
    services = {"payments": {"tracker": {"project": "PAY"}}, "checkout": {}}
    fx = effects(db, services, tracker=tracker, postmortem={"tracker_project": "ENG"})
    export(db, fx, closed_incident(db, "payments"))
    export(db, fx, closed_incident(db, "checkout"))
    assert [p for p, _ in projects(tracker)] == ["PAY", "PAY", "ENG", "ENG"]


def test_sub_tasks_stay_in_their_postmortems_project(db: Database) -> None:
    tracker = Tracky()
    services = {"payments": {"tracker": {"project": "PAY"}}}
    fx = effects(db, services, tracker=tracker, postmortem={"followups_as": "subtasks"})
    export(db, fx, closed_incident(db, "payments"))
    assert projects(tracker) == [("PAY", "postmortem"), ("PAY", "postmortem-followup")]
    assert tracker.made[1]["parent"] == "PAY-1"


def test_issues_go_to_the_tracker_where_a_desk_is_set_up(db: Database) -> None:
    tracker, desk = Tracky(), Desky()
    services = {"payments": {"tracker": {"kind": "issues", "project": "PAY"}}, "checkout": {}}
    fx = effects(db, services, tracker=tracker, desk=desk)
    payments = closed_incident(db, "payments")
    export(db, fx, payments)
    assert desk.raised == []
    assert projects(tracker) == [("PAY", "postmortem"), ("PAY", "postmortem-followup")]
    assert tracker.made[0]["issue_type"] == "Task"
    fx.gave_up(Row(payments), "issuetype: not valid")
    assert postmortem_lines(db, payments) == [
        "Post-mortem drafted in Tracky: PAY-1 with 1 follow-up",
        "Tracky refused the post-mortem: issuetype: not valid. Check TRACKY_BOARD, then run "
        "/incident postmortem export",
    ]
    tracker.made.clear()
    checkout = closed_incident(db, "checkout")
    export(db, fx, checkout)  # the others still go to the desk
    assert len(desk.raised) == 1 and projects(tracker) == [("OPS", "postmortem-followup")]
    assert postmortem_lines(db, checkout) == [
        "Post-mortem drafted in Desky: PIR-1 with 1 follow-up"
    ]


def test_a_desk_takes_the_services_request_type(db: Database) -> None:
    desk = Desky()
    services = {"payments": {"tracker": {"kind": "service_desk", "request_type": "Payments PIR"}}}
    fx = effects(db, services, desk=desk, postmortem={"request_type": "Review"})
    export(db, fx, closed_incident(db, "payments"))
    export(db, fx, closed_incident(db, None))
    assert [r["request_type"] for r in desk.raised] == ["Payments PIR", "Review"]


def test_a_service_desk_without_a_desk_names_the_missing_setting(db: Database) -> None:
    tracker = Tracky()
    fx = effects(db, {"payments": {"tracker": {"kind": "service_desk"}}}, tracker=tracker)
    incident = closed_incident(db, "payments")
    export(db, fx, incident)
    assert tracker.made == []
    assert postmortem_lines(db, incident) == [
        "Post-mortem drafted (not exported: the catalog sends payments's post-mortems to a "
        "service desk (`tracker: {kind: service_desk}`) and none is set up: set DESKY_QUEUE); "
        "see it with /incident postmortem"
    ]

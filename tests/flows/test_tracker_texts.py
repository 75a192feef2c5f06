"""What the post-mortem export says in the channel names the tracker as its adapter names itself
(`Tracker.name`, or the service desk's when post-mortems go there), a refusal names the settings
its adapter says to check (`fix`), and without a tracker the reason wiring gives: the flows hold
no product's name."""

from __future__ import annotations

from typing import Any

from bot.core.catalog import default_catalog
from bot.flows.tracker_effects import TrackerEffects
from bot.store import incident_reads
from bot.store.db import Database
from tests.flows.tracker_fakes import (
    Desky,
    Row,
    Tracky,
    closed_incident,
    export,
    tracker_effects_for,
)


def effects(db: Database, **options: Any) -> TrackerEffects:
    options.setdefault("tracker", Tracky(fix="TRACKY_BOARD and the catalog's postmortem settings"))
    return tracker_effects_for(db, default_catalog(), **options)


def postmortem_lines(db: Database, incident: int) -> list[tuple[str, dict[str, Any]]]:
    with db.read() as session:
        timeline = incident_reads.timeline(session=session, incident_id=incident)
    return [(e.text, dict(e.data)) for e in timeline if e.kind == "postmortem"]


def test_the_drafted_line_names_the_tracker_and_keeps_the_issue(db: Database) -> None:
    incident = closed_incident(db)
    export(db, effects(db), incident)
    issue = {"issue_key": "OPS-1", "issue_url": "https://tracky.test/OPS-1"}
    assert postmortem_lines(db, incident) == [("Post-mortem drafted in Tracky: OPS-1", issue)]


def test_with_a_service_desk_the_texts_name_the_desk(db: Database) -> None:
    incident = closed_incident(db)
    fx = effects(db, desk=Desky())
    export(db, fx, incident)
    fx.still_trying(Row(incident), "503")
    fx.gave_up(Row(incident), "no such request type")
    assert [said for said, _data in postmortem_lines(db, incident)] == [
        "Post-mortem drafted in Desky: PIR-1",
        "Desky did not take the post-mortem yet (503); retrying until it does",
        "Desky refused the post-mortem: no such request type. Check DESKY_QUEUE, then run "
        "/incident postmortem export",
    ]


def test_a_refusal_names_the_settings_the_tracker_says_to_check(db: Database) -> None:
    incident = closed_incident(db)
    effects(db).gave_up(Row(incident), "issuetype: not valid")
    ((said, _data),) = postmortem_lines(db, incident)
    assert said == (
        "Tracky refused the post-mortem: issuetype: not valid. Check TRACKY_BOARD and the "
        "catalog's postmortem settings, then run /incident postmortem export"
    )


def test_without_a_tracker_the_draft_stays_for_the_reason_wiring_gives(db: Database) -> None:
    incident, other = closed_incident(db), closed_incident(db)
    export(db, effects(db, tracker=None, missing="Tracky is not set up (TRACKY_URL)"), incident)
    export(db, effects(db, tracker=None), other)
    assert postmortem_lines(db, incident) == [
        (
            "Post-mortem drafted (not exported: Tracky is not set up (TRACKY_URL)); see it with "
            "/incident postmortem",
            {},
        )
    ]
    assert "not exported: no issue tracker is set up" in postmortem_lines(db, other)[0][0]

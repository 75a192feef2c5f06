"""0016: the post-mortem's timeline entry (and the line queued for the channel) named the issue
the export made `jira_key` / `jira_url`; the domain now says `issue_key` / `issue_url`. A
database written by the code before it keeps every entry and line across the upgrade, the
readers find the issue under the new keys, a line still pending is posted with its link, and
the downgrade gives back exactly what was there."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from bot.adapters.slack.blocks import line_text
from bot.core.catalog import default_catalog
from bot.flows import chat_effects as fx
from bot.flows.outbox import OutboxRunner
from bot.flows.ports import CardView, Line
from bot.store import incident_reads
from bot.store.db import Database
from tests.flows.fakes import FakeChat, StepClock

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
URL = "https://tracker.test/browse/OPS-7"
SAID = "Post-mortem drafted in Jira: OPS-7 with 1 follow-up"


def _fill_as_0015_did(db: Database) -> int:
    """A closed incident whose post-mortem was exported twice (the second line still waiting in
    the outbox), one export that went nowhere, and a pinned note, as the code before 0016 wrote
    them. Returns the incident's id."""
    old = {"jira_key": "OPS-7", "jira_url": URL}
    with db.engine.begin() as c:
        incident = c.execute(
            text(
                "INSERT INTO incident (title, description, severity, status, private, drill,"
                " source, imported, channel_id, channel_name, card_ts, created_at, updated_at)"
                " VALUES ('Checkout down', '', 'SEV2', 'closed', false, false, 'chat', false,"
                " 'C0001', 'inc-checkout', '1.000001', :at, :at) RETURNING id"
            ),
            {"at": AT},
        ).scalar_one()
        for kind, said, data in (
            ("postmortem", SAID, old),
            ("postmortem", "Post-mortem drafted (not exported: a drill); see it", {}),
            ("note", "the deploy at 09:00", {"pinned_by": ["U0BOB"]}),
            ("postmortem", SAID, old),
        ):
            c.execute(
                text(
                    "INSERT INTO timeline_entry (incident_id, at, kind, text, source, data,"
                    " created_at) VALUES (:incident, :at, :kind, :text, 'system', :data, :at)"
                ),
                {
                    "incident": incident,
                    "at": AT,
                    "kind": kind,
                    "text": said,
                    "data": json.dumps(data),
                },
            )
        line = {"kind": "postmortem", "text": SAID, "actor": None, "at": AT.isoformat()}
        for kind, lane, payload, done in (
            ("chat.post_line", "chat:{id}", {**line, "data": old}, AT),  # the first export's
            ("tracker.export_postmortem", "tracker:{id}", {}, AT),
            ("chat.post_line", "chat:{id}", {**line, "data": old}, None),  # the second's
            ("chat.post_line", "chat:{id}", {**line, "kind": "note", "data": {"x": 1}}, AT),
        ):
            c.execute(
                text(
                    "INSERT INTO outbox (incident_id, lane, kind, payload, created_at,"
                    " next_attempt_at, attempts, failed, done_at) VALUES (:incident, :lane,"
                    " :kind, :payload, :at, :at, 0, false, :done)"
                ),
                {
                    "incident": incident,
                    "lane": lane.format(id=incident),
                    "kind": kind,
                    "payload": json.dumps(payload),
                    "at": AT,
                    "done": done,
                },
            )
    return int(incident)


def _parsed(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value  # SQLite: text; PostgreSQL: json


def _stored(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.engine.connect() as c:
        entries = c.execute(text("SELECT id, kind, text, data FROM timeline_entry ORDER BY id"))
        outbox = c.execute(text("SELECT id, kind, lane, payload, done_at FROM outbox ORDER BY id"))
        return {
            "timeline_entry": [(*row[:3], _parsed(row[3])) for row in entries],
            "outbox": [(*row[:3], _parsed(row[3]), row[4]) for row in outbox],
        }


def test_the_post_mortem_entries_name_their_issue_neutrally_both_ways(db: Database) -> None:
    db.downgrade("0015")
    incident = _fill_as_0015_did(db)
    before = _stored(db)

    db.upgrade()
    after = _stored(db)
    new = {"issue_key": "OPS-7", "issue_url": URL}
    assert [row[3] for row in after["timeline_entry"]] == [new, {}, {"pinned_by": ["U0BOB"]}, new]
    assert [row[3].get("data") for row in after["outbox"]] == [new, None, new, {"x": 1}]
    # nothing else of a row moved: ids, kinds, texts, lanes, the rest of each payload
    assert [row[:3] for row in after["timeline_entry"]] == [
        row[:3] for row in before["timeline_entry"]
    ]
    assert [(*row[:3], {**row[3], "data": None}, row[4]) for row in after["outbox"]] == [
        (*row[:3], {**row[3], "data": None}, row[4]) for row in before["outbox"]
    ]
    with db.read() as session:
        timeline = incident_reads.timeline(session=session, incident_id=incident)
    assert [dict(e.data) for e in timeline if e.kind == "postmortem"] == [new, {}, new]

    db.downgrade("0015")
    assert _stored(db) == before


class LinesChat(FakeChat):
    """Keeps the lines it was given, and the card they were posted under."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[Line, CardView]] = []

    def post_line(
        self, channel_id: str, line: Line, card: CardView, *, key: str | None = None
    ) -> str:
        self.lines.append((line, card))
        return super().post_line(channel_id, line, card, key=key)


def test_a_post_mortem_line_pending_before_the_upgrade_is_posted_with_its_link(
    db: Database,
) -> None:
    db.downgrade("0015")
    incident = _fill_as_0015_did(db)
    db.upgrade()
    chat, clock = LinesChat(), StepClock(AT)
    effects = fx.ChatEffects(db, chat, default_catalog(), clock, feed_channel=None, public_url=None)
    OutboxRunner(db, clock, effects.handlers).run_lane(fx.lane(incident))
    ((line, card),) = chat.lines
    assert line.data == {"issue_key": "OPS-7", "issue_url": URL}
    assert line_text(line, card) == (
        f"📝 *Post-mortem drafted in Jira: <{URL}|OPS-7>* with 1 follow-up"
    )

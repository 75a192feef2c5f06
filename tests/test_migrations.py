"""Migrations build exactly the schema the models describe, both ways, on both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic import command
from sqlalchemy import text
from sqlmodel import select

from bot.core.catalog import default_catalog
from bot.core.milestones import Milestone, Source
from bot.flows import chat_effects as fx, tracker_effects
from bot.flows.outbox import OutboxRunner
from bot.flows.pagers import Pagers
from bot.flows.people import People
from bot.flows.ports import TrackerIssue
from bot.flows.postmortem import Drafter
from bot.flows.tracker_effects import TrackerEffects
from bot.store import incident_reads, incidents as q
from bot.store.db import Database
from bot.store.models import Incident, OutboxRow
from tests.flows.fakes import FakeChat, StepClock

TEMPLATES = Path(__file__).resolve().parents[1] / "postmortem_templates"


def test_models_and_migrations_agree(db: Database) -> None:
    with db.engine.begin() as connection:
        cfg = db.alembic_config()
        cfg.attributes["connection"] = connection
        command.check(cfg)  # raises if autogenerate would find a difference
    assert db.current_revision() == db.head_revision()


def test_downgrade_to_nothing_and_back(db: Database) -> None:
    db.downgrade("base")
    assert db.current_revision() is None
    db.upgrade()
    db.require_current_schema()


def test_sources_stored_under_vendor_names_are_renamed_both_ways(db: Database) -> None:
    """0012: a database written before it says `slack` / `pagerduty` where the domain now says
    `chat` / `pager`; the upgrade moves every such value, the downgrade moves it back, and the
    other sources are left as they are."""
    db.downgrade("0011")
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with db.engine.begin() as connection:
        incident = connection.execute(
            text(
                "INSERT INTO incident (title, description, severity, status, private, drill,"
                " source, imported, created_at, updated_at) VALUES ('Slow', '', 'SEV2',"
                " 'investigating', false, false, 'slack', false, :at, :at) RETURNING id"
            ),
            {"at": at},
        ).scalar_one()
        for kind, source in (
            (Milestone.DECLARED, "slack"),
            (Milestone.ACKNOWLEDGED, "pagerduty"),
            (Milestone.DETECTED, "alert"),
        ):
            connection.execute(
                text(
                    "INSERT INTO milestone (incident_id, kind, at, source, updated_at)"
                    " VALUES (:incident, :kind, :at, :source, :at)"
                ),
                {"incident": incident, "kind": kind.value, "at": at, "source": source},
            )
            connection.execute(
                text(
                    "INSERT INTO timeline_entry (incident_id, at, kind, text, source, data,"
                    " created_at) VALUES (:incident, :at, :kind, 'x', :source, '{}', :at)"
                ),
                {"incident": incident, "kind": kind.value, "at": at, "source": source},
            )
        for source in ("slack", "shortcut", "playbook"):
            connection.execute(
                text(
                    "INSERT INTO followup (incident_id, text, state, created_at, source,"
                    " updated_at) VALUES (:incident, 'Add an alert', 'open', :at, :source, :at)"
                ),
                {"incident": incident, "at": at, "source": source},
            )

    def sources() -> dict[str, list[str]]:
        with db.engine.connect() as connection:
            return {
                table: sorted(connection.execute(text(f"SELECT source FROM {table}")).scalars())
                for table in ("incident", "milestone", "timeline_entry", "followup")
            }

    before = {
        "incident": ["slack"],
        "milestone": ["alert", "pagerduty", "slack"],
        "timeline_entry": ["alert", "pagerduty", "slack"],
        "followup": ["playbook", "shortcut", "slack"],
    }
    assert sources() == before
    db.upgrade()
    assert sources() == {
        "incident": [Source.CHAT.value],
        "milestone": sorted([Source.ALERT.value, Source.PAGER.value, Source.CHAT.value]),
        "timeline_entry": sorted([Source.ALERT.value, Source.PAGER.value, Source.CHAT.value]),
        "followup": ["chat", "playbook", "shortcut"],
    }
    with db.read() as session:
        (row,) = session.exec(select(Incident)).all()
        assert {s.source for s in q.milestones(session=session, incident_id=row.id).values()} == {
            Source.CHAT,
            Source.PAGER,
            Source.ALERT,
        }
    db.downgrade("0011")
    assert sources() == before


# The outbox as the code before 0013 filled it: (kind, lane, state) of an incident's effects.
OUTBOX_AT_0012 = (
    ("slack.open_channel", "slack:{id}", "done"),
    ("slack.announce", "slack:{id}", "done"),
    ("slack.refresh", "slack:{id}", "given_up"),
    ("pagerduty.create_incident", "pagerduty:{id}", "done"),
    ("jira.export_postmortem", "jira:{id}", "pending"),
    ("slack.post_line", "slack:{id}", "pending"),
    ("slack.notice", "slack-notice:{id}", "pending"),
)


def _fill_outbox_at_0012(db: Database, at: datetime) -> int:
    """An incident with its channel and card, and outbox rows as the code before 0013 wrote
    them; the chat's are posted lines. Returns the incident's id."""
    with db.engine.begin() as connection:
        incident = connection.execute(
            text(
                "INSERT INTO incident (title, description, severity, status, private, drill,"
                " source, imported, channel_id, channel_name, card_ts, created_at, updated_at)"
                " VALUES ('Checkout down', '', 'SEV2', 'investigating', false, false, 'chat',"
                " false, 'C0001', 'inc-checkout', '1.000001', :at, :at) RETURNING id"
            ),
            {"at": at},
        ).scalar_one()
        for kind, lane, state in OUTBOX_AT_0012:
            payload = {"kind": "note", "text": f"said by {kind}", "actor": "U0BOB"}
            connection.execute(
                text(
                    "INSERT INTO outbox (incident_id, lane, kind, payload, created_at,"
                    " next_attempt_at, attempts, done_at, failed, last_error) VALUES (:incident,"
                    " :lane, :kind, :payload, :at, :at, :attempts, :done, :failed, :error)"
                ),
                {
                    "incident": incident,
                    "lane": lane.format(id=incident),
                    "kind": kind,
                    "payload": json.dumps({**payload, "at": at.isoformat(), "data": {}}),
                    "at": at,
                    "attempts": 0 if state == "pending" else 1,
                    "done": None if state == "pending" else at,
                    "failed": state == "given_up",
                    "error": "slack: is_archived" if state == "given_up" else None,
                },
            )
    return int(incident)


def _outbox(db: Database) -> list[tuple[Any, ...]]:
    with db.engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                text(
                    "SELECT id, kind, lane, payload, attempts, done_at IS NULL, failed, last_error"
                    " FROM outbox ORDER BY id"
                )
            )
        ]


def test_chat_effects_stored_under_the_vendor_name_are_renamed_both_ways(db: Database) -> None:
    """0013: the outbox rows of the chat said `slack.<what>` in lanes `slack:<incident>` and
    `slack-notice:<incident>`; the upgrade renames them all (pending, delivered, given up) to
    `chat.…`, `chat:…` and `chat-notice:…`, loses nothing and takes no other row for the chat's;
    the downgrade renames them back."""
    db.downgrade("0012")
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    incident = _fill_outbox_at_0012(db, at)
    before = _outbox(db)
    assert [row[1] for row in before] == [kind for kind, _lane, _state in OUTBOX_AT_0012]
    db.upgrade("0013")
    after = _outbox(db)
    chat = [row for row in before if row[1].startswith("slack.")]
    assert [(row[1], row[2]) for row in after if row[1].startswith("chat.")] == [
        (row[1].replace("slack.", "chat.", 1), row[2].replace("slack", "chat", 1)) for row in chat
    ]
    assert {row[2] for row in after if row[1].startswith("chat.")} == {
        f"chat:{incident}",
        f"chat-notice:{incident}",
    }
    assert [row[:1] + row[3:] for row in after] == [row[:1] + row[3:] for row in before]
    others = [row[1:3] for row in after if not row[1].startswith("chat.")]
    assert len(others) == len(before) - len(chat)
    assert not any(kind.startswith("slack") or lane.startswith("slack") for kind, lane in others)
    db.downgrade("0012")
    assert _outbox(db) == before


def test_a_chat_effect_pending_before_the_upgrade_is_delivered_after_it(db: Database) -> None:
    """A line waiting in the outbox when the release with 0013 is deployed is posted once, by
    the renamed effect, in its lane; what was delivered or given up before stays so."""
    db.downgrade("0012")
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    incident = _fill_outbox_at_0012(db, at)
    db.upgrade()
    chat, clock = FakeChat(), StepClock(at)
    effects = fx.ChatEffects(db, chat, default_catalog(), clock, feed_channel=None, public_url=None)
    runner = OutboxRunner(db, clock, effects.handlers, on_give_up=effects.gave_up)
    runner.run_lane(fx.lane(incident))
    runner.run_lane(fx.notice_lane(incident))
    assert [(name, args[0], args[2]) for name, args in chat.calls] == [
        ("post_line", "C0001", "said by slack.post_line"),
        ("post_line", "C0001", "said by slack.notice"),
    ]
    with db.read() as session:
        rows = {row.kind: row for row in session.exec(select(OutboxRow)).all()}
    assert rows[fx.POST_LINE].done_at is not None and not rows[fx.POST_LINE].failed
    assert rows[fx.NOTICE].done_at is not None and not rows[fx.NOTICE].failed
    assert rows[fx.OPEN_CHANNEL].attempts == 1 and rows[fx.ANNOUNCE].attempts == 1
    assert rows[fx.REFRESH].failed


class RecordingTracker:
    """A tracker that keeps what it was asked: enough to see what an export did."""

    project = "OPS"
    name = "Tracker"
    fix = "the tracker's settings"

    def __init__(self) -> None:
        self.created: list[str] = []
        self.links: list[tuple[str, str]] = []

    def find(self, *, label: str) -> TrackerIssue | None:
        return None

    def create(self, *, project: str, summary: str, **_: object) -> TrackerIssue:
        key = f"{project}-{100 + len(self.created)}"
        self.created.append(summary)
        return TrackerIssue(key, f"https://tracker.test/browse/{key}")

    def update(self, key: str, **_: object) -> None:
        pass

    def link(self, *, link_type: str, inward: str, outward: str) -> None:
        self.links.append((inward, outward))

    def remote_link(self, key: str, **_: object) -> None:
        pass


def test_the_tracker_export_is_renamed_and_a_pending_one_is_delivered_after(
    db: Database,
) -> None:
    """0015: a database filled before it keeps follow-ups' issues in `jira_key`/`jira_url` and the
    export's outbox rows as `jira.export_postmortem` in lane `jira:<id>`. After the upgrade every
    follow-up is found with its issue, the rows say `tracker.*`, and the pending export is
    delivered: it links the follow-up already exported instead of making it again."""
    db.downgrade("0012")
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with db.engine.begin() as connection:
        incident = connection.execute(
            text(
                "INSERT INTO incident (title, description, severity, status, private, drill,"
                " source, imported, created_at, updated_at) VALUES ('Slow', '', 'SEV2',"
                " 'closed', false, false, 'chat', false, :at, :at) RETURNING id"
            ),
            {"at": at},
        ).scalar_one()
        for text_, key in (("Add an alert", "OPS-7"), ("Write the runbook", None)):
            connection.execute(
                text(
                    "INSERT INTO followup (incident_id, text, state, created_at, source, jira_key,"
                    " jira_url, updated_at) VALUES (:incident, :text, 'open', :at, 'chat', :key,"
                    " :url, :at)"
                ),
                {
                    "incident": incident,
                    "text": text_,
                    "at": at,
                    "key": key,
                    "url": f"https://tracker.test/browse/{key}" if key else None,
                },
            )
        for kind, done in (("jira.export_postmortem", at), ("jira.export_postmortem", None)):
            connection.execute(
                text(
                    "INSERT INTO outbox (incident_id, lane, kind, payload, created_at,"
                    " next_attempt_at, attempts, failed, done_at) VALUES (:incident, :lane,"
                    " :kind, '{}', :at, :at, 0, false, :done)"
                ),
                {
                    "incident": incident,
                    "lane": f"jira:{incident}",
                    "kind": kind,
                    "at": at,
                    "done": done,
                },
            )
        connection.execute(
            text(
                "INSERT INTO outbox (incident_id, lane, kind, payload, created_at, next_attempt_at,"
                " attempts, failed) VALUES (:incident, :lane, 'slack.update_card', '{}', :at, :at,"
                " 0, false)"
            ),
            {"incident": incident, "lane": f"slack:{incident}", "at": at},
        )

    def outbox_rows() -> list[tuple[str, str]]:
        with db.engine.connect() as connection:
            rows = connection.execute(text("SELECT lane, kind FROM outbox ORDER BY id"))
            return [(lane, kind) for lane, kind in rows]

    before = outbox_rows()
    db.upgrade()
    lane = tracker_effects.lane(incident)
    assert outbox_rows() == [
        (lane, tracker_effects.EXPORT),
        (lane, tracker_effects.EXPORT),
        (f"chat:{incident}", "chat.update_card"),  # 0013's renaming, not this one's
    ]
    with db.read() as session:
        found = incident_reads.followups(session=session, incident_id=incident)
    assert [(f.text, f.tracker_key, f.tracker_url) for f in found] == [
        ("Add an alert", "OPS-7", "https://tracker.test/browse/OPS-7"),
        ("Write the runbook", None, None),
    ]

    clock = StepClock(at)
    catalog = default_catalog()
    tracker, chat = RecordingTracker(), FakeChat()
    effects = TrackerEffects(
        db,
        tracker,
        Drafter(catalog, TEMPLATES),
        chat,
        catalog,
        clock,
        public_url=None,
        people=People(db, chat, Pagers(), clock),
    )
    runner = OutboxRunner(db, clock, effects.handlers)
    assert runner.run_lane(lane) == 1
    assert tracker.created[1:] == ["Write the runbook"]  # OPS-7 was exported before
    postmortem = "OPS-100"
    assert tracker.links == [(postmortem, "OPS-7"), (postmortem, "OPS-101")]
    with db.read() as session:
        keys = [
            f.tracker_key for f in incident_reads.followups(session=session, incident_id=incident)
        ]
    assert keys == ["OPS-7", "OPS-101"]

    db.downgrade("0012")
    with db.engine.connect() as connection:
        kept = connection.execute(text("SELECT jira_key FROM followup ORDER BY id")).scalars()
        assert list(kept) == ["OPS-7", "OPS-101"]
    assert [row for row in outbox_rows() if not row[0].startswith("slack")] == [
        (f"jira:{incident}", "jira.export_postmortem")
    ] * 2
    assert before[2] in outbox_rows()

"""SQLModel tables. Every instant is a timezone-aware UTC datetime (SQLModel's UTCDateTime)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel


class Incident(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("open_group", name="uq_incident_open_group"),)

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    description: str = ""
    severity: str = Field(max_length=16, index=True)
    status: str = Field(max_length=32, index=True)
    private: bool = False
    drill: bool = False
    summary: str | None = None
    source: str = Field(max_length=16)
    created_by: str | None = Field(default=None, max_length=32)
    # Where the incident lives on the chat surface: its conversation, the card's message in
    # it, the announcement's conversation and message (ids as the surface gives them). One
    # conversation, one incident: PostgreSQL names that constraint uq_incident_conversation_id
    # (migration 0018), SQLite names none. `chat_surface`: which surface gave those ids (the
    # chat's `kind`, recorded with them; None while there are none; migration 0019).
    chat_surface: str | None = Field(default=None, max_length=32)
    conversation_id: str | None = Field(default=None, max_length=32, unique=True)
    conversation_name: str | None = Field(default=None, max_length=80)
    card_message_id: str | None = Field(default=None, max_length=32)
    topic: str | None = None
    announce_conversation_id: str | None = Field(default=None, max_length=32)
    announce_message_id: str | None = Field(default=None, max_length=32)
    service: str | None = Field(default=None, max_length=64, index=True)
    # Alert-born incidents: the alert group they stand for. `open_group` holds the same hash
    # while the incident is open; its unique index lets exactly one open incident per group exist,
    # however many web replicas receive the group at the same moment.
    group_key: str | None = None
    open_group: str | None = Field(default=None, max_length=64)
    # A playbook's status_update_due action overrides the catalog's cadence for this incident.
    status_update_minutes: int | None = None
    # Left out of every MTTx figure besides drills: "declined" (not an incident after all) or
    # "merged" (folded into another incident).
    disposition: str | None = Field(default=None, max_length=16)
    # Backfilled history: the id the incident had where it came from (importing twice is a no-op).
    external_id: str | None = Field(default=None, max_length=200, unique=True)
    imported: bool = False
    # The post-mortem's issue in the tracker, once exported (a re-export updates it, never a second one).
    postmortem_key: str | None = Field(default=None, max_length=32)
    postmortem_url: str | None = None
    created_at: datetime
    updated_at: datetime


class MilestoneRow(SQLModel, table=True):
    __tablename__ = "milestone"
    __table_args__ = (UniqueConstraint("incident_id", "kind", name="uq_milestone_incident_kind"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    kind: str = Field(max_length=32)
    at: datetime
    source: str = Field(max_length=16)
    set_by: str | None = Field(default=None, max_length=32)
    updated_at: datetime


class TimelineRow(SQLModel, table=True):
    __tablename__ = "timeline_entry"
    __table_args__ = (
        UniqueConstraint("incident_id", "dedup_key", name="uq_timeline_incident_dedup"),
        Index("ix_timeline_incident_at", "incident_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id")
    at: datetime
    kind: str = Field(max_length=32)
    text: str
    actor: str | None = Field(default=None, max_length=32)
    source: str = Field(max_length=16)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Set for entries that mirror an outside object (a pinned message: "pin:<channel>:<ts>").
    dedup_key: str | None = Field(default=None, max_length=120)
    created_at: datetime


class RoleAssignment(SQLModel, table=True):
    __tablename__ = "role_assignment"
    __table_args__ = (UniqueConstraint("incident_id", "role", name="uq_role_incident_role"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    role: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    assigned_by: str | None = Field(default=None, max_length=32)
    assigned_at: datetime


class ProcessedRequest(SQLModel, table=True):
    """Ids of incoming requests already handled (the chat's retries, double clicks, replays)."""

    __tablename__ = "processed_request"

    key: str = Field(primary_key=True, max_length=200)
    received_at: datetime = Field(index=True)  # pruned by age (store/inbox.prune)
    incident_id: int | None = None


class InboxRow(SQLModel, table=True):
    """A request the bot answered (a command, click, form or event), written before the
    answer left and worked off after it: answered means done, even if the process dies."""

    __tablename__ = "inbox"
    __table_args__ = (
        Index(
            "ix_inbox_pending",
            "lane",
            "id",
            postgresql_where=text("done_at IS NULL"),
            sqlite_where=text("done_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)  # the sender's id: a replay finds it taken
    lane: str = Field(max_length=120)  # requests of one lane run in order, one at a time
    handler: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    received_at: datetime = Field(index=True)
    attempts: int = 0
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = None
    done_at: datetime | None = None
    error: str | None = None


class OutboxRow(SQLModel, table=True):
    """A side effect committed with the change that caused it, delivered until done."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_pending",
            "lane",
            "id",
            postgresql_where=text("done_at IS NULL"),
            sqlite_where=text("done_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int | None = Field(default=None, foreign_key="incident.id", index=True)
    lane: str = Field(max_length=64)  # effects of one lane run in order, one at a time
    kind: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0
    lease_until: datetime | None = None
    lease_owner: str | None = Field(default=None, max_length=64)
    done_at: datetime | None = None
    failed: bool = False  # given up: done_at set, error kept for the record
    last_error: str | None = None


class AlertRow(SQLModel, table=True):
    """One alert (by fingerprint) of an incident's alert group, as last reported."""

    __tablename__ = "alert"
    __table_args__ = (
        UniqueConstraint("incident_id", "fingerprint", name="uq_alert_incident_fingerprint"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    fingerprint: str = Field(max_length=200)
    source: str = Field(max_length=16)
    status: str = Field(max_length=16)
    name: str = Field(max_length=200)
    summary: str
    labels: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    annotations: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    links: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    starts_at: datetime
    ends_at: datetime | None = None
    first_seen_at: datetime
    last_seen_at: datetime


class PageRow(SQLModel, table=True):
    """A page sent to a pager (`pager`: its kind) for an incident: the pager's event, incident
    or alert, or a request for more responders on it. `key` (the pager's dedup key) is what
    makes resending harmless."""

    __tablename__ = "page"
    __table_args__ = (UniqueConstraint("key", name="uq_page_key"),)

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    pager: str = Field(max_length=32)  # which pager: its kind (the catalog's `pager.kind`)
    kind: str = Field(max_length=16)  # how the pager paged: event | incident | alert | responders
    key: str = Field(max_length=255)
    service: str | None = Field(default=None, max_length=64)
    target: str = Field(max_length=64)  # what the pager paged: routing key, service, policy, team
    requested_by: str | None = Field(default=None, max_length=32)
    status: str = Field(max_length=16)  # pending | triggered | acknowledged | resolved | failed
    pager_incident_id: str | None = Field(default=None, max_length=64, index=True)
    html_url: str | None = None
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None = None  # first acknowledged (kept once resolved)


class TimerRow(SQLModel, table=True):
    """A durable timer, written by the flows in the transaction that needs it and fired by the
    one active scheduler. One pending timer per (incident, kind): re-arming moves it."""

    __tablename__ = "timer"
    __table_args__ = (
        Index(
            "ix_timer_due",
            "due_at",
            postgresql_where=text("fired_at IS NULL"),
            sqlite_where=text("fired_at IS NULL"),
        ),
        Index(
            "uq_timer_pending",
            "incident_id",
            "kind",
            unique=True,
            postgresql_where=text("fired_at IS NULL"),
            sqlite_where=text("fired_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id")
    kind: str = Field(max_length=64)
    due_at: datetime
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime
    fired_at: datetime | None = None
    outcome: str | None = None  # fired | cancelled | skipped: why it did not need to fire


class PlaybookRun(SQLModel, table=True):
    """A playbook attached to an incident; its checklist message lives in the channel."""

    __tablename__ = "playbook_run"
    __table_args__ = (
        UniqueConstraint("incident_id", "playbook", name="uq_playbook_run_incident_playbook"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    playbook: str = Field(max_length=64)
    title: str = Field(max_length=200)
    attached_by: str | None = Field(default=None, max_length=32)  # None: matched automatically
    attached_at: datetime
    checklist_message_id: str | None = Field(default=None, max_length=32)


class PlaybookStep(SQLModel, table=True):
    """One step of an attached playbook, with who did or skipped it and when."""

    __tablename__ = "playbook_step"
    __table_args__ = (UniqueConstraint("run_id", "step", name="uq_playbook_step_run_step"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="playbook_run.id", index=True)
    step: str = Field(max_length=64)
    position: int
    title: str
    owner_role: str = Field(max_length=32)
    runbook_url: str | None = None
    due_at: datetime | None = None
    state: str = Field(default="open", max_length=16)  # open | running | done | skipped | failed
    by: str | None = Field(default=None, max_length=32)  # None on a done step: the bot did it
    at: datetime | None = None
    skip_reason: str | None = None
    # The automated action (the playbook's `action`, as validated), and what came of it.
    action: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    result: str | None = None


class Followup(SQLModel, table=True):
    """A follow-up action item recorded during an incident; exported to the tracker at close."""

    __tablename__ = "followup"

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    text: str = Field(max_length=1000)
    owner: str | None = Field(default=None, max_length=32)  # a person's chat user id
    owner_role: str | None = Field(default=None, max_length=32)  # else whoever holds this role
    due_on: date | None = None
    state: str = Field(default="open", max_length=16)  # open | done
    created_by: str | None = Field(default=None, max_length=32)  # None: a playbook step
    created_at: datetime
    source: str = Field(max_length=16)  # chat | shortcut | playbook
    permalink: str | None = None  # the message it was made from (shortcut)
    issue_key: str | None = Field(default=None, max_length=32)  # the tracker's issue
    issue_url: str | None = None
    updated_at: datetime


class UsedSignInLink(SQLModel, table=True):
    """A review sign-in link that has signed someone in: the SHA-256 of its nonce, never the
    link itself, kept until the link would have expired anyway (bot.store.sign_in)."""

    __tablename__ = "used_sign_in_link"

    digest: str = Field(primary_key=True, max_length=64)
    expires_at: datetime = Field(index=True)
    used_at: datetime


class AuthFailure(SQLModel, table=True):
    """How many wrong credentials (login form, bearer tokens) one client address sent in one
    minute: the throttle every web replica shares (bot.store.sign_in)."""

    __tablename__ = "auth_failure"

    address: str = Field(primary_key=True, max_length=64)
    minute: int = Field(primary_key=True)  # Unix seconds // 60
    failures: int = 0


class PacingBudget(SQLModel, table=True):
    """Calls booked against a vendor's rate limit by every process of one deployment
    (PostgreSQL only; SQLite keeps its budgets in memory): one row per bucket (`<integration>:<call>`) and scope (a hashed channel or routing key, or ""). `booked` holds the
    instants booked in the rolling window and after it, `expires` the instant from which none of
    them matters any more (both epoch seconds on the database's clock)."""

    __tablename__ = "pacing_budget"

    bucket: str = Field(primary_key=True, max_length=80)
    scope: str = Field(primary_key=True, max_length=64)
    booked: list[float] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    expires: float = Field(index=True)


class PersonRow(SQLModel, table=True):
    """A person, one across every surface and pager: matched by email (lowercased) when a
    surface or pager says it. `email` is None for someone known only by a handle so far (the
    people back-filled by migration 0017 from the chat ids the database held)."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("email", name="uq_person_email"),)

    id: int | None = Field(default=None, primary_key=True)
    email: str | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, max_length=200)
    created_at: datetime


class PersonHandle(SQLModel, table=True):
    """A person's id on one system: `chat` (the chat surface's user id, what roles hold),
    `pager:<kind>` (a pager's user id or username). A handle belongs to one person."""

    __tablename__ = "person_handle"
    __table_args__ = (UniqueConstraint("system", "handle", name="uq_person_handle_system_handle"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    system: str = Field(max_length=40)
    handle: str = Field(max_length=320)
    created_at: datetime

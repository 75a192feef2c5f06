"""Exporting the post-mortem to the tracker, as one outbox effect that lands exactly once.

Each thing it makes is recorded as soon as the tracker answers (the post-mortem issue's key on the
incident, each follow-up's key on the follow-up), and each carries a label naming it
(`incidentbot-<incident>`, `incidentbot-followup-<id>`) that is searched before creating, so
a retry after a crash between the tracker's answer and our commit finds the issue instead of making a
second. Links are idempotent (issue links checked first, remote links upserted by globalId).
Re-exporting (close again, or /incident postmortem export) updates the same issues."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from bot.core.catalog import Catalog
from bot.core.lifecycle import Refusal, Refused
from bot.core.milestones import Source
from bot.core.timeline import Entry, EntryKind
from bot.core.tracker_routes import NeedsDesk, TrackerRoute, route
from bot.flows import chat_kinds as fx
from bot.flows.people import People
from bot.flows.ports import (
    Chat,
    Clock,
    ConversationLink,
    IntegrationError,
    ServiceDesk,
    Tracker,
    TrackerIssue,
)
from bot.flows.postmortem import Draft, Drafter, facts_of
from bot.flows.tracker_followups import FollowupExport, marker
from bot.store import incident_reads, outbox
from bot.store.db import Database
from bot.store.postmortems import record_postmortem_issue
from bot.store.read_models import IncidentSummary, QueuedEffect as OutboxRow
from bot.store.session import Session

EXPORT = "tracker.export_postmortem"
NAME_TTL = 600.0  # seconds a chat user's name is reused in drafts
ARCHIVE = fx.ARCHIVE


def lane(incident_id: int) -> str:
    return f"tracker:{incident_id}"


def _label(text: str) -> str:
    """Tracker labels have no spaces."""
    return re.sub(r"\s+", "-", text.strip().lower())[:255]


PRIVATE_NOT_EXPORTED = (
    "this incident is private and the catalog sets no issue security level for private "
    "post-mortems (set `postmortem.private.security_level` to export them under that level)"
)
DRAFTING = "Drafting the post-mortem into the issue tracker…"
NO_TRACKER = "no issue tracker is set up"
NO_DESK = "set up the service desk"
ISSUE_KEY, ISSUE_URL = "issue_key", "issue_url"  # the timeline entry's data: the issue made


class _Private(Protocol):
    @property
    def private(self) -> bool: ...


def private_hold(catalog: Catalog, incident: _Private) -> str | None:
    """Why a private incident's post-mortem stays in the chat (None: it may go to the tracker):
    without a security level, its issue would show the whole timeline to everyone who can browse."""
    if incident.private and catalog.postmortem.private is None:
        return PRIVATE_NOT_EXPORTED
    return None


def enqueue_export(session: Session, incident_id: int, now: datetime) -> None:
    outbox.enqueue(
        session=session,
        lane=lane(incident_id),
        kind=EXPORT,
        now=now,
        incident_id=incident_id,
        coalesce=True,
    )


class TrackerEffects:
    def __init__(
        self,
        db: Database,
        tracker: Tracker | None,
        drafter: Drafter,
        chat: Chat,
        catalog: Catalog,
        clock: Clock,
        *,
        public_url: str | None,
        people: People,
        conversation_link: ConversationLink | None = None,
        desk: ServiceDesk | None = None,
        pager_names: Mapping[str, str] | None = None,
        missing: str = NO_TRACKER,
        no_desk: str = NO_DESK,
    ) -> None:
        """`people`: whose email a follow-up's owner has (the tracker's assignee).
        `desk`: where the post-mortem is raised as a request, when it is not a tracker issue.
        `pager_names`: each pager kind's product name, for the links to the pages. `missing`:
        why nothing is exported without a tracker (which settings would set one up). `no_desk`:
        what to set when the catalog sends a service's post-mortems to a desk and none is."""
        self.db = db
        self.missing = missing
        self.no_desk = no_desk
        self.pager_names = pager_names or {}
        self.desk = desk
        self.conversation_link = conversation_link
        self.tracker = tracker
        self.drafter = drafter
        self.chat = chat
        self.people = people
        self.catalog = catalog
        self.clock = clock
        self.public_url = public_url
        self._names: dict[str, tuple[str, float]] = {}

    @property
    def handlers(self) -> dict[str, Any]:
        return {EXPORT: self.export}

    # -- where it goes --------------------------------------------------------------------------
    def route(self, service: str | None) -> TrackerRoute | NeedsDesk:
        """The post-mortem's route for an incident of `service` (the catalog's `tracker:`)."""
        return route(self.catalog, service, has_desk=self.desk is not None)

    def _product(self, service: str | None) -> Tracker | ServiceDesk | None:
        """The product the post-mortem of an incident of `service` goes to (the desk's, when
        it is raised there)."""
        chosen = self.route(service)
        if isinstance(chosen, TrackerRoute) and chosen.desk and self.desk is not None:
            return self.desk
        return self.tracker

    def where(self, service: str | None = None) -> str:
        """The product the post-mortem goes to, as people know it."""
        product = self._product(service)
        return product.name if product is not None else "The issue tracker"

    # -- failures ----------------------------------------------------------------------------------
    def _service_of(self, incident_id: int) -> str | None:
        with self.db.read() as session:
            incident = incident_reads.get_summary(session=session, incident_id=incident_id)
        return incident.service if incident is not None else None

    def still_trying(self, row: OutboxRow, error: str) -> None:
        """The first failure is said in the channel; the export keeps being retried."""
        if row.kind == EXPORT and row.incident_id is not None:
            where = self.where(self._service_of(row.incident_id))
            self._say(
                row.incident_id,
                f"{where} did not take the post-mortem yet ({error}); retrying until it does",
            )

    def gave_up(self, row: OutboxRow, error: str) -> None:
        if row.kind != EXPORT or row.incident_id is None:
            return
        product = self._product(self._service_of(row.incident_id))
        fix = product.fix if product is not None else "the tracker's settings"
        where = product.name if product is not None else "The issue tracker"
        self._say(
            row.incident_id,
            f"{where} refused the post-mortem: {error}. Check {fix}, then run "
            "/incident postmortem export",
        )

    def _say(self, incident_id: int, text: str) -> None:
        now = self.clock.now()
        with self.db.transaction() as session:
            entry = Entry(EntryKind.POSTMORTEM, now, text, None, Source.SYSTEM, {"pending": True})
            fx.announce_entry(session, incident_id, entry, now)

    # -- drafting ----------------------------------------------------------------------------------
    def draft(self, incident_id: int) -> Draft:
        """The current draft, with people named as the chat knows them."""
        with self.db.read() as session:
            incident = incident_reads.get_summary(session=session, incident_id=incident_id)
            if incident is None:
                raise Refused(Refusal("draft the post-mortem", "No such incident."))
            facts = facts_of(
                session,
                incident,
                public_url=self.public_url,
                conversation_link=self.conversation_link,
                pager_names=self.pager_names,
            )
        people = {u for u in facts.roles.values()} | {e.actor for e in facts.timeline if e.actor}
        people |= {f.owner for f in facts.followups if f.owner}
        names = {user: self._name(user) for user in sorted(p for p in people if p)}
        return self.drafter.render(facts, self.clock.now(), names)

    def _name(self, user: str) -> str:
        """The chat's name for a user, kept for NAME_TTL: the review page renders the draft on
        every view, and chats rate-limit looking people up."""
        now = time.monotonic()
        cached = self._names.get(user)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            name = self.chat.user_name(user) or user
        except IntegrationError:
            return user  # a name is a nicety; the draft is what matters (not cached: retry)
        self._names[user] = (name, now + NAME_TTL)
        return name

    # -- the effect --------------------------------------------------------------------------------
    def export(self, row: OutboxRow) -> None:
        assert row.incident_id is not None
        iid = row.incident_id
        with self.db.read() as session:
            incident = incident_reads.get_summary(session=session, incident_id=iid)
        if incident is None:
            raise IntegrationError("bot", "incident_gone", retryable=False)
        if self.tracker is None or incident.drill or private_hold(self.catalog, incident):
            self._finished(iid, None, 0)
            return
        chosen = self.route(incident.service)
        if isinstance(chosen, NeedsDesk):
            self._finished(iid, None, 0, why=f"{chosen.reason}: {self.no_desk}")
            return
        tracker, pm = self.tracker, self.catalog.postmortem
        # A private incident's issues are only ever written under its security level.
        level = pm.private.security_level if incident.private and pm.private else None
        project = chosen.project or tracker.project
        draft = self.draft(iid)
        labels = ["postmortem", _label(incident.severity), marker(iid)]
        if incident.service:
            labels.append(_label(incident.service))
        issue = self._postmortem_issue(incident, tracker, chosen, project, draft, labels, level)
        followups = FollowupExport(self.db, self.catalog, self.clock, self.people).export(
            iid, tracker, project, issue, level
        )
        final = self.draft(iid)  # with the follow-ups' issue keys
        tracker.update(
            issue.key,
            summary=final.title,
            description=final.markdown,
            labels=labels,
            security_level=level,
        )
        seen: dict[str, int] = {}
        for link in final.postmortem.facts.links:  # the conversation, review page, pages
            kind = link.label.split()[0].lower()
            seen[kind] = seen.get(kind, 0) + 1
            suffix = f"-{seen[kind]}" if seen[kind] > 1 else ""
            tracker.remote_link(  # upserted by globalId: a retry updates the same link
                issue.key,
                global_id=f"incidentbot:{iid}:{kind}{suffix}",
                url=link.url,
                title=link.label,
            )
        self._finished(iid, issue, followups, where=self.where(incident.service))

    def _postmortem_issue(
        self,
        incident: IncidentSummary,
        tracker: Tracker,
        chosen: TrackerRoute,
        project: str,
        draft: Draft,
        labels: list[str],
        level: str | None,
    ) -> TrackerIssue:
        if incident.postmortem_key and incident.postmortem_url:
            return TrackerIssue(incident.postmortem_key, incident.postmortem_url)
        issue = tracker.find(label=marker(incident.id)) or self._create(
            tracker, chosen, project, draft, labels, level
        )
        with self.db.transaction() as session:
            record_postmortem_issue(
                session=session, incident_id=incident.id, key=issue.key, url=issue.url
            )
        return issue

    def _create(
        self,
        tracker: Tracker,
        chosen: TrackerRoute,
        project: str,
        draft: Draft,
        labels: list[str],
        level: str | None,
    ) -> TrackerIssue:
        if self.desk is None or not chosen.desk:
            return tracker.create(
                project=project,
                issue_type=self.catalog.postmortem.issue_type,
                summary=draft.title,
                description=draft.markdown,
                labels=labels,
                security_level=level,
            )
        issue = self.desk.create_request(
            request_type=chosen.request_type,
            summary=draft.title,
            description=draft.markdown,
            labels=labels,
        )
        if level:  # a request form has no security field: set it before anything else
            tracker.update(
                issue.key,
                summary=draft.title,
                description=draft.markdown,
                labels=labels,
                security_level=level,
            )
        return issue

    def _finished(
        self,
        iid: int,
        issue: TrackerIssue | None,
        followups: int,
        *,
        where: str = "",
        why: str | None = None,
    ) -> None:
        """Say it in the channel (and on the card), then archive the channel if the catalog
        says so and the incident is closed. `where`: the product it went to; `why`: why it did
        not go (else said from the incident)."""
        now = self.clock.now()
        with self.db.transaction() as session:
            incident = incident_reads.locked(session=session, incident_id=iid)
            assert incident is not None
            if issue is not None:
                text = f"Post-mortem drafted in {where}: {issue.key}" + (
                    f" with {followups} follow-up{'s' if followups != 1 else ''}"
                    if followups
                    else ""
                )
                data = {ISSUE_KEY: issue.key, ISSUE_URL: issue.url}
            else:
                why = why or (
                    "a drill"
                    if incident.drill
                    else self.missing
                    if self.tracker is None
                    else private_hold(self.catalog, incident) or "nothing to export"
                )
                text = (
                    f"Post-mortem drafted (not exported: {why}); see it with /incident postmortem"
                )
                data = {}
            fx.announce_entry(
                session, iid, Entry(EntryKind.POSTMORTEM, now, text, None, Source.SYSTEM, data), now
            )
            closed = self.catalog.status(incident.status).phase.value == "closed"
            if closed and self.catalog.postmortem.archive_channel and incident.conversation_id:
                outbox.enqueue(
                    session=session,
                    lane=fx.lane(iid),
                    kind=ARCHIVE,
                    now=now,
                    incident_id=iid,
                    coalesce=True,
                )

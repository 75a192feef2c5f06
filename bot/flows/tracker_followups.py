"""The incident's follow-ups exported with its post-mortem: each an issue in the tracker (linked
to the post-mortem, or its sub-task), assigned to its owner by email, recorded as soon as the
tracker answers and labelled so that a retry finds it instead of making a second."""

from __future__ import annotations

from bot.core.catalog import Catalog
from bot.flows.people import People
from bot.flows.ports import Clock, Tracker, TrackerIssue
from bot.store import followups as followup_store, incidents as q
from bot.store.db import Database


def marker(incident_id: int) -> str:
    """The label on every issue exported for an incident."""
    return f"incidentbot-{incident_id}"


def followup_marker(followup_id: int) -> str:
    """The label that finds a follow-up's issue again."""
    return f"incidentbot-followup-{followup_id}"


class FollowupExport:
    def __init__(self, db: Database, catalog: Catalog, clock: Clock, people: People) -> None:
        self.db = db
        self.catalog = catalog
        self.clock = clock
        self.people = people

    def export(
        self, iid: int, tracker: Tracker, project: str, parent: TrackerIssue, level: str | None
    ) -> int:
        """Every follow-up of incident `iid` as an issue under `parent` (in `project`, or in
        the parent's project as sub-tasks); how many there are."""
        pm = self.catalog.postmortem
        if pm.followups_as == "subtasks":  # in their parent's project (a service desk's, too)
            project = parent.key.rsplit("-", 1)[0]
        with self.db.read() as session:
            rows = followup_store.followups_of(session=session, incident_id=iid)
            roles = q.roles(session=session, incident_id=iid)
        for row in rows:
            issue_key = row.tracker_key
            if issue_key is None:
                email = self._email(row.owner or roles.get(row.owner_role or ""))
                issue = tracker.find(label=followup_marker(row.id)) or tracker.create(
                    project=project,
                    issue_type="Sub-task"
                    if pm.followups_as == "subtasks"
                    else pm.followup_issue_type,
                    summary=row.text.splitlines()[0][:255] if row.text else f"Follow-up {row.id}",
                    description=f"{row.text}\n\nFollow-up of incident #{iid} — see {parent.key}.",
                    labels=["postmortem-followup", marker(iid), followup_marker(row.id)],
                    assignee_email=email,
                    parent=parent.key if pm.followups_as == "subtasks" else None,
                    security_level=level,
                )
                with self.db.transaction() as session:
                    followup_store.record_followup_exported(
                        session=session,
                        followup_id=row.id,
                        key=issue.key,
                        url=issue.url,
                        now=self.clock.now(),
                    )
                issue_key = issue.key
            if pm.followups_as == "linked":
                tracker.link(link_type=pm.link_type, inward=parent.key, outward=issue_key)
        return len(rows)

    def _email(self, user: str | None) -> str | None:
        """A follow-up owner's email, for the assignee: the person's as the table knows it, else
        asked of the chat once and kept (None: nobody, or the chat would not say)."""
        return self.people.email_of(user) if user is not None else None

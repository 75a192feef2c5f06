"""Alert groups in: one incident per open group, alerts upserted by fingerprint, the channel
told once per delivery, paging when the severity asks for it."""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.core import lifecycle
from bot.core.alert_rules import classify
from bot.core.alerts import AlertGroup
from bot.core.catalog import Phase
from bot.core.lifecycle import Refused
from bot.core.milestones import Milestone, Source
from bot.core.sender_time import TimeUsed, Told, choose
from bot.core.text import no_nul
from bot.core.timeline import Entry, EntryKind
from bot.flows import chat_kinds as fx
from bot.flows.unit import Outcome, UnitOfWork
from bot.store import alert_deliveries as deliveries, alerts as aq, incident_changes, incidents as q
from bot.store.alerts import AlertChange
from bot.store.models import OutboxRow
from bot.store.outbox import Effect
from bot.store.session import Session

_ICON = {"new": "🔥 Firing", "refired": "🔥 Firing again", "resolved": "✅ Resolved"}
# A delivery's line joins the one still waiting in the channel's lane (behind its pending
# channel in a storm, say): one message for the deliveries the chat has not seen yet.
_LINES_MERGE = deliveries.LineMerge(line=fx.POST_LINE, behind=fx.REFRESH)


class AlertFlows(UnitOfWork):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # incident → lanes a delivery handed to the pool and not started yet will run (None: all)
        self._queued: dict[int, set[str] | None] = {}
        self._queued_lock = threading.Lock()

    def ingest(self, group: AlertGroup) -> Outcome:
        """Idempotent: Alertmanager re-sends whole groups; a repeat changes nothing."""
        key = aq.group_hash(group.source, group.group_key)
        try:
            return self.run(None, lambda session, now: self._ingest(session, now, group, key))
        except aq.GroupTaken:
            # Another replica opened the incident for this group between our look and our
            # insert; the unique open-group key stopped a second one. Attach to theirs.
            return self.run(None, lambda session, now: self._ingest(session, now, group, key))

    def deliver(
        self,
        incident_id: int,
        lanes: Collection[str] | None = None,
        born: Sequence[OutboxRow] = (),
    ) -> None:
        """In a storm, deliveries of one incident pile up behind a busy pool: one still waiting
        there runs every effect committed before it starts, so the next one only adds its
        lanes to it (the lanes keep their order and their pacing)."""
        if self.background is None or born:
            super().deliver(incident_id, lanes, born)
            return
        with self._queued_lock:
            if incident_id in self._queued:
                waiting = self._queued[incident_id]
                if waiting is not None:
                    if lanes is None:
                        self._queued[incident_id] = None
                    else:
                        waiting.update(lanes)
                return
            self._queued[incident_id] = None if lanes is None else set(lanes)
        try:
            self.background(self._deliver_queued, incident_id)
        except BaseException:
            with self._queued_lock:
                self._queued.pop(incident_id, None)
            raise

    def _deliver_queued(self, incident_id: int) -> None:
        with self._queued_lock:
            lanes = self._queued.pop(incident_id, None)
        self._deliver(incident_id, lanes, ())

    def _ingest(self, session: Session, now: datetime, group: AlertGroup, key: str) -> Outcome:
        incident = aq.lock_open_incident(session=session, group=key)
        opened = incident is None
        if incident is None:
            if not group.firing:
                return Outcome(True, "No open incident for this group; nothing to resolve.")
            incident = self._open(session, now, group, key)
        changes = aq.upsert_alerts(
            session=session,
            incident_id=incident.id,
            source=group.source,
            alerts=group.alerts,
            now=now,
            fresh_incident=opened,
        )
        if not changes:
            return Outcome(True, "No change.", incident.id)
        entries = [_alert_entry(c, group.told_by, now) for c in changes]
        lane = fx.lane(incident.id)
        effects = []
        if not opened:  # a new incident's card already shows its alerts
            self._escalate(session, now, incident, group)
            effects.append(Effect(lane, fx.POST_LINE, incident.id, _summary_line(changes, now)))
            mitigated = self._mitigation(session, now, incident, group)
            if mitigated is not None:
                effects.append(Effect(lane, fx.PROPOSE_MITIGATION, incident.id, mitigated))
        # one card refresh serves a burst of changes (coalesced with one still waiting)
        effects.append(Effect(lane, fx.REFRESH, incident.id))
        deliveries.record_delivery(
            session=session,
            incident_id=incident.id,
            entries=entries,
            lane=lane,
            effects=effects,
            now=now,
            merge=_LINES_MERGE,
        )
        return Outcome(True, f"{len(changes)} alert change(s)", incident.id)

    def _mitigation(
        self, session: Session, now: datetime, incident: aq.OpenIncident, group: AlertGroup
    ) -> dict[str, object] | None:
        """When the last firing alert of an unmitigated incident resolves: the mitigation to
        propose, at the alerts' last end. An alert of this delivery still firing is enough to
        know without a count."""
        if "firing" in {no_nul(a.fingerprint): a.status for a in group.alerts}.values():
            return None
        if aq.firing_count(session=session, incident_id=incident.id):
            return None
        if not self._unmitigated(session, incident):
            return None
        ended = aq.last_end(session=session, incident_id=incident.id)
        impact = q.milestones(session=session, incident_id=incident.id)[Milestone.IMPACT_STARTED]
        proposed = choose(  # mitigation is never in the future nor before the impact
            Told(group.told_by, ended),
            received=now,
            floors=[("the impact start", impact.at)],
            tolerance=timedelta(0),
        )
        return {"at": proposed.at.isoformat()}

    def _open(
        self, session: Session, now: datetime, group: AlertGroup, key: str
    ) -> aq.OpenIncident:
        c = classify(group, self.catalog)
        # Impact cannot start after detection (receipt): a sender's clock ahead of ours, or a
        # startsAt from the future, is replaced by receipt time, and the timeline says so.
        impact = choose(
            Told(group.told_by, c.impact_started_at), received=now, tolerance=timedelta(0)
        )
        opening = lifecycle.declare(
            self.catalog,
            title=c.title,
            severity=c.severity,
            now=now,
            actor=None,
            source=Source.ALERT,
            impact_started_at=impact.at,
            detected_at=now,
        )
        incident = self.alert_opened(  # the unique open-group key is checked here
            session,
            opening,
            now,
            alert_group=(c.service, group.group_key, key),
            labels={**group.group_labels, **group.common_labels},
        )
        assert incident.id is not None
        born = aq.OpenIncident(incident.id, incident.severity, opening.snapshot.status)
        if impact.used is TimeUsed.RECEIPT:
            said = Entry(
                EntryKind.MILESTONE,
                now,
                f"Impact start: {impact.why}",
                None,
                Source.ALERT,
                {"milestone": Milestone.IMPACT_STARTED.value, **impact.data()},
            )
            q.insert_entries(session=session, incident_id=incident.id, entries=[said], now=now)
        return born

    def _escalate(
        self, session: Session, now: datetime, locked: aq.OpenIncident, group: AlertGroup
    ) -> None:
        """A more severe alert joining the group raises the incident; alerts never lower it."""
        wanted = classify(group, self.catalog).severity
        if self.catalog.severity_rank(wanted) >= self.catalog.severity_rank(locked.severity):
            return
        try:
            decision = lifecycle.decide(
                self.catalog,
                incident_changes.snapshot(session=session, incident_id=locked.id),
                lifecycle.ChangeSeverity(wanted),
                now=now,
                actor=None,
                source=Source.ALERT,
            )
        except Refused:
            return  # closed meanwhile
        incident_changes.apply_decision(
            session=session, incident_id=locked.id, decision=decision, now=now
        )

    def _unmitigated(self, session: Session, incident: aq.OpenIncident) -> bool:
        phase = self.catalog.status(incident.status).phase
        return phase is Phase.ACTIVE and Milestone.MITIGATED not in q.milestones(
            session=session, incident_id=incident.id
        )


def _alert_entry(change: AlertChange, sender: str, now: datetime) -> Entry:
    """A firing alert is on the timeline when we heard of it; a resolved one at its endsAt when
    that lies between its start and a minute past receipt, otherwise at receipt, said."""
    text, at = f"{_ICON[change.change]}: {change.alert.summary}", now
    if change.change == "resolved":
        alert = change.alert
        ended = choose(
            Told(sender, alert.ends_at),
            received=now,
            floors=[("the alert's start", alert.starts_at)],
        )
        at = ended.at
        if ended.used is TimeUsed.RECEIPT:
            text = f"{text} (endsAt: {ended.why})"
    return Entry(EntryKind.ALERT, at, text, None, Source.ALERT, _alert_data(change))


def _alert_data(change: AlertChange) -> dict[str, object]:
    a = change.alert
    return {
        "fingerprint": a.fingerprint,
        "change": change.change,
        "name": a.name,
        "labels": a.labels,
        "links": a.links,
        "starts_at": a.starts_at.isoformat(),
    }


def _summary_line(changes: list[AlertChange], now: datetime) -> dict[str, object]:
    counts: dict[str, list[str]] = {}
    for c in changes:
        counts.setdefault(c.change, []).append(c.alert.summary)
    parts = []
    for change, summaries in counts.items():
        shown = "; ".join(dict.fromkeys(summaries))
        parts.append(f"{_ICON[change]} ({len(summaries)}): {shown}")
    return {
        "kind": "alert",
        "text": "\n".join(parts)[:2900],
        "actor": None,
        "at": now.isoformat(),
        "data": {},
    }

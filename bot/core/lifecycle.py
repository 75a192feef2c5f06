"""The incident state machine: given an incident and a command, decide what changes.

Pure: no I/O and no clock; `now` and the actor are passed in. A refused command raises
`Refused` with a `Refusal` for the user (what, why, who, what to do instead) and changes nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from bot.core.catalog import COMMANDER, Catalog, Phase
from bot.core.corrections import (
    check_order as _check_order,
    edit_milestones as _edit_milestones,
    require_command as _require_command,
)
from bot.core.decisions import (
    EDITABLE as EDITABLE,
    Acknowledge as Acknowledge,
    AddNote as AddNote,
    AssignRole as AssignRole,
    ChangeSeverity as ChangeSeverity,
    ChangeStatus as ChangeStatus,
    Command as Command,
    Decision as Decision,
    EditMilestones as EditMilestones,
    MakePublic as MakePublic,
    Opening as Opening,
    Refusal as Refusal,
    Refused as Refused,
    Snapshot as Snapshot,
    doing,
)
from bot.core.metrics import humanize
from bot.core.milestones import Milestone, Source, Stamp, order_errors, require_aware
from bot.core.people import person, typed
from bot.core.sender_time import Chosen, Told, choose, floor_named, floors_of
from bot.core.timeline import Entry, EntryKind

MAX_TITLE = 150
MAX_NOTE = 3000


def declare(
    catalog: Catalog,
    *,
    title: str,
    severity: str | None,
    now: datetime,
    actor: str | None,
    source: Source = Source.CHAT,
    description: str = "",
    impact_started_at: datetime | None = None,
    detected_at: datetime | None = None,
    private: bool = False,
    commander: str | None = None,
) -> Opening:
    """Open an incident: initial status, the first milestones, the declarer as commander."""
    require_aware(now)
    what = "declare an incident"
    title = " ".join(title.split())
    if not title:
        example = "For example: `/incident declare sev2 Checkout API 500s`."
        raise Refused(Refusal(what, "An incident needs a title.", fix=example))
    if len(title) > MAX_TITLE:
        why = f"The title is {len(title)} characters, over the {MAX_TITLE} a title may have."
        raise Refused(Refusal(what, why, fix="Shorten it; the description can say the rest."))
    wanted = severity or catalog.default_severity
    sev = catalog.find_severity(wanted)
    if sev is None:
        raise _unknown("severity", wanted, catalog.severities, what)
    detected = detected_at or now
    impact = impact_started_at or detected
    for instant in (impact, detected):
        require_aware(instant)
    stamps = {
        Milestone.IMPACT_STARTED: Stamp(impact, source, actor),
        Milestone.DETECTED: Stamp(detected, source, actor),
        Milestone.DECLARED: Stamp(now, source, actor),
    }
    problems = order_errors({k: v.at for k, v in stamps.items()})
    if problems:
        why = "The milestones are out of order: " + "; ".join(problems) + "."
        raise Refused(Refusal(what, why))
    lead = commander if commander is not None else actor
    roles = {COMMANDER: lead} if lead else {}
    status = catalog.initial_status
    entries = [
        Entry(
            EntryKind.DECLARED,
            now,
            f"Declared {sev.id}: {title}",
            actor,
            source,
            {"severity": sev.id, "status": status.id, "private": private},
        ),
    ]
    if impact != now:
        entries.append(
            Entry(
                EntryKind.MILESTONE,
                now,
                f"Impact started {humanize(now - impact)} before the declaration",
                actor,
                source,
                {"milestone": Milestone.IMPACT_STARTED.value, "at": impact.isoformat()},
            )
        )
    if lead:
        entries.append(
            Entry(
                EntryKind.ROLE,
                now,
                f"{catalog.role(COMMANDER).name} assigned",
                actor,
                source,
                {"role": COMMANDER, "user": lead},
            )
        )
    snapshot = Snapshot(
        title=title,
        severity=sev.id,
        status=status.id,
        milestones=stamps,
        roles=roles,
        private=private,
    )
    return Opening(snapshot=snapshot, description=description.strip(), entries=tuple(entries))


def decide(
    catalog: Catalog,
    incident: Snapshot,
    command: Command,
    *,
    now: datetime,
    actor: str | None,
    source: Source = Source.CHAT,
) -> Decision:
    require_aware(now)
    current = catalog.status(incident.status)
    if isinstance(command, EditMilestones):  # post-incident corrections: closed or not
        return _edit_milestones(catalog, incident, command, now, actor, source)
    what = doing(command)
    if current.phase is Phase.CLOSED and not isinstance(command, AddNote):
        back = "Declare a new incident if the problem is back."
        raise Refused(Refusal(what, "This incident is closed.", fix=back))
    match command:
        case ChangeStatus():
            return _change_status(catalog, incident, command, now, actor, source)
        case ChangeSeverity(severity=wanted):
            sev = catalog.find_severity(wanted)
            if sev is None:
                raise _unknown("severity", wanted, catalog.severities, what)
            if sev.id == incident.severity:
                raise Refused(Refusal(what, f"The incident is already {sev.id}."))
            if catalog.severity_rank(incident.severity) == 0:
                _require_command(
                    catalog, incident, actor, f"change the severity of a {incident.severity}"
                )
            direction = (
                "Raised"
                if catalog.severity_rank(sev.id) < catalog.severity_rank(incident.severity)
                else "Lowered"
            )
            entry = Entry(
                EntryKind.SEVERITY,
                now,
                f"{direction} severity from {incident.severity} to {sev.id}",
                actor,
                source,
                {"from": incident.severity, "to": sev.id},
            )
            return Decision(severity=sev.id, entries=(entry,))
        case AssignRole(role=role_id, user=user):
            role = catalog.find_role(role_id)
            if role is None:
                raise _unknown("role", role_id, catalog.roles, what)
            if incident.roles.get(role.id) == user:
                why = f"{person(user)} is already the {role.name}."
                raise Refused(Refusal(what, why, who=(user,)))
            previous = incident.roles.get(role.id)
            entry = Entry(
                EntryKind.ROLE,
                now,
                f"{role.name} assigned",
                actor,
                source,
                {"role": role.id, "user": user, "previous": previous},
            )
            return Decision(roles={role.id: user}, entries=(entry,))
        case Acknowledge(told=told, by=by):
            acked = incident.milestones.get(Milestone.ACKNOWLEDGED)
            if acked is not None:
                by_whom = f" by {person(acked.by)}" if acked.by else ""
                who = (acked.by,) if acked.by else ()
                raise Refused(Refusal(what, f"Already acknowledged{by_whom}.", who=who))
            when = _when(told, now, floors_of(incident.milestones, Milestone.ACKNOWLEDGED))
            at = when.at if when else now
            stamp = Stamp(at, source, actor)
            _check_order(incident, {Milestone.ACKNOWLEDGED: stamp}, frozenset(), what)
            named = f" by {typed(by)}" if by and actor is None else ""
            text, data = _said(f"Acknowledged{named}", when)
            entry = Entry(EntryKind.ACKNOWLEDGED, at, text, actor, source, data)
            return Decision(set_milestones={Milestone.ACKNOWLEDGED: stamp}, entries=(entry,))
        case AddNote(text=text):
            text = text.strip()
            if not text:
                usage = "For example: `/incident note <what happened>`."
                raise Refused(Refusal(what, "A note needs text.", fix=usage))
            if len(text) > MAX_NOTE:
                why = f"The note is {len(text)} characters, over the {MAX_NOTE} a note may have."
                raise Refused(Refusal(what, why, fix="Split it into shorter notes."))
            return Decision(entries=(Entry(EntryKind.NOTE, now, text, actor, source, {}),))
        case MakePublic():
            if not incident.private:
                raise Refused(Refusal(what, "This incident is already public."))
            _require_command(catalog, incident, actor, "make a private incident public")
            text = "Made public: the incident is now visible to everyone"
            entry = Entry(EntryKind.VISIBILITY, now, text, actor, source, {"private": False})
            return Decision(private=False, entries=(entry,))
    raise AssertionError(f"unhandled command {command!r}")  # pragma: no cover


def _change_status(
    catalog: Catalog,
    incident: Snapshot,
    command: ChangeStatus,
    now: datetime,
    actor: str | None,
    source: Source,
) -> Decision:
    what = doing(command)
    current = catalog.status(incident.status)
    target = catalog.find_status(command.status)
    if target is None:
        raise _unknown("status", command.status, catalog.statuses, what)
    if target.id == current.id:
        raise Refused(Refusal(what, f"The incident is already {target.name}."))
    if target.phase is Phase.CLOSED and current.phase is not Phase.RESOLVED:
        why = f"The incident is {current.name}: only a resolved incident can be closed."
        fix = "Resolve it first (`/incident resolve`), then close it."
        raise Refused(Refusal("close the incident", why, fix=fix))
    if target.phase is Phase.CLOSED:
        _require_command(catalog, incident, actor, "close the incident")
    if command.mitigated_at is not None and command.mitigated_at > now:
        raise Refused(Refusal(what, "Mitigation can't be in the future."))
    stamps: dict[Milestone, Stamp] = {}
    cleared: set[Milestone] = set()
    entries: list[Entry] = []
    data = {"from": current.id, "to": target.id}
    reopening = current.phase is Phase.RESOLVED and target.phase in (Phase.ACTIVE, Phase.MITIGATED)
    resolution = incident.milestones.get(Milestone.RESOLVED)
    when = _when(
        command.told,
        now,
        [floor_named(Milestone.RESOLVED, resolution.at)]
        if reopening and resolution
        else floors_of(incident.milestones, *_STAMPED_BY.get(target.phase, ())),
    )
    now = when.at if when else now  # the instant the change happened (the sender's, if allowed)
    impact_back = target.phase is Phase.ACTIVE and current.phase in (
        Phase.MITIGATED,
        Phase.RESOLVED,
    )
    if reopening or impact_back:
        # No longer resolved (and, if impact is back, no longer mitigated); the timeline keeps
        # the earlier stamps, and the next resolution is the one the metrics use.
        lost = [Milestone.RESOLVED] if reopening else []
        lost += [Milestone.MITIGATED] if impact_back else []
        cleared = {m for m in lost if m in incident.milestones}
        kind = EntryKind.REOPENED if reopening else EntryKind.STATUS
        verb = "Reopened" if reopening else "Impact is back"
        entries.append(
            Entry(
                kind,
                now,
                f"{verb}: {current.name} → {target.name}",
                actor,
                source,
                {**data, "cleared": sorted(m.value for m in cleared)},
            )
        )
    elif target.phase is Phase.RESOLVED:
        entries.append(
            Entry(
                EntryKind.RESOLVED,
                now,
                "Resolved"
                + (
                    f": {command.summary.strip()}"
                    if command.summary and command.summary.strip()
                    else ""
                ),
                actor,
                source,
                {**data, "summary": command.summary},
            )
        )
    elif target.phase is Phase.CLOSED:
        entries.append(Entry(EntryKind.CLOSED, now, "Closed", actor, source, data))
    else:
        entries.append(
            Entry(
                EntryKind.STATUS,
                now,
                f"Status: {current.name} → {target.name}",
                actor,
                source,
                data,
            )
        )
    if target.phase is Phase.MITIGATED and Milestone.MITIGATED not in incident.milestones:
        stamps[Milestone.MITIGATED] = Stamp(command.mitigated_at or now, source, actor)
    if target.phase is Phase.RESOLVED:
        if Milestone.MITIGATED not in incident.milestones:
            stamps[Milestone.MITIGATED] = Stamp(now, Source.IMPLIED, actor)
        stamps[Milestone.RESOLVED] = Stamp(now, source, actor)
    if target.phase is Phase.CLOSED:
        stamps[Milestone.CLOSED] = Stamp(now, source, actor)
    _check_order(incident, stamps, frozenset(cleared), what)
    if when is not None:
        text, said = _said(entries[0].text, when)
        entries[0] = replace(entries[0], text=text, data={**entries[0].data, **said})
    summary = command.summary.strip() if command.summary and command.summary.strip() else None
    return Decision(
        status=target.id,
        summary=summary,
        set_milestones=stamps,
        clear_milestones=frozenset(cleared),
        entries=tuple(entries),
    )


# The milestones a move into each phase stamps (their floors bound a sender's time).
_STAMPED_BY = {
    Phase.MITIGATED: (Milestone.MITIGATED,),
    Phase.RESOLVED: (Milestone.MITIGATED, Milestone.RESOLVED),
    Phase.CLOSED: (Milestone.CLOSED,),
}


def _when(told: Told | None, now: datetime, floors: list[tuple[str, datetime]]) -> Chosen | None:
    """The sender's time for a change, bounded by the timeline (None: no sender time given)."""
    return None if told is None else choose(told, received=now, floors=floors)


def _said(text: str, when: Chosen | None) -> tuple[str, dict[str, Any]]:
    """An entry's text and data saying which time was used and why."""
    if when is None:
        return text, {}
    return f"{text} ({when.why})", dict(when.data())


def apply(incident: Snapshot, decision: Decision) -> Snapshot:
    """The snapshot after a decision (what the store will hold once it commits)."""
    cleared = decision.clear_milestones
    milestones = {m: s for m, s in incident.milestones.items() if m not in cleared}
    milestones.update(decision.set_milestones)
    return Snapshot(
        title=incident.title,
        severity=decision.severity or incident.severity,
        status=decision.status or incident.status,
        milestones=milestones,
        roles={**incident.roles, **decision.roles},
        private=incident.private if decision.private is None else decision.private,
    )


def _unknown(kind: str, given: str, items: tuple[object, ...], what: str) -> Refused:
    ids = ", ".join(f"`{getattr(item, 'id', item)}`".lower() for item in items)
    return Refused(Refusal(what, f"Unknown {kind} {typed(repr(given))}.", fix=f"Use one of {ids}."))

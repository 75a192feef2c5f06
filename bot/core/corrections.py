"""Who may make the commander's decisions, and corrections of the milestones
(`/incident timestamps`): pure, like the state machine that uses them (`bot.core.lifecycle`)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.catalog import COMMANDER, Catalog
from bot.core.decisions import EDITABLE, Decision, EditMilestones, Refusal, Refused, Snapshot
from bot.core.milestones import ORDER, Milestone, Source, Stamp, order_errors, require_aware
from bot.core.people import person
from bot.core.timeline import Entry, EntryKind


def require_command(catalog: Catalog, incident: Snapshot, actor: str | None, what: str) -> None:
    """Some decisions belong to the incident commander (or a catalog admin). Until someone takes
    command anyone may make them; the bot's own moves (no actor) always may."""
    commander = incident.roles.get(COMMANDER)
    if actor is None or commander is None or actor == commander or actor in catalog.admins:
        return
    raise Refused(
        Refusal(
            what,
            f"Only the incident commander ({person(commander)}) or an admin can {what}.",
            who=(commander,),
            fix="Ask the commander, or an admin.",
        )
    )


def edit_milestones(
    catalog: Catalog,
    incident: Snapshot,
    command: EditMilestones,
    now: datetime,
    actor: str | None,
    source: Source,
) -> Decision:
    what = "correct the timestamps"
    require_command(catalog, incident, actor, what)
    stamps: dict[Milestone, Stamp] = {}
    entries: list[Entry] = []
    for milestone, at in sorted(command.changes.items(), key=lambda kv: ORDER.index(kv[0])):
        require_aware(at)
        if milestone not in EDITABLE:
            why = f"{milestone.label} is the bot's record of when it happened here; it cannot be edited."
            raise Refused(Refusal(what, why))
        before = incident.milestones.get(milestone)
        if before is None and milestone in (Milestone.MITIGATED, Milestone.RESOLVED):
            why = f"The incident is not {milestone.label.lower()} yet."
            raise Refused(Refusal(what, why, fix="Change its status instead."))
        if at > now:
            why = f"{milestone.label} cannot be in the future ({at.astimezone(UTC):%Y-%m-%d %H:%M} UTC)."
            raise Refused(Refusal(what, why))
        if before is not None and before.at == at:
            continue
        stamps[milestone] = Stamp(at, Source.MANUAL, actor)
        was = (
            f"{before.at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC, from {before.source.value}"
            if before
            else "not set"
        )
        entries.append(
            Entry(
                EntryKind.MILESTONE,
                now,
                f"{milestone.label} corrected to {at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC (was {was})",
                actor,
                source,
                {
                    "milestone": milestone.value,
                    "to": at.isoformat(),
                    "from": before.at.isoformat() if before else None,
                    "from_source": before.source.value if before else None,
                    "from_by": before.by if before else None,
                },
            )
        )
    if not stamps:
        raise Refused(Refusal(what, "Nothing changed: every time is as it was."))
    check_order(incident, stamps, frozenset(), what)
    return Decision(set_milestones=stamps, entries=tuple(entries))


def check_order(
    incident: Snapshot, stamps: dict[Milestone, Stamp], cleared: frozenset[Milestone], what: str
) -> None:
    """Refused (`what` was asked) when the milestones would be out of order."""
    instants = {m: s.at for m, s in incident.milestones.items() if m not in cleared}
    instants.update({m: s.at for m, s in stamps.items()})
    problems = order_errors(instants)
    if problems:
        why = "That would put the milestones out of order: " + "; ".join(problems) + "."
        raise Refused(Refusal(what, why))

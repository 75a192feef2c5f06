"""The post-incident review's agenda, generated from the incident's facts (pure; no I/O, no clock:
`now` is passed in).

Four things a review meeting should talk about:

* the longest silent stretch: the longest time between consecutive timeline entries while the
  incident was open (from its declaration to its resolution, without the time it spent resolved
  before a reopen; up to `now` while it is still open). Entries the bot wrote on its own
  (`source == "system"`: reminders, delivery retries) do not break a silence;
* the slowest milestone transition compared with the team's median for that transition (the
  median over the other incidents that count in the metrics);
* playbook steps that were skipped (with their reasons) or whose automation failed;
* pages nobody acknowledged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from statistics import median

from bot.core.metrics import humanize
from bot.core.milestones import Milestone

SYSTEM_SOURCE = "system"


@dataclass(frozen=True)
class Activity:
    """One timeline entry, as the agenda needs it."""

    at: datetime
    kind: str
    text: str
    source: str = ""
    actor: str | None = None


@dataclass(frozen=True)
class StepFact:
    playbook: str
    title: str
    state: str  # open | running | done | skipped | failed
    skip_reason: str | None = None
    by: str | None = None
    at: datetime | None = None
    result: str | None = None


@dataclass(frozen=True)
class PageFact:
    service: str | None
    status: str  # pending | triggered | acknowledged | resolved | failed
    created_at: datetime
    acknowledged: bool
    url: str | None = None


@dataclass(frozen=True)
class Transition:
    start: Milestone
    end: Milestone

    @property
    def label(self) -> str:
        return f"{self.start.label} → {self.end.label}"


# The chain of phases an incident goes through, each a pair of milestones. Detected → acknowledged
# (MTTA) rather than declared → acknowledged: a page can be acknowledged before anyone declares.
TRANSITIONS: tuple[Transition, ...] = (
    Transition(Milestone.IMPACT_STARTED, Milestone.DETECTED),
    Transition(Milestone.DETECTED, Milestone.DECLARED),
    Transition(Milestone.DETECTED, Milestone.ACKNOWLEDGED),
    Transition(Milestone.ACKNOWLEDGED, Milestone.MITIGATED),
    Transition(Milestone.MITIGATED, Milestone.RESOLVED),
    Transition(Milestone.RESOLVED, Milestone.CLOSED),
)


def transition_durations(instants: Mapping[Milestone, datetime]) -> dict[Transition, timedelta]:
    """The transitions whose two milestones are both set (negative ones are left out: an edited
    milestone can make them so, and they say nothing about speed)."""
    found: dict[Transition, timedelta] = {}
    for t in TRANSITIONS:
        a, b = instants.get(t.start), instants.get(t.end)
        if a is not None and b is not None and b >= a:
            found[t] = b - a
    return found


@dataclass(frozen=True)
class TeamMedian:
    seconds: float
    count: int  # incidents it is the median of


def team_medians(others: Iterable[Mapping[Milestone, datetime]]) -> dict[Transition, TeamMedian]:
    """Per transition, the median over the given incidents (the caller passes the other incidents
    that count: no drills, no declined or merged ones, not the one under review)."""
    values: dict[Transition, list[float]] = {t: [] for t in TRANSITIONS}
    for instants in others:
        for t, took in transition_durations(instants).items():
            values[t].append(took.total_seconds())
    return {t: TeamMedian(median(v), len(v)) for t, v in values.items() if v}


# -- silence ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Silence:
    start: datetime
    end: datetime
    before: Activity | None  # None: the stretch starts when the incident opened (or reopened)
    after: Activity | None  # None: it ends at the resolution, or now
    ongoing: bool  # the incident is still open and nothing has happened since `start`

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


def open_intervals(
    instants: Mapping[Milestone, datetime], entries: Sequence[Activity], now: datetime
) -> list[tuple[datetime, datetime, bool]]:
    """The stretches the incident was open: (start, end, still open now). It opens at its
    declaration (else detection, else its first entry); each `resolved` entry ends a stretch and
    each `reopened` entry starts one; an incident never resolved is open until `now`."""
    ordered = sorted(entries, key=lambda e: e.at)
    start = (
        instants.get(Milestone.DECLARED)
        or instants.get(Milestone.DETECTED)
        or (ordered[0].at if ordered else None)
    )
    if start is None:
        return []
    intervals: list[tuple[datetime, datetime, bool]] = []
    opened: datetime | None = start
    for entry in ordered:
        if entry.at < start:
            continue
        if entry.kind == "resolved" and opened is not None:
            intervals.append((opened, entry.at, False))
            opened = None
        elif entry.kind == "reopened" and opened is None:
            opened = entry.at
    if opened is not None:
        resolved = instants.get(Milestone.RESOLVED)
        if resolved is not None and resolved >= opened:  # resolved with no entry (imported)
            intervals.append((opened, resolved, False))
        else:
            intervals.append((opened, max(now, opened), True))
    return intervals


def longest_silence(
    instants: Mapping[Milestone, datetime], entries: Sequence[Activity], now: datetime
) -> Silence | None:
    """The longest stretch without a timeline entry while the incident was open."""
    heard = sorted((e for e in entries if e.source != SYSTEM_SOURCE), key=lambda e: e.at)
    best: Silence | None = None
    for start, end, ongoing in open_intervals(instants, entries, now):
        inside = [e for e in heard if start <= e.at <= end]
        points: list[tuple[datetime, Activity | None]] = [
            (start, None),
            *((e.at, e) for e in inside),
        ]
        for i, (at, entry) in enumerate(points):
            if i + 1 < len(points):
                nxt_at, nxt = points[i + 1]
                candidate = Silence(at, nxt_at, entry, nxt, False)
            else:
                candidate = Silence(at, end, entry, None, ongoing)
            if best is None or candidate.duration > best.duration:
                best = candidate
    return best if best is not None and best.duration > timedelta(0) else None


# -- the slowest transition ------------------------------------------------------------------------
@dataclass(frozen=True)
class SlowTransition:
    transition: Transition
    took: timedelta
    team: TeamMedian | None  # None: no other incident has this transition yet

    @property
    def excess(self) -> timedelta:
        """How much longer than the team's median it took (negative: faster)."""
        if self.team is None:
            return self.took
        return self.took - timedelta(seconds=self.team.seconds)

    @property
    def ratio(self) -> float | None:
        if self.team is None or self.team.seconds <= 0:
            return None
        return self.took.total_seconds() / self.team.seconds


def slowest_transition(
    instants: Mapping[Milestone, datetime], medians: Mapping[Transition, TeamMedian]
) -> SlowTransition | None:
    """The transition that ran furthest over the team's median (in time, not in ratio: a median
    of a few seconds would make any delay look enormous). Only when no transition of this
    incident has a team median yet (the team's first incidents) is the longest one named.
    Ties go to the earlier transition in the chain."""
    candidates = [
        SlowTransition(t, d, medians.get(t)) for t, d in transition_durations(instants).items()
    ]
    compared = [c for c in candidates if c.team is not None] or candidates
    best: SlowTransition | None = None
    for candidate in compared:
        if best is None or candidate.excess > best.excess:
            best = candidate
    return best


# -- steps and pages -------------------------------------------------------------------------------
def skipped_steps(steps: Iterable[StepFact]) -> list[StepFact]:
    """Steps skipped (with their reason) and steps whose automated action failed."""
    return [s for s in steps if s.state in ("skipped", "failed")]


def unacknowledged_pages(pages: Iterable[PageFact]) -> list[PageFact]:
    return [p for p in pages if not p.acknowledged]


# -- the agenda ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Item:
    kind: str  # silence | transition | skipped_step | failed_step | unacknowledged_page
    title: str
    detail: str
    at: datetime | None = None


@dataclass(frozen=True)
class Agenda:
    items: tuple[Item, ...]
    silence: Silence | None
    slowest: SlowTransition | None
    skipped: tuple[StepFact, ...]
    unacknowledged: tuple[PageFact, ...]


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%d %b %H:%M UTC")


def _silence_item(s: Silence) -> Item:
    before = f"“{s.before.text}”" if s.before else "the incident opened"
    if s.ongoing:
        detail = f"Nothing on the timeline since {before} ({_utc(s.start)}), and counting."
    else:
        after = f"“{s.after.text}”" if s.after else "the resolution"
        detail = f"From {before} ({_utc(s.start)}) to {after} ({_utc(s.end)})."
    return Item(
        "silence",
        f"Longest silent stretch: {humanize(s.duration)}",
        detail + " What was happening, and who knew?",
        s.start,
    )


def _transition_item(s: SlowTransition) -> Item:
    took = humanize(s.took)
    if s.team is None:
        return Item(
            "transition",
            f"Slowest transition: {s.transition.label} took {took}",
            "No other incident has this transition yet, so there is no team median to compare with.",
        )
    team = f"the team's median is {humanize(timedelta(seconds=s.team.seconds))} over {s.team.count} other incident{'s' if s.team.count != 1 else ''}"
    if s.excess <= timedelta(0):
        return Item(
            "transition",
            f"No transition was slower than usual; the closest: {s.transition.label} took {took}",
            f"{team[0].upper()}{team[1:]}.",
        )
    ratio = f" ({s.ratio:.1f}× the median)" if s.ratio is not None else ""
    return Item(
        "transition",
        f"Slowest transition: {s.transition.label} took {took}{ratio}",
        f"{humanize(s.excess)} longer than usual; {team}. What slowed it down?",
    )


def _step_item(step: StepFact) -> Item:
    if step.state == "failed":
        return Item(
            "failed_step",
            f"Playbook step failed: {step.title}",
            f"{step.playbook}: {step.result or 'its automated action failed'}.",
            step.at,
        )
    reason = step.skip_reason.strip() if step.skip_reason and step.skip_reason.strip() else None
    return Item(
        "skipped_step",
        f"Playbook step skipped: {step.title}",
        f"{step.playbook}: {f'reason given: “{reason}”' if reason else 'no reason given'}. "
        "Is the step still right for incidents like this one?",
        step.at,
    )


def _page_item(page: PageFact) -> Item:
    who = page.service or "the default service"
    why = {
        "failed": "it never reached the pager",
        "pending": "it never reached the pager",
    }.get(page.status, f"it ended {page.status} without an acknowledgement")
    return Item(
        "unacknowledged_page",
        f"Page to {who} never acknowledged",
        f"Paged at {_utc(page.created_at)}; {why}. Was the on-call reachable, and was it the right team?",
        page.created_at,
    )


def build(
    *,
    milestones: Mapping[Milestone, datetime],
    entries: Sequence[Activity],
    steps: Sequence[StepFact],
    pages: Sequence[PageFact],
    medians: Mapping[Transition, TeamMedian],
    now: datetime,
) -> Agenda:
    silence = longest_silence(milestones, entries, now)
    slowest = slowest_transition(milestones, medians)
    skipped = skipped_steps(steps)
    unacked = unacknowledged_pages(pages)
    items: list[Item] = []
    if silence is not None:
        items.append(_silence_item(silence))
    if slowest is not None:
        items.append(_transition_item(slowest))
    items += [_step_item(s) for s in skipped]
    items += [_page_item(p) for p in unacked]
    return Agenda(tuple(items), silence, slowest, tuple(skipped), tuple(unacked))

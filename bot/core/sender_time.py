"""Senders' times: when a sender says an event happened (a pager's event time,
Alertmanager's `startsAt` / `endsAt`), that time is the one that counts, if the timeline allows it.

A delivery can come hours late (a sender retries while the bot is down), so receipt time would
be wrong by the outage. But a sender's clock can be off, and a time before what it follows (an
acknowledgement before detection or before the page) or far in the future would break the
milestone order. So: the sender's time when it lies between its floors and one minute past
receipt; otherwise receipt time. Either way the timeline says which time was used and why.

Pure: no clock; the receipt time is passed in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from bot.core.milestones import Milestone, Stamp, preceding, require_aware

# How far ahead of our clock a sender's clock may be before its time is not believed.
FUTURE_TOLERANCE = timedelta(minutes=1)


class TimeUsed(StrEnum):
    SENDER = "sender"
    RECEIPT = "receipt"


@dataclass(frozen=True)
class Told:
    """What a sender said about an event's time. `at` None: it gave none (or none we could read).
    `not_before`: floors only the caller knows, as (what, when), e.g. ("the page", sent_at)."""

    sender: str
    at: datetime | None
    not_before: tuple[tuple[str, datetime], ...] = ()


@dataclass(frozen=True)
class Chosen:
    """The instant to stamp, which time it is, and the sentence that says why."""

    at: datetime
    used: TimeUsed
    why: str
    told: datetime | None = None

    def data(self) -> dict[str, str | None]:
        """For a timeline entry's data: enough to audit the choice later."""
        return {
            "time_used": self.used.value,
            "sender_time": self.told.isoformat() if self.told else None,
            "at": self.at.isoformat(),
        }


def choose(
    told: Told,
    *,
    received: datetime,
    floors: Sequence[tuple[str, datetime]] = (),
    tolerance: timedelta = FUTURE_TOLERANCE,
) -> Chosen:
    """The sender's time if `floor ≤ at ≤ received + tolerance` for every floor (the caller's and
    `told.not_before`); otherwise `received`, with the reason."""
    require_aware(received)
    at = told.at
    theirs = f"{told.sender}'s time"
    if at is None:
        return Chosen(received, TimeUsed.RECEIPT, f"{told.sender} gave no time; stamped at receipt")
    require_aware(at)
    if at > received + tolerance:
        return Chosen(
            received,
            TimeUsed.RECEIPT,
            f"{theirs} {_clock(at, received)} is in the future; stamped at receipt",
            at,
        )
    for what, floor in (*floors, *told.not_before):
        if at < floor:
            return Chosen(
                received,
                TimeUsed.RECEIPT,
                f"{theirs} {_clock(at, received)} is before {what} ({_clock(floor, received)}); "
                "stamped at receipt",
                at,
            )
    return Chosen(
        at, TimeUsed.SENDER, f"at {theirs} {_clock(at, received)}{_late(at, received)}", at
    )


_AS_FLOOR = {
    Milestone.IMPACT_STARTED: "the impact start",
    Milestone.DETECTED: "detection",
    Milestone.DECLARED: "the declaration",
    Milestone.ACKNOWLEDGED: "the acknowledgement",
    Milestone.MITIGATED: "mitigation",
    Milestone.RESOLVED: "the resolution",
    Milestone.CLOSED: "closing",
}


def floors_of(
    milestones: Mapping[Milestone, Stamp], *stamping: Milestone
) -> list[tuple[str, datetime]]:
    """The floors for stamping these milestones: every set milestone the order puts before them."""
    earlier = dict.fromkeys(m for target in stamping for m in preceding(target))
    return [(_AS_FLOOR[m], milestones[m].at) for m in earlier if m in milestones]


def floor_named(milestone: Milestone, at: datetime) -> tuple[str, datetime]:
    return (_AS_FLOOR[milestone], at)


def _late(at: datetime, received: datetime) -> str:
    delay = received - at
    if delay < timedelta(seconds=1):
        return ""
    return f", received {_clock(received, at)}"


def _clock(at: datetime, beside: datetime) -> str:
    """`14:03:10 UTC`; with the date when it is not the other instant's day."""
    utc, other = at.astimezone(UTC), beside.astimezone(UTC)
    return utc.strftime("%H:%M:%S UTC" if utc.date() == other.date() else "%Y-%m-%d %H:%M:%S UTC")

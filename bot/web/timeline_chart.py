"""The review page's visual timeline: milestones on a time axis, and lanes of marks (alerts, pages,
acknowledgements, status changes, notes and pins, playbook steps) — bars for what lasted, dots
for instants. Inline SVG, drawn on the server (see bot.web.charts for the conventions)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from markupsafe import Markup

from bot.core.metrics import humanize
from bot.web.charts import GRID, INK, MUTED, attrs, esc, svg_open, text

# kind → colour of the mark
COLOURS = {
    "alert": "#d55e00",
    "page": "#e69f00",
    "page-unacked": "#d55e00",
    "ack": "#009e73",
    "status": "#0072b2",
    "role": "#56b4e9",
    "note": "#5f6b7a",
    "pin": "#cc79a7",
    "step-done": "#009e73",
    "step-skipped": "#999999",
    "step-failed": "#d55e00",
    "step-open": "#0072b2",
}
MILESTONE_COLOUR = "#1f2933"


@dataclass(frozen=True)
class Mark:
    lane: str
    kind: str  # a key of COLOURS
    start: datetime
    end: datetime | None  # None: an instant
    label: str  # what the tooltip says
    open_ended: bool = False  # still going at the right edge (drawn dashed)


@dataclass(frozen=True)
class MilestoneLine:
    label: str
    at: datetime


_STEPS = (
    timedelta(minutes=1),
    timedelta(minutes=2),
    timedelta(minutes=5),
    timedelta(minutes=10),
    timedelta(minutes=15),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(days=1),
    timedelta(days=2),
    timedelta(days=7),
)


def time_ticks(start: datetime, end: datetime, count: int = 8) -> list[datetime]:
    """Round instants (UTC) between start and end, about `count` of them."""
    span = max(end - start, timedelta(minutes=1))
    step = next((s for s in _STEPS if s >= span / count), _STEPS[-1])
    seconds = step.total_seconds()
    first = math.ceil(start.timestamp() / seconds) * seconds
    ticks = []
    at = datetime.fromtimestamp(first, UTC)
    while at <= end:
        ticks.append(at)
        at += step
    return ticks


def _fmt(at: datetime, multi_day: bool) -> str:
    at = at.astimezone(UTC)
    return at.strftime("%d %b %H:%M") if multi_day else at.strftime("%H:%M")


def timeline_chart(
    *,
    title: str,
    milestones: Sequence[MilestoneLine],
    marks: Sequence[Mark],
    lanes: Sequence[str],
    width: int = 1000,
) -> Markup:
    """The incident at a glance; `lanes` gives the rows' order (lanes with no mark are dropped)."""
    used = [lane for lane in lanes if any(m.lane == lane for m in marks)]
    instants = [m.at for m in milestones] + [m.start for m in marks]
    instants += [m.end for m in marks if m.end is not None]
    left, right, lane_h = 250, 20, 28
    desc = (
        f"{len(milestones)} milestones and {len(marks)} events in {len(used)} lanes: "
        + ", ".join(used)
    )
    if not instants:
        height = 120
        head, tail = svg_open(width, height, title, desc, "chart timeline-chart")
        return Markup(  # noqa: S704  escaped pieces
            head
            + text(width / 2, height / 2, "Nothing on the timeline yet", text_anchor="middle")
            + tail
        )
    t0, t1 = min(instants), max(instants)
    span = max((t1 - t0).total_seconds(), 60.0)
    pad = span * 0.03
    lo, hi = t0 - timedelta(seconds=pad), t1 + timedelta(seconds=pad)
    plot_w = width - left - right
    multi_day = (hi - lo) > timedelta(hours=20)

    def x(at: datetime) -> float:
        return left + plot_w * (at - lo).total_seconds() / (hi - lo).total_seconds()

    labels, rows = _milestone_labels(milestones, x, multi_day, width - right)
    top = 18 + 14 * rows
    bottom = top + lane_h * max(1, len(used))
    height = bottom + 40
    head, tail = svg_open(width, height, title, desc, "chart timeline-chart")
    out = [head, '<g class="axis x-axis">']
    for tick in time_ticks(lo, hi):
        tx = x(tick)
        out.append(f"<line {attrs(x1=tx, x2=tx, y1=top - 4, y2=bottom, stroke=GRID)}/>")
        out.append(text(tx, bottom + 16, _fmt(tick, multi_day), text_anchor="middle", fill=MUTED))
    out.append(text(left + plot_w, bottom + 32, "time (UTC)", text_anchor="end", fill=MUTED))
    out.append("</g>")
    # lanes
    out.append('<g class="lanes">')
    for i, lane in enumerate(used):
        y = top + i * lane_h
        if i % 2 == 0:
            out.append(f"<rect {attrs(x=left, y=y, width=plot_w, height=lane_h, fill='#f5f7f9')}/>")
        out.append(
            f'<g class="lane"><title>{esc(lane)}</title>'
            + text(left - 8, y + lane_h / 2 + 4, _clip(lane, 36), text_anchor="end", fill=INK)
            + "</g>"
        )
    out.append("</g>")
    # milestones: a dashed line each across the lanes; one label per instant, in rows
    out.append('<g class="milestones">')
    for m in sorted(milestones, key=lambda m: m.at):
        mx = x(m.at)
        out.append(
            f'<g class="milestone"><title>{esc(f"{m.label}: {m.at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC")}</title>'
            f"<line {attrs(x1=mx, x2=mx, y1=top - 4, y2=bottom, stroke=MILESTONE_COLOUR, stroke_width=1.5, stroke_dasharray='4 3')}/>"
            "</g>"
        )
    for label in labels:
        y = 14 + 14 * label.row
        out.append(
            f"<line {attrs(x1=label.x, x2=label.x, y1=y + 3, y2=top - 4, stroke=MILESTONE_COLOUR, stroke_width=1, stroke_opacity=0.5)}/>"
        )
        anchor = "end" if label.flip else "start"
        tx = label.x - 3 if label.flip else label.x + 3
        out.append(text(tx, y, label.text, fill=INK, font_size=11, text_anchor=anchor))
    out.append("</g>")
    # marks
    out.append('<g class="marks">')
    for mark in marks:
        if mark.lane not in used:
            continue
        row = used.index(mark.lane)
        cy = top + row * lane_h + lane_h / 2
        colour = COLOURS.get(mark.kind, INK)
        tip = f"<title>{esc(_tooltip(mark))}</title>"
        if mark.end is None or mark.end <= mark.start:
            out.append(
                f"<circle {attrs(cx=x(mark.start), cy=cy, r=5, fill=colour, stroke='#ffffff', stroke_width=1, class_='mark', data_kind=mark.kind)}>{tip}</circle>"
            )
            continue
        x0, x1 = x(mark.start), x(mark.end)
        out.append(
            f"<rect {attrs(x=x0, y=cy - 7, width=max(2.0, x1 - x0), height=14, rx=3, fill=colour, fill_opacity=0.35 if mark.open_ended else 0.85, stroke=colour, stroke_dasharray='4 2' if mark.open_ended else None, class_='mark', data_kind=mark.kind)}>{tip}</rect>"
        )
    out.append("</g>")
    out.append(tail)
    return Markup("".join(out))  # noqa: S704  every piece above is escaped


@dataclass(frozen=True)
class _Label:
    x: float
    text: str
    row: int
    flip: bool  # drawn to the left of its line (it would overflow the right edge)


def _milestone_labels(
    milestones: Sequence[MilestoneLine],
    x: Callable[[datetime], float],
    multi_day: bool,
    right_edge: float,
    max_rows: int = 5,
) -> tuple[list[_Label], int]:
    """One label per instant ("Impact started · Detected 09:00"), each in the first row where it
    does not overlap the previous one (a label is about 6.6 px a character at 11 px)."""
    groups: dict[datetime, list[str]] = {}
    for m in sorted(milestones, key=lambda m: m.at):
        groups.setdefault(m.at, []).append(m.label)
    ends: list[float] = []
    labels = []
    for at, names in groups.items():
        content = f"{' · '.join(names)} {_fmt(at, multi_day)}"
        mx, w = x(at), 6.6 * len(content) + 6
        flip = mx + w > right_edge
        start, end = (mx - w, mx) if flip else (mx, mx + w)
        row = next((r for r, e in enumerate(ends) if e + 4 <= start), None)
        if row is None:
            row = min(len(ends), max_rows - 1)
            if row == len(ends):
                ends.append(end)
        ends[row] = max(ends[row], end)
        labels.append(_Label(mx, content, row, flip))
    return labels, max(1, len(ends))


def _tooltip(mark: Mark) -> str:
    start = f"{mark.start.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
    if mark.end is None:
        return f"{start} — {mark.label}"
    took = humanize(mark.end - mark.start)
    if mark.open_ended:
        return f"{start} — {mark.label} (still going after {took})"
    return f"{start} — {mark.label} ({took})"


def _clip(label: str, n: int) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"

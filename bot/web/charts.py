"""Charts drawn as inline SVG on the server: no JavaScript, no third-party assets.

Every chart is an `<svg role="img">` labelled by its own `<title>` and `<desc>`, with axes, tick
labels and a legend; every bar and point carries a `<title>` (a tooltip, and what a screen reader
says). Colours are presentation attributes, so the page's CSP needs no inline styles. All text
goes through `esc`, so nothing a responder typed can become markup."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

# Colour-blind-safe palette (Okabe–Ito), most severe first.
PALETTE = ("#d55e00", "#e69f00", "#f0c808", "#0072b2", "#56b4e9", "#009e73", "#cc79a7", "#999999")
INK = "#1f2933"
GRID = "#d9dee3"
MUTED = "#5f6b7a"
FONT = 12

_ids = itertools.count(1)


def esc(value: object) -> str:
    return escape(str(value), quote=True)


def new_id(prefix: str) -> str:
    """Ids unique within a page (two charts must not share their title ids)."""
    return f"{prefix}-{next(_ids)}"


def attrs(**values: object) -> str:
    """`key="value"` pairs, escaped; `class_` → `class`, `aria_label` → `aria-label`; None is left out."""
    parts = []
    for key, value in values.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        if isinstance(value, float):
            value = f"{value:.2f}".rstrip("0").rstrip(".")
        parts.append(f'{name}="{esc(value)}"')
    return " ".join(parts)


def text(x: float, y: float, content: str, **extra: object) -> str:
    return f"<text {attrs(x=float(x), y=float(y), **extra)}>{esc(content)}</text>"


def svg_open(width: int, height: int, title: str, desc: str, css: str) -> tuple[str, str]:
    """The opening `<svg>` with its accessible title and description."""
    tid, did = new_id("t"), new_id("d")
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" '
        f"{attrs(viewBox=f'0 0 {width} {height}', role='img', aria_labelledby=f'{tid} {did}', class_=css, font_family='system-ui, sans-serif', font_size=FONT)}>"
        f'<title id="{tid}">{esc(title)}</title><desc id="{did}">{esc(desc)}</desc>'
    )
    return head, "</svg>"


def nice_ticks(top: float, count: int = 5, *, whole: bool = False) -> list[float]:
    """0 … a round number ≥ top, in steps of 1, 2 or 5 × 10^k (at least 1 when `whole`)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if whole:
        step = max(1.0, float(round(step)))
    n = math.ceil(top / step - 1e-9)
    return [i * step for i in range(n + 1)]


_DURATION_STEPS = (
    1,
    5,
    10,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    10800,
    21600,
    43200,
    86400,
    172800,
    604800,
)


def duration_ticks(top: float, count: int = 5) -> list[float]:
    """Ticks for seconds on round durations (1m, 5m, 15m, 1h, …)."""
    if top <= 0:
        return [0.0, 60.0]
    raw = top / count
    step = next((s for s in _DURATION_STEPS if s >= raw), None)
    if step is None:
        step = math.ceil(raw / 604800) * 604800
    n = math.ceil(top / step - 1e-9)
    return [float(i * step) for i in range(n + 1)]


def short_duration(seconds: float) -> str:
    """Compact axis labels: 45s, 20m, 1h30, 2d."""
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return f"{h}h{m:02d}" if m else f"{h}h"
    d, rest = divmod(s, 86400)
    return f"{d}d{rest // 3600}h" if rest >= 3600 else f"{d}d"


def count_label(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # one per category; None: no data that week
    colour: str
    dashed: bool = False


@dataclass(frozen=True)
class _Frame:
    width: int
    height: int
    left: int = 64
    right: int = 16
    top: int = 16
    bottom: int = 64  # x labels and the legend

    @property
    def plot_w(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> float:
        return self.height - self.top - self.bottom

    def y(self, value: float, top: float) -> float:
        return self.top + self.plot_h * (1 - value / top) if top else self.top + self.plot_h


def _y_axis(frame: _Frame, ticks: Sequence[float], fmt: Callable[[float], str], unit: str) -> str:
    top = ticks[-1]
    out = [f'<g class="axis y-axis" {attrs(fill=MUTED)}>']
    for tick in ticks:
        y = frame.y(tick, top)
        out.append(
            f"<line {attrs(x1=frame.left, x2=frame.width - frame.right, y1=y, y2=y, stroke=GRID)}/>"
        )
        out.append(text(frame.left - 6, y + 4, fmt(tick), text_anchor="end"))
    out.append(
        text(
            14,
            frame.top + frame.plot_h / 2,
            unit,
            text_anchor="middle",
            transform=f"rotate(-90 14 {frame.top + frame.plot_h / 2:.1f})",
        )
    )
    out.append("</g>")
    return "".join(out)


def _x_axis(frame: _Frame, labels: Sequence[str], centre: Callable[[int], float]) -> str:
    base = frame.top + frame.plot_h
    every = max(1, math.ceil(len(labels) / max(1, int(frame.plot_w // 56))))
    out = [
        f'<g class="axis x-axis" {attrs(fill=MUTED)}>',
        f"<line {attrs(x1=frame.left, x2=frame.width - frame.right, y1=base, y2=base, stroke=INK)}/>",
    ]
    for i, label in enumerate(labels):
        if i % every == 0:
            out.append(text(centre(i), base + 16, label, text_anchor="middle"))
    out.append("</g>")
    return "".join(out)


def _legend(frame: _Frame, series: Sequence[Series], kind: str) -> str:
    y = frame.height - 18
    x = float(frame.left)
    out = ['<g class="legend">']
    for s in series:
        if kind == "line":
            dash = "5 3" if s.dashed else None
            out.append(
                f"<line {attrs(x1=x, x2=x + 18, y1=y - 4, y2=y - 4, stroke=s.colour, stroke_width=3, stroke_dasharray=dash)}/>"
            )
        else:
            out.append(f"<rect {attrs(x=x, y=y - 10, width=12, height=12, fill=s.colour)}/>")
        out.append(text(x + 24, y, s.name, fill=INK))
        x += 24 + 8 * len(s.name) + 20
    out.append("</g>")
    return "".join(out)


def _empty(frame: _Frame, message: str) -> str:
    return text(
        frame.left + frame.plot_w / 2,
        frame.top + frame.plot_h / 2,
        message,
        text_anchor="middle",
        fill=MUTED,
        class_="empty",
    )


def line_chart(
    *,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[Series],
    unit: str,
    durations: bool = True,
    width: int = 640,
    height: int = 280,
) -> Markup:
    """Lines over categories (weeks); gaps where a value is None, a dot on every value."""
    frame = _Frame(width, height)
    head, tail = svg_open(width, height, title, desc, "chart line-chart")
    values = [v for s in series for v in s.values if v is not None]
    fmt = short_duration if durations else count_label
    ticks = (duration_ticks if durations else nice_ticks)(max(values, default=0.0))
    top = ticks[-1]
    n = max(1, len(labels))
    step = frame.plot_w / n

    def centre(i: int) -> float:
        return frame.left + step * (i + 0.5)

    out = [head, _y_axis(frame, ticks, fmt, unit), _x_axis(frame, labels, centre)]
    if not values:
        out.append(_empty(frame, "No incidents with this measure in the period"))
    for s in series:
        out.append(f'<g class="series" {attrs(data_series=s.name)}>')
        run: list[str] = []
        for i, v in enumerate([*s.values, None]):
            if v is not None:
                run.append(f"{centre(i):.1f},{frame.y(v, top):.1f}")
            elif run:
                if len(run) > 1:
                    dash = "6 4" if s.dashed else None
                    out.append(
                        f"<polyline {attrs(points=' '.join(run), fill='none', stroke=s.colour, stroke_width=2.5, stroke_dasharray=dash)}/>"
                    )
                run = []
        for i, v in enumerate(s.values):
            if v is None:
                continue
            label = labels[i] if i < len(labels) else str(i)
            out.append(
                f"<circle {attrs(cx=centre(i), cy=frame.y(v, top), r=4, fill=s.colour, class_='point')}>"
                f"<title>{esc(f'{label}: {s.name} {fmt(v)}')}</title></circle>"
            )
        out.append("</g>")
    out += [_legend(frame, series, "line"), tail]
    return Markup("".join(out))  # noqa: S704  every piece above is escaped


def stacked_bar_chart(
    *,
    title: str,
    desc: str,
    labels: Sequence[str],
    series: Sequence[Series],
    unit: str,
    width: int = 640,
    height: int = 280,
) -> Markup:
    """Bars per category, stacked by series (counts)."""
    frame = _Frame(width, height)
    head, tail = svg_open(width, height, title, desc, "chart bar-chart")
    totals = [
        sum(s.values[i] or 0 for s in series if i < len(s.values)) for i in range(len(labels))
    ]
    ticks = nice_ticks(max(totals, default=0.0), whole=True)
    top = ticks[-1]
    n = max(1, len(labels))
    step = frame.plot_w / n
    bar = max(2.0, step * 0.7)
    shown = [s for s in series if any(s.values)] or list(series)  # the legend names what is drawn

    def centre(i: int) -> float:
        return frame.left + step * (i + 0.5)

    out = [head, _y_axis(frame, ticks, count_label, unit), _x_axis(frame, labels, centre)]
    if not any(totals):
        out.append(_empty(frame, "No incidents in the period"))
    for i, label in enumerate(labels):
        base = 0.0
        for s in series:
            v = s.values[i] if i < len(s.values) else None
            if not v:
                continue
            y0, y1 = frame.y(base, top), frame.y(base + v, top)
            out.append(
                f"<rect {attrs(x=centre(i) - bar / 2, y=y1, width=bar, height=max(0.5, y0 - y1), fill=s.colour, class_='bar', data_series=s.name)}>"
                f"<title>{esc(f'{label}: {count_label(v)} × {s.name}')}</title></rect>"
            )
            base += v
    out += [_legend(frame, shown, "bar"), tail]
    return Markup("".join(out))  # noqa: S704  every piece above is escaped

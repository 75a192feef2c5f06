"""The server-drawn SVG charts and the draft's Markdown → HTML: structure, and nothing a
responder typed becomes markup."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from bot.web import charts
from bot.web.markdown import to_html
from bot.web.timeline_chart import Mark, MilestoneLine, time_ticks, timeline_chart

SVG = "{http://www.w3.org/2000/svg}"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
EVIL = '<script>alert(1)</script> & "quotes" <!channel>'


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314  (our own output) — also proves it is well-formed XML


def test_line_chart_has_axes_legend_titles_and_gaps() -> None:
    svg = charts.line_chart(
        title="MTTR per week",
        desc="desc",
        labels=["02 Mar", "09 Mar", "16 Mar", "23 Mar"],
        series=[charts.Series("median", [600.0, None, 3600.0, 1800.0], "#000")],
        unit="time to resolve",
    )
    root = parse(svg)
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby", "").split()
    assert root.find(f"{SVG}title").get("id") == title_id  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").get("id") == desc_id  # type: ignore[union-attr]
    points = root.findall(f".//{SVG}circle")
    assert len(points) == 3  # None is a gap, not a zero
    assert [p.find(f"{SVG}title").text for p in points] == [  # type: ignore[union-attr]
        "02 Mar: median 10m",
        "16 Mar: median 1h",
        "23 Mar: median 30m",
    ]
    assert len(root.findall(f".//{SVG}polyline")) == 1  # the line breaks at the gap
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "1h" in texts and "0s" in texts and "time to resolve" in texts and "median" in texts


def test_stacked_bars_stack_and_skip_empty_series_in_the_legend() -> None:
    svg = charts.stacked_bar_chart(
        title="Incidents",
        desc="d",
        labels=["w1", "w2"],
        series=[
            charts.Series("SEV1", [1.0, 0.0], "#f00"),
            charts.Series("SEV2", [2.0, 1.0], "#0f0"),
            charts.Series("SEV3", [0.0, 0.0], "#00f"),
        ],
        unit="incidents",
    )
    root = parse(svg)
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert len(bars) == 3
    heights = [float(b.get("height", 0)) for b in bars]
    assert abs(heights[1] - 2 * heights[0]) < 0.01
    legend = [t.text for t in root.iter(f"{SVG}text")]
    assert "SEV3" not in legend and "SEV1" in legend
    assert "0.5" not in legend  # whole ticks for counts


def test_empty_charts_say_so() -> None:
    svg = charts.stacked_bar_chart(title="t", desc="d", labels=["w1"], series=[], unit="u")
    assert "No incidents in the period" in svg
    svg = charts.line_chart(title="t", desc="d", labels=["w1"], series=[], unit="u")
    assert "No incidents with this measure" in svg
    assert "Nothing on the timeline yet" in timeline_chart(
        title="t", milestones=[], marks=[], lanes=[]
    )


def test_text_in_charts_is_escaped() -> None:
    svgs = [
        charts.line_chart(
            title=EVIL,
            desc=EVIL,
            labels=[EVIL],
            series=[charts.Series(EVIL, [1.0], "#000")],
            unit=EVIL,
        ),
        timeline_chart(
            title=EVIL,
            milestones=[MilestoneLine(EVIL, T0)],
            marks=[
                Mark(EVIL, "note", T0, None, EVIL),
                Mark(EVIL, "pin", T0, T0 + timedelta(minutes=5), EVIL),
            ],
            lanes=[EVIL],
        ),
    ]
    for svg in svgs:
        assert "<script" not in svg and "<!channel>" not in svg
        root = parse(svg)
        assert any(EVIL in (t.text or "") for t in root.iter(f"{SVG}title"))


def test_timeline_chart_lanes_marks_and_milestone_labels() -> None:
    svg = timeline_chart(
        title="Timeline",
        milestones=[
            MilestoneLine("Impact started", T0),
            MilestoneLine("Detected", T0),
            MilestoneLine("Acknowledged", T0 + timedelta(minutes=1)),
            MilestoneLine("Resolved", T0 + timedelta(minutes=90)),
        ],
        marks=[
            Mark("Pages", "page", T0, T0 + timedelta(minutes=1), "Page"),
            Mark("Notes", "note", T0 + timedelta(minutes=30), None, "note"),
            Mark("Step: x", "step-open", T0, T0 + timedelta(minutes=90), "x", open_ended=True),
        ],
        lanes=["Pages", "Alerts", "Notes", "Step: x"],
    )
    root = parse(svg)
    lanes = [g.find(f"{SVG}title").text for g in root.iter(f"{SVG}g") if g.get("class") == "lane"]  # type: ignore[union-attr]
    assert lanes == ["Pages", "Notes", "Step: x"]  # a lane with nothing in it is left out
    assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "milestone"]) == 4
    labels = [t.text for t in root.iter(f"{SVG}text") if t.text and "09:0" in t.text]
    assert "Impact started · Detected 09:00" in labels  # one label per instant
    marks = [e for e in root.iter() if e.get("class") == "mark"]
    assert [m.get("data-kind") for m in marks] == ["page", "note", "step-open"]
    assert marks[2].get("stroke-dasharray") == "4 2"  # still open: dashed
    assert "(still going after 1h 30m)" in marks[2].find(f"{SVG}title").text  # type: ignore[union-attr]


def test_time_ticks_are_round() -> None:
    ticks = time_ticks(T0 + timedelta(minutes=3), T0 + timedelta(hours=2))
    assert ticks[0] == T0 + timedelta(minutes=15)
    assert all(t.minute % 15 == 0 for t in ticks)


def test_markdown_to_html_escapes_raw_html_and_keeps_the_rest() -> None:
    html = to_html(
        "# Title <script>alert(1)</script>\n\n"
        "line one<br>line two, **bold**, `code`, ~~gone~~\n\n"
        "<div onclick='x()'>block html</div>\n\n"
        "[ok](https://example.com/a?b=1&c=2) [bad](javascript:alert(1)) [rel](/x) ![img](https://x/i.png)\n\n"
        "| a | b |\n|---|---|\n| <!channel> | 2 |\n"
    )
    assert "<h1>Title &lt;script&gt;alert(1)&lt;/script&gt;</h1>" in html
    assert "line one<br>" in html and "<strong>bold</strong>" in html and "<del>gone</del>" in html
    assert "<p>&lt;div onclick=&#x27;x()&#x27;&gt;block html&lt;/div&gt;</p>" in html
    assert (
        '<a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer nofollow">ok</a>'
        in html
    )
    assert "javascript" not in html.replace("alert(1)", "") or 'href="javascript' not in html
    assert 'href="javascript' not in html and 'href="/x"' not in html
    assert "<img" not in html and "[image: img]" in html
    assert "<td>&lt;!channel&gt;</td>" in html
    assert not re.search(r"<(script|div|iframe)", html)

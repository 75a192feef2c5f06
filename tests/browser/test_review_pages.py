"""The dashboard and a review page in headless Chromium, for an incident run through the
sandbox on a scripted clock: logged in through the form, charts drawn, agenda generated;
screenshots land in test-artifacts/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox import API_TOKEN, Sandbox, ScriptedClock
from tests.browser.conftest import screenshot
from tests.web.scenario import START, Played, play_incident, seed_history


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Played]]:
    path = tmp_path_factory.mktemp("browser") / "incidentbot.db"
    clock = ScriptedClock(START)
    with Sandbox(f"sqlite:///{path}", clock=clock) as sb:
        seed_history(sb, START, weeks=10)
        yield sb, play_incident(sb, clock)


def by_css(driver: Any, css: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, css))


def one(driver: Any, css: str) -> Any:
    found = by_css(driver, css)
    assert found, f"nothing matches {css!r} on {driver.current_url}"
    return found[0]


def drawn(element: Any) -> bool:
    size = element.size
    return bool(element.is_displayed() and size["width"] > 0 and size["height"] > 0)


def click_and_wait(driver: Any, css: str, arrived: Callable[[str], bool]) -> None:
    """Click, then wait for the next page (a click returns before the page has loaded)."""
    from selenium.webdriver.support.ui import WebDriverWait

    one(driver, css).click()
    WebDriverWait(driver, 15).until(
        lambda d: (
            arrived(d.current_url) and d.execute_script("return document.readyState") == "complete"
        )
    )


def log_in(driver: Any, sb: Sandbox) -> None:
    driver.get(f"{sb.url}/")
    assert "/login" in driver.current_url  # sent to the form
    one(driver, "#token").send_keys(API_TOKEN)
    click_and_wait(driver, "form.stack button[type=submit]", lambda url: "/login" not in url)
    assert driver.current_url.rstrip("/") == sb.url, driver.current_url


def test_dashboard_and_review_page_in_chromium(driver: Any, played: tuple[Sandbox, Played]) -> None:
    sb, p = played
    driver.delete_all_cookies()
    log_in(driver, sb)

    # dashboard: tiles, both charts drawn with data, the incident listed
    assert driver.title.startswith("Incidents")
    tiles = by_css(driver, "#numbers .tile")
    assert [t.find_element("css selector", "h3").text for t in tiles] == [
        "MTTD",
        "MTTA",
        "MTTM",
        "MTTR",
    ]
    assert "resolved − impact start" in one(driver, "#tile-mttr").text
    for chart_id in ("chart-mttr", "chart-count"):
        svg = one(driver, f"#{chart_id} svg")
        assert drawn(svg), chart_id
        assert svg.size["width"] > 300 and svg.size["height"] > 120
        assert one(driver, f"#{chart_id} svg > title").get_attribute("textContent")
    points = by_css(driver, "#chart-mttr circle.point")
    bars = by_css(driver, "#chart-count rect.bar")
    assert len(points) >= 5 and all(drawn(c) for c in points)
    assert len(bars) >= 8 and all(drawn(b) for b in bars)
    legend = one(driver, "#chart-count .legend").get_attribute("textContent")
    assert "SEV1 Critical" in legend and "SEV4 Low" in legend
    recent = one(driver, "#recent").text
    assert "Checkout API returns 500s" in recent and "Past incident" in recent
    shot = screenshot(driver, "dashboard")
    assert shot.stat().st_size > 10_000

    # the filter form works without JavaScript
    from selenium.webdriver.support.ui import Select

    Select(one(driver, "select[name=severity]")).select_by_value("SEV2")
    Select(one(driver, "select[name=period]")).select_by_value("all")
    click_and_wait(driver, "form.filters button[type=submit]", lambda url: "severity=" in url)
    assert "severity=SEV2" in driver.current_url and "period=all" in driver.current_url
    rows = one(driver, "#recent").text
    assert "Checkout API returns 500s" in rows
    assert all("SEV2" in r.text for r in by_css(driver, "#recent tbody tr")), (
        "only SEV2 incidents listed"
    )
    screenshot(driver, "dashboard-filtered")

    # the review page, from the dashboard's link
    click_and_wait(
        driver,
        f'#recent a[href="/incidents/{p.incident_id}"]',
        lambda url: url.endswith(f"/incidents/{p.incident_id}"),
    )
    assert driver.current_url.endswith(f"/incidents/{p.incident_id}")
    assert "Checkout API returns 500s" in one(driver, "#incident-title").text
    timeline = one(driver, "#timeline svg.timeline-chart")
    assert drawn(timeline) and timeline.size["width"] > 600
    marks = by_css(driver, "#timeline svg .mark")
    kinds = {m.get_attribute("data-kind") for m in marks}
    assert {"page", "page-unacked", "ack", "note", "step-done", "step-skipped"} <= kinds
    assert all(drawn(m) for m in marks if m.get_attribute("data-kind") != "status")
    assert len(by_css(driver, "#timeline svg .milestone")) == 7
    items = [li.text for li in by_css(driver, "#agenda li.agenda-item")]
    assert any(i.startswith("Longest silent stretch: 31m 00s") for i in items), items
    assert any("Slowest transition: Acknowledged → Mitigated took 41m 00s" in i for i in items)
    assert any("Playbook step skipped: Check saturation and upstreams" in i for i in items)
    assert any("The deploy explains the errors" in i for i in items)
    assert any(i.startswith("Page to database never acknowledged") for i in items)
    assert "45m 00s" in one(driver, "#duration-mttm").text
    assert "55m 00s" in one(driver, "#duration-mttr").text
    draft = one(driver, "#postmortem article.draft")
    assert "Post-mortem: Checkout API returns 500s" in one(driver, "#postmortem h1").text
    assert drawn(draft)
    assert one(driver, "#postmortem a").get_attribute("href").startswith(sb.jira.url)
    shot = screenshot(driver, "review")
    assert shot.stat().st_size > 10_000

    # log out: back to the form, and the pages are closed again
    click_and_wait(driver, "nav.session button", lambda url: "/login" in url)
    assert "/login" in driver.current_url
    driver.get(f"{sb.url}/incidents/{p.incident_id}")
    assert "/login" in driver.current_url


def test_a_slack_users_magic_link_in_chromium(driver: Any, played: tuple[Sandbox, Played]) -> None:
    sb, p = played
    driver.delete_all_cookies()
    assert sb.bot.review is not None
    driver.get(sb.bot.review.review_link(p.carol, p.incident_id))
    assert driver.current_url.endswith(f"/incidents/{p.incident_id}")
    assert "Signed in as" in one(driver, "nav.session").text
    assert by_css(driver, "#agenda li.agenda-item")
    driver.get(sb.bot.review.review_link(p.carol, p.incident_id).replace("t=", "t=x"))
    assert "This link does not work" in one(driver, "h1").text
    shot: Path = screenshot(driver, "magic-link-refused")
    assert shot.exists()

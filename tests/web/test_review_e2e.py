"""The review page of an incident run through the sandbox over HTTP: real Slack (emulated)
membership for a private incident, the magic link, and every number on the page."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.sandbox import API_TOKEN, Sandbox, ScriptedClock
from tests.web.scenario import START, Played, play_incident, seed_history


@pytest.fixture
def played(db_url: str) -> Iterator[tuple[Sandbox, Played]]:
    clock = ScriptedClock(START)
    with Sandbox(db_url, clock=clock) as sb:
        seed_history(sb, START, weeks=4)
        yield sb, play_incident(sb, clock)


def get(sb: Sandbox, path: str, client: httpx.Client | None = None) -> httpx.Response:
    if client is not None:
        return client.get(path)
    return httpx.get(
        f"{sb.url}{path}", headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=30
    )


def test_the_review_page_of_a_played_incident(played: tuple[Sandbox, Played]) -> None:
    sb, p = played
    r = get(sb, f"/incidents/{p.incident_id}")
    assert r.status_code == 200, r.text
    html = r.text
    assert "Checkout API returns 500s" in html and "SEV2 · Major" in html
    durations = {
        m: html.split(f'id="duration-{m}"', 1)[1].split("</article>", 1)[0]
        for m in ("mttd", "mtta", "mttm", "mttr")
    }
    assert "0s" in durations["mttd"]  # declared by hand: impact start = detection
    assert "4m 00s" in durations["mtta"]
    assert "45m 00s" in durations["mttm"]
    assert "55m 00s" in durations["mttr"]
    agenda = html.split('<ol class="agenda">', 1)[1].split("</ol>", 1)[0]
    assert "Longest silent stretch: 31m 00s" in agenda
    assert "“Rollback to 2026.03.16-2 started”" in agenda
    assert "Slowest transition: Acknowledged → Mitigated took 41m 00s (1.2× the median)" in agenda
    assert "Playbook step skipped: Check saturation and upstreams" in agenda
    assert "The deploy explains the errors" in agenda
    assert "Page to database never acknowledged" in agenda
    assert "Page to checkout-api" not in agenda  # bob acknowledged that one
    # the visual timeline has its milestones and marks
    chart = html.split("<svg", 1)[1].split("</svg>", 1)[0]
    for label in ("Declared", "Acknowledged", "Mitigated", "Resolved", "Closed"):
        assert f"<title>{label}:" in chart
    for kind in ("page", "page-unacked", "ack", "note", "step-done", "step-skipped"):
        assert f'data-kind="{kind}"' in chart, kind
    # the post-mortem went to Jira at close: its link, and the draft as HTML
    (issue,) = [i for i in sb.jira.issues() if "postmortem" in i["fields"]["labels"]]
    assert f">{issue['key']}</a>" in html
    assert "<h1>Post-mortem: Checkout API returns 500s</h1>" in html
    assert "<table>" in html.split('<article class="draft">', 1)[1]


def test_a_private_incident_through_slack_membership_and_magic_links(
    played: tuple[Sandbox, Played],
) -> None:
    sb, p = played
    with sb.bot.db.transaction() as session:
        from bot.store import incidents as q

        incident = q.get_incident(session=session, incident_id=p.incident_id)
        assert incident is not None
        incident.private = True
        session.add(incident)
    outsider = sb.slack.add_user("dave")
    assert sb.bot.review is not None

    def signed_in(user: str) -> httpx.Client:
        client = httpx.Client(base_url=sb.url, timeout=30)
        link = sb.bot.review.review_link(user, p.incident_id)  # type: ignore[union-attr]
        assert link.startswith(f"{sb.url}/review/login?t=")
        r = client.get(link)
        assert r.status_code == 303 and r.headers["location"] == f"/incidents/{p.incident_id}"
        return client

    member = signed_in(p.carol)  # carol joined the incident channel
    page = member.get(f"/incidents/{p.incident_id}")
    assert page.status_code == 200 and "private" in page.text
    assert "Checkout API returns 500s" in member.get("/").text
    dave = signed_in(outsider)
    assert dave.get(f"/incidents/{p.incident_id}").status_code == 404
    home = dave.get("/")
    assert home.status_code == 200 and "Checkout API returns 500s" not in home.text
    assert "Past incident" in home.text
    assert sb.slack.calls_to("conversations.members")  # asked of Slack

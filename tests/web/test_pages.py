"""The dashboard and the review page: visibility of private incidents, escaping, filters, 404s."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.core.milestones import Milestone as M
from bot.core.people import person
from bot.store.models import MilestoneRow
from tests.web.conftest import (
    ADMIN,
    MEMBER,
    NOW,
    OUTSIDER,
    Web,
    add_incident,
    add_page,
    add_step,
)

DAY = timedelta(days=1)


def tile(html: str, metric: str) -> str:
    match = re.search(rf'<article class="tile" id="tile-{metric}">(.*?)</article>', html, re.S)
    assert match, f"no {metric} tile"
    return match.group(1)


def tile_count(html: str, metric: str) -> int:
    match = re.search(r"<dt>count</dt><dd>(\d+)", tile(html, metric))
    assert match
    return int(match.group(1))


def bars(html: str) -> list[str]:
    """The tooltips of the incidents-per-week bars."""
    chart = html.split('id="chart-count"', 1)[1].split("</figure>", 1)[0]
    return re.findall(r'<rect [^>]*class="bar"[^>]*><title>([^<]*)</title>', chart)


def seed_private(web: Web) -> tuple[int, int]:
    public = add_incident(
        web.db, title="Checkout slow", start=NOW - 3 * DAY, commander=MEMBER, severity="SEV3"
    )
    secret = add_incident(
        web.db,
        title="Leaked credentials in CI",
        start=NOW - 2 * DAY,
        private=True,
        channel_id="CSECRET1",
        severity="SEV1",
        minutes={M.IMPACT_STARTED: 0, M.DETECTED: 1, M.DECLARED: 1, M.RESOLVED: 500},
    )
    web.directory.channels["CSECRET1"] = [MEMBER, "UBOT0001"]
    return public, secret


def test_private_incidents_are_invisible_to_non_members_everywhere(web: Web) -> None:
    _public, secret = seed_private(web)
    outsider = web.slack_user(OUTSIDER)
    home = outsider.get("/")
    assert home.status_code == 200
    assert "Checkout slow" in home.text and "Leaked credentials" not in home.text
    assert f"/incidents/{secret}" not in home.text
    assert tile_count(home.text, "mttr") == 1  # the tiles count only what they may see
    assert "Over 1 incident." in home.text
    assert all("SEV1" not in b for b in bars(home.text))  # nor do the charts
    assert "8h 20m" not in home.text  # the private incident's MTTR shows nowhere
    page = outsider.get(f"/incidents/{secret}")
    missing = outsider.get("/incidents/999999")
    assert page.status_code == missing.status_code == 404
    assert "Leaked" not in page.text
    assert page.text.replace(str(secret), "N") == missing.text.replace("999999", "N")
    # filtering on its severity or its service does not reveal it either
    assert "Leaked" not in outsider.get("/?severity=SEV1&period=all").text
    assert tile_count(outsider.get("/?severity=SEV1").text, "mttr") == 0


def test_members_of_the_channel_admins_and_token_holders_see_private_incidents(web: Web) -> None:
    _public, secret = seed_private(web)
    for client in (web.slack_user(MEMBER), web.slack_user(ADMIN), web.admin()):
        home = client.get("/")
        assert "Leaked credentials in CI" in home.text, client
        assert tile_count(home.text, "mttr") == 2
        assert any("SEV1" in b for b in bars(home.text))
        page = client.get(f"/incidents/{secret}")
        assert page.status_code == 200 and "private" in page.text
    # membership is asked of Slack and cached, not asked on every request
    asked = web.directory.calls.count("CSECRET1")
    member = web.slack_user(MEMBER)
    member.get("/")
    member.get(f"/incidents/{secret}")
    assert web.directory.calls.count("CSECRET1") == asked


def test_leaving_the_channel_takes_the_incident_away_once_the_cache_expires(web: Web) -> None:
    _public, secret = seed_private(web)
    member = web.slack_user(MEMBER)
    assert member.get(f"/incidents/{secret}").status_code == 200
    web.directory.channels["CSECRET1"] = []
    web.site.people.members_ttl = 0  # the cache lasts a minute; here, not at all
    web.site.people._members.clear()
    assert member.get(f"/incidents/{secret}").status_code == 404


def test_user_text_is_escaped_on_the_dashboard_and_the_review_page(web: Web) -> None:
    iid = add_incident(
        web.db,
        title="<script>alert(1)</script> and <!channel>",
        start=NOW - DAY,
        service="checkout-api",
        entries=[(7, "note", 'A note with <img src=x onerror="alert(2)"> and <!here>')],
    )
    admin = web.admin()
    for html in (admin.get("/").text, admin.get(f"/incidents/{iid}").text):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "&lt;!channel&gt;" in html
        assert "<script" not in html and "<!channel>" not in html
    page = admin.get(f"/incidents/{iid}").text
    assert "<img" not in page and "&lt;img src=x" in page
    # the post-mortem draft renders the same title as text, never as markup
    draft = page.split('<article class="draft">', 1)[1].split("</article>", 1)[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in draft and "<script" not in draft


def test_filters(web: Web) -> None:
    add_incident(web.db, title="Old sev1", severity="SEV1", start=NOW - 40 * DAY)
    add_incident(web.db, title="Recent sev1", severity="SEV1", start=NOW - 2 * DAY)
    add_incident(
        web.db, title="Recent sev3 search", severity="SEV3", start=NOW - 3 * DAY, service="search"
    )
    add_incident(
        web.db,
        title="Open sev2",
        severity="SEV2",
        status="investigating",
        start=NOW - 100 * DAY,
        minutes={M.IMPACT_STARTED: 0, M.DETECTED: 0, M.DECLARED: 0},
    )
    add_incident(web.db, title="A drill", severity="SEV2", start=NOW - DAY, drill=True)
    admin = web.admin()

    home = admin.get("/").text  # last 90 days
    assert "Old sev1" in home and "Recent sev1" in home and "Recent sev3 search" in home
    assert "Open sev2" in home  # open incidents show whatever the period
    assert tile_count(home, "mttr") == 3 and "(1 drill or declined left out)" in home

    week = admin.get("/?period=7d").text
    assert "Old sev1" not in week and "Recent sev1" in week and tile_count(week, "mttr") == 2

    sev1 = admin.get("/?severity=sev1&period=all").text
    assert "Old sev1" in sev1 and "Recent sev3" not in sev1 and "Open sev2" not in sev1
    assert '<option value="SEV1" selected>' in sev1

    search = admin.get("/?service=search").text
    assert "Recent sev3 search" in search and "Recent sev1" not in search
    assert tile_count(search, "mttr") == 1

    opened = admin.get("/?status=open").text
    assert "Open sev2" in opened and "Recent sev1" not in opened

    closed = admin.get("/?status=closed&period=all").text
    assert "Open sev2" not in closed and "Old sev1" in closed

    for bad in ("severity=SEV9", "status=sleeping", "period=2y", "service=%3Cx%3E"):
        r = admin.get(f"/?{bad}")
        assert r.status_code == 400, bad
        assert "<x>" not in r.text


def test_the_dashboard_lists_open_incidents_first_with_their_numbers(web: Web) -> None:
    add_incident(web.db, title="Closed last week", severity="SEV1", start=NOW - 8 * DAY)
    add_incident(
        web.db,
        title="Open minor",
        severity="SEV3",
        status="investigating",
        start=NOW - timedelta(hours=2),
        minutes={M.IMPACT_STARTED: 0, M.DETECTED: 0, M.DECLARED: 0},
    )
    add_incident(
        web.db,
        title="Open critical",
        severity="SEV1",
        status="identified",
        start=NOW - timedelta(minutes=30),
        commander=MEMBER,
        minutes={M.IMPACT_STARTED: 0, M.DETECTED: 0, M.DECLARED: 0},
    )
    html = web.admin().get("/").text
    opened = html.split('id="open"', 1)[1].split("</section>", 1)[0]
    assert opened.index("Open critical") < opened.index("Open minor")  # most severe first
    assert "30m 00s" in opened and "2h 00m" in opened and "mia" in opened
    assert "Closed last week" not in opened
    recent = html.split('id="recent"', 1)[1]
    assert "Closed last week" in recent
    mttr = tile(html, "mttr")
    assert "1h 00m" in mttr and "resolved − impact start" in mttr  # one incident: 60 minutes
    assert "<svg" in html.split('id="chart-mttr"', 1)[1]
    assert html.count("<title") >= 4  # page title, the charts' titles, their marks


def test_the_review_page(web: Web) -> None:
    other = add_incident(web.db, title="Earlier", start=NOW - 10 * DAY)
    assert other
    iid = add_incident(
        web.db,
        title="Payments failing",
        severity="SEV1",
        start=NOW - DAY,
        commander=MEMBER,
        minutes={
            M.IMPACT_STARTED: 0,
            M.DETECTED: 5,
            M.DECLARED: 6,
            M.ACKNOWLEDGED: 8,
            M.MITIGATED: 95,  # 87 min after the ack; the team's median is 30
            M.RESOLVED: 100,
            M.CLOSED: 130,
        },
        entries=[
            (6, "declared", "Declared"),
            (8, "acknowledged", "Acknowledged"),
            (12, "note", "Looking at the gateway"),
            (70, "note", "Found it: the certificate expired"),
            (100, "resolved", "Resolved"),
        ],
    )
    start = NOW - DAY
    add_step(
        web.db,
        iid,
        title="Check upstreams",
        state="skipped",
        reason="The gateway was clearly down",
        at=start + timedelta(minutes=20),
        attached=start + timedelta(minutes=6),
    )
    add_page(
        web.db, iid, service="payments-dba", status="triggered", at=start + timedelta(minutes=30)
    )
    r = web.slack_user(MEMBER).get(f"/incidents/{iid}")
    assert r.status_code == 200
    html = r.text
    assert "SEV1 · Critical" in html and "Incident Commander" in html and "mia" in html
    for metric, value in (
        ("mttd", "5m 00s"),
        ("mtta", "3m 00s"),
        ("mttm", "1h 35m"),
        ("mttr", "1h 40m"),
    ):
        assert value in html.split(f'id="duration-{metric}"', 1)[1].split("</article>", 1)[0]
    agenda = html.split('<ol class="agenda">', 1)[1].split("</ol>", 1)[0]
    assert "Longest silent stretch: 58m 00s" in agenda
    assert "Slowest transition: Acknowledged → Mitigated took 1h 27m (2.9× the median)" in agenda
    assert "Playbook step skipped: Check upstreams" in agenda
    assert "The gateway was clearly down" in agenda
    assert "Page to payments-dba never acknowledged" in agenda
    chart = html.split("<svg", 1)[1]
    assert 'role="img"' in chart and "Timeline of incident" in chart
    assert 'data-kind="step-skipped"' in html and 'data-kind="page-unacked"' in html
    assert "Post-mortem: Payments failing" in html  # the draft, as HTML
    assert "Not in Jira yet" in html


def test_a_milestone_a_pager_set_names_that_pager_and_each_page_its_own(web: Web) -> None:
    start = NOW - DAY
    iid = add_incident(web.db, title="Ledger drift", start=start, minutes={M.DETECTED: 0})
    acked = start + timedelta(minutes=4)
    with web.db.transaction() as session:
        session.add(
            MilestoneRow(
                incident_id=iid,
                kind=M.ACKNOWLEDGED.value,
                at=acked,
                source="pager",
                set_by=MEMBER,
                updated_at=acked,
            )
        )
    add_page(web.db, iid, service="checkout", status="triggered", at=start)
    add_page(
        web.db,
        iid,
        service="billing",
        status="acknowledged",
        at=start,
        pager="opsgenie",
        acknowledged_at=acked,
    )
    html = web.slack_user(MEMBER).get(f"/incidents/{iid}").text
    milestones = html.split('id="milestones-h"', 1)[1].split("</table>", 1)[0]
    row = milestones.split("Acknowledged</th>", 1)[1].split("</tr>", 1)[0]
    assert "<td>Opsgenie</td>" in row  # not the default pager's name
    pages = html.split('id="pages-h"', 1)[1].split("</table>", 1)[0]
    assert '<th scope="col">Pager</th>' in pages
    assert "<td>PagerDuty</td>" in pages and "<td>Opsgenie</td>" in pages


def test_people_the_bot_names_are_shown_by_name_on_the_review_page(web: Web) -> None:
    iid = add_incident(
        web.db,
        title="Payments failing",
        severity="SEV1",
        start=NOW - DAY,
        commander=MEMBER,
        minutes={M.DECLARED: 0},
        entries=[(3, "step", f"Done: Invite the owners — invited {person(MEMBER)}")],
    )
    add_step(
        web.db,
        iid,
        title="Invite the owners",
        state="done",
        result=f"invited {person(MEMBER)}, {person('UNKNOWN9')}",
        at=NOW - DAY + timedelta(minutes=3),
        attached=NOW - DAY,
    )
    html = web.slack_user(MEMBER).get(f"/incidents/{iid}").text
    assert "Done: Invite the owners — invited @mia" in html
    assert "invited @mia, @UNKNOWN9" in html  # nobody by that id: the id
    review = html.split('id="postmortem-h"', 1)[0]  # the draft is the post-mortem's
    assert "{person:" not in review


def test_not_found(web: Web) -> None:
    admin = web.admin()
    for path in ("/incidents/424242", "/incidents/abc", "/incidents/-1", "/incidents/1e3"):
        r = admin.get(path)
        assert r.status_code == 404, path
        assert "No such incident" in r.text
    assert admin.get("/incidents/99999999999999999999999").status_code == 404
    assert admin.get("/nope").status_code == 404


def test_the_stylesheet_is_served_without_login(web: Web) -> None:
    r = web.client().get("/static/review.css")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")
    assert "system-ui" in r.text

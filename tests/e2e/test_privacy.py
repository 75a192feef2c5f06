"""A private incident is invisible to whoever is not in its channel: not in the feed, not in
`/incident list`, not on the dashboard or review pages of a Slack sign-in, not through the API
without the operator's token. Its members and the catalog's admins see it.

The API answers only to API_TOKEN, the operator's credential (the same one that signs in as
admin on the dashboard): it has no person behind it to check channel membership for, so it
sees every incident, private ones marked `"private": true`. A browser session of a Slack user
is never an API credential."""

from __future__ import annotations

from typing import Any

import httpx
from sqlmodel import select

from bot.sandbox import API_TOKEN, Sandbox
from bot.store.models import PlaybookStep
from tests.e2e.conftest import api, command, ephemerals
from tests.e2e.privacy_rig import (
    Cast,
    cast_sb,
    declare_private,
    declare_public,
    feed_text,
    tick,
)

__all__ = ["cast_sb"]

SECRET_TITLE = "Customer card numbers in debug logs"
PUBLIC_TITLE = "Search results are slow"
NO_FEED = "private incidents and drills never post to the feed"


def signed_in(sb: Sandbox, user: str, incident_id: int) -> httpx.Client:
    """A browser that followed the user's `/incident review` sign-in link."""
    assert sb.bot.review is not None
    client = httpx.Client(base_url=sb.url, timeout=30)
    r = client.get(sb.bot.review.review_link(user, incident_id))
    assert r.status_code == 303, r.text
    return client


def marks(incident: dict[str, Any]) -> list[str]:
    """What would give the private incident away."""
    channel = incident["channel"]
    return [SECRET_TITLE, channel["id"], channel["name"], f'href="/incidents/{incident["id"]}"']


def shows(text: str, incident: dict[str, Any]) -> list[str]:
    return [m for m in marks(incident) if m in text]


def test_a_private_incident_is_absent_for_non_members_everywhere(
    cast_sb: tuple[Sandbox, Cast],
) -> None:
    sb, cast = cast_sb
    public = declare_public(sb, cast, PUBLIC_TITLE)
    secret = declare_private(sb, cast, SECRET_TITLE, severity="SEV1")
    sid, pid = secret["id"], public["id"]

    # Slack: the feed announced the public one only; nothing anywhere dave can read names it
    assert PUBLIC_TITLE in feed_text(sb)
    assert shows(feed_text(sb), secret) == []
    for channel in ("general", sb.feed):
        found = sb.slack.channel_by_name(channel)
        assert found is not None and cast.dave in sb.slack.members(found["id"])
        seen = "\n".join(repr(m) for m in sb.slack.messages(found["id"]))
        assert shows(seen, secret) == [], channel
    assert sb.slack.direct_messages(cast.dave) == []
    command(sb, cast.dave, cast.general, "list")
    listing = ephemerals(sb, cast.dave)[-1]
    assert PUBLIC_TITLE in listing and shows(listing, secret) == []

    # the web, signed in through Slack as someone outside the channel
    dave = signed_in(sb, cast.dave, pid)
    home = dave.get("/")
    assert home.status_code == 200 and PUBLIC_TITLE in home.text
    assert shows(home.text, secret) == []
    for query in ("?status=open", "?severity=SEV1", "?period=all", "?service=checkout-api"):
        assert shows(dave.get(f"/{query}").text, secret) == [], query
    page = dave.get(f"/incidents/{sid}")
    assert page.status_code == 404 and shows(page.text, secret) == []
    assert dave.get(f"/incidents/{sid + 1}").status_code == 404  # as absent as a missing one
    assert shows(dave.get(f"/incidents/{pid}").text, secret) == []
    # a Slack session is no API credential: the JSON endpoints refuse it outright
    for path in ("/api/incidents", f"/api/incidents/{sid}", "/api/metrics"):
        answer = dave.get(path)
        assert answer.status_code == 401 and shows(answer.text, secret) == [], path
        assert api(sb, path, token=None).status_code == 401
        assert api(sb, path, token="not-the-token").status_code == 401
    assert shows(httpx.get(f"{sb.url}/metrics", timeout=10).text, secret) == []

    # members and admins see it
    for user in (cast.bob, cast.erin, cast.alice):  # in the channel; catalog admin; commander
        browser = signed_in(sb, user, sid)
        assert SECRET_TITLE in browser.get("/").text, user
        page = browser.get(f"/incidents/{sid}")
        assert page.status_code == 200 and SECRET_TITLE in page.text, user
    # the operator's API token sees everything, private incidents marked as such
    listed = {i["id"]: i for i in api(sb, "/api/incidents").json()["incidents"]}
    assert listed[sid]["private"] is True and listed[pid]["private"] is False
    assert api(sb, f"/api/incidents/{sid}", token=API_TOKEN).json()["title"] == SECRET_TITLE


def test_what_happens_inside_a_private_incident_stays_out_of_the_feed(
    cast_sb: tuple[Sandbox, Cast],
) -> None:
    sb, cast = cast_sb
    secret = declare_private(sb, cast, SECRET_TITLE, severity="SEV1")
    channel = secret["channel"]["id"]
    command(sb, cast.alice, channel, "playbook database-failover")  # it posts to the feed …
    tick(sb, 11)  # … 10 minutes in
    with sb.bot.db.read() as session:
        (announce,) = session.exec(select(PlaybookStep).where(PlaybookStep.step == "announce"))
    assert announce.state == "failed" and announce.result == NO_FEED
    assert NO_FEED in repr(sb.slack.messages(channel))  # the checklist says why, in the channel
    for text in (
        "ack",
        "severity sev2",
        "note rotated the logging pipeline credentials",
        "status mitigated",
        "page database",
        "followup Purge the debug logs",
        "resolve Debug logging off",
        "close",
    ):
        command(sb, cast.alice, channel, text)
    assert api(sb, f"/api/incidents/{secret['id']}").json()["status"] == "closed"
    assert sb.slack.messages(sb.feed_id, system=False) == []
    command(sb, cast.dave, cast.general, "list")
    assert shows(ephemerals(sb, cast.dave)[-1], secret) == []
    dave = signed_in(sb, cast.dave, secret["id"])
    assert shows(dave.get("/?period=all").text, secret) == []


def test_a_private_incident_without_a_channel_is_not_named_in_the_feed(
    cast_sb: tuple[Sandbox, Cast],
) -> None:
    """Slack refuses the private channel for good: the failure is reported somewhere the
    people who can fix it look, but the feed does not learn the incident's title."""
    sb, cast = cast_sb
    sb.slack.fail("conversations.create", error="restricted_action", times=5)
    command(sb, cast.alice, cast.general, "declare")
    view = sb.slack.views(cast.alice)[-1]
    sb.slack.submit_view(
        cast.alice, view["id"], {"title": SECRET_TITLE, "severity": "SEV1", "private": ["private"]}
    )
    sb.settle()
    sb.bot.runner.sweep()
    sb.settle()
    assert SECRET_TITLE not in feed_text(sb)
    told = [m["text"] for m in sb.slack.direct_messages(cast.alice)]  # the declarer is told
    assert any("could not create the incident channel" in t and SECRET_TITLE in t for t in told)

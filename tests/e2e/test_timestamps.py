"""/incident timestamps: the milestones with their sources in a form; the commander corrects
them, the order is checked in the form, and the original stays on the timeline."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.sandbox import Sandbox
from tests.e2e.conftest import People, api, command, declare, ephemerals


def test_the_commander_corrects_impact_start_and_the_metrics_follow(
    sb: Sandbox, people: People
) -> None:
    incident = declare(sb, people, "sev2 Checkout API returns 500s")
    channel = incident["channel"]["id"]
    sb.slack.join(channel, people.alice)
    command(sb, people.alice, channel, "resolve")
    declared = datetime.fromisoformat(incident["milestones"]["declared_at"]["at"])
    command(sb, people.alice, channel, "timestamps")
    (form,) = sb.slack.views(people.alice)
    texts = str(form["blocks"])
    assert "Declared" in texts and "slack by <@" in texts  # sources shown; declared not editable
    assert not any(b.get("block_id") == "declared_at" for b in form["blocks"])
    hints = [str(b["hint"]["text"]) for b in form["blocks"] if "hint" in b]
    assert hints and not any("<@" in h for h in hints)  # plain text would show a mention raw

    # Out of order: shown in the form, nothing stored
    reply = sb.slack.submit_view(
        people.alice,
        form["id"],
        {
            "impact_started_at": int((declared - timedelta(minutes=5)).timestamp()),
            "detected_at": int((declared - timedelta(minutes=30)).timestamp()),
        },
    )
    assert reply.view_errors and "must not be after" in next(iter(reply.view_errors.values()))
    # Correct: impact began 40 minutes before the declaration
    impact = declared.replace(microsecond=0) - timedelta(minutes=40)
    detected = datetime.fromisoformat(incident["milestones"]["detected_at"]["at"])
    reply = sb.slack.submit_view(
        people.alice,
        form["id"],
        {"impact_started_at": int(impact.timestamp()), "detected_at": int(detected.timestamp())},
    )
    assert not reply.view_errors
    sb.settle()
    after = api(sb, f"/api/incidents/{incident['id']}").json()
    stamp = after["milestones"]["impact_started_at"]
    assert datetime.fromisoformat(stamp["at"]) == impact and stamp["source"] == "manual"
    (entry,) = [e for e in after["timeline"] if "corrected" in e["text"]]
    assert entry["kind"] == "milestone"
    assert entry["text"].startswith("Impact started corrected to ")
    assert "(was " in entry["text"] and entry["actor"] == people.alice


def test_only_the_commander_corrects(sb: Sandbox, people: People) -> None:
    incident = declare(sb, people, "sev3 Search is slow")
    channel = incident["channel"]["id"]
    sb.slack.join(channel, people.bob)
    command(sb, people.bob, channel, "timestamps")
    (form,) = sb.slack.views(people.bob)
    declared = datetime.fromisoformat(incident["milestones"]["declared_at"]["at"])
    reply = sb.slack.submit_view(
        people.bob,
        form["id"],
        {"impact_started_at": int((declared - timedelta(minutes=10)).timestamp())},
    )
    assert reply.view_errors and "Only the incident commander" in str(reply.view_errors)
    command(sb, people.bob, people.general, "timestamps")
    assert "not an incident channel" in ephemerals(sb, people.bob)[-1]


def test_incident_review_gives_a_personal_sign_in_link(sb: Sandbox, people: People) -> None:
    import re

    import httpx

    incident = declare(sb, people, "sev2 Checkout API returns 500s")
    channel = incident["channel"]["id"]
    sb.slack.join(channel, people.bob)
    command(sb, people.bob, channel, "review")
    reply = ephemerals(sb, people.bob)[-1]
    match = re.search(rf"<(http[^|>]+)\|Open the review page of #{incident['id']}>", reply)
    assert match, reply
    with httpx.Client(follow_redirects=True, timeout=10) as browser:
        page = browser.get(match.group(1).replace("&amp;", "&"))
        assert page.status_code == 200 and "Checkout API returns 500s" in page.text
    again = httpx.get(match.group(1).replace("&amp;", "&"), timeout=10)  # someone else, later
    assert again.status_code in (400, 403, 410) and "Checkout API" not in again.text  # once only
    command(sb, people.bob, people.general, "review")
    assert "not an incident channel" in ephemerals(sb, people.bob)[-1]

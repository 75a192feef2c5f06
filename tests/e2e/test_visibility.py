"""`/incident visibility public`: only the commander or a catalog admin may make a private
incident public; then the card loses its padlock, the timeline says who did it, and the feed
gets the announcement it was spared while the incident was private."""

from __future__ import annotations

from bot.sandbox import Sandbox
from tests.e2e.conftest import api, card, card_text, command, ephemerals
from tests.e2e.privacy_rig import Cast, cast_sb, declare_private, feed_text

__all__ = ["cast_sb"]


def listed(sb: Sandbox, user: str, channel: str) -> str:
    command(sb, user, channel, "list")
    return ephemerals(sb, user)[-1]


def test_only_the_commander_or_an_admin_makes_a_private_incident_public(
    cast_sb: tuple[Sandbox, Cast],
) -> None:
    sb, cast = cast_sb
    incident = declare_private(sb, cast, "Leaked signing keys")
    channel = incident["channel"]["id"]

    command(sb, cast.bob, channel, "visibility public")  # in the channel, but not commander
    assert ephemerals(sb, cast.bob)[-1] == (
        f"Only the incident commander (<@{cast.alice}>) or an admin can make a private "
        "incident public. Ask the commander, or an admin."
    )
    assert api(sb, f"/api/incidents/{incident['id']}").json()["private"] is True
    assert "Leaked signing keys" not in feed_text(sb)
    assert "Leaked signing keys" not in listed(sb, cast.dave, cast.general)

    command(sb, cast.alice, channel, "visibility public")
    after = api(sb, f"/api/incidents/{incident['id']}").json()
    assert after["private"] is False
    (line,) = [e for e in after["timeline"] if e["kind"] == "visibility"]
    assert line["actor"] == cast.alice
    assert any("Made public" in str(m.get("text")) for m in sb.slack.messages(channel))
    assert "🔒 Private incident" not in card_text(card(sb, after))
    (announcement,) = sb.slack.messages(
        sb.feed_id, system=False
    )  # the announcement held back, posted once
    assert f"<#{channel}>" in card_text(announcement)
    assert "Leaked signing keys" in listed(sb, cast.dave, cast.general)

    command(sb, cast.alice, channel, "visibility public")
    assert ephemerals(sb, cast.alice)[-1] == "This incident is already public."
    assert len(sb.slack.messages(sb.feed_id, system=False)) == 1


def test_a_catalog_admin_may_make_it_public_and_nobody_makes_it_private_again(
    cast_sb: tuple[Sandbox, Cast],
) -> None:
    sb, cast = cast_sb
    incident = declare_private(sb, cast, "Payroll export to the wrong bucket")
    channel = incident["channel"]["id"]
    command(sb, cast.erin, channel, "visibility public")  # erin is in the catalog's admins
    assert api(sb, f"/api/incidents/{incident['id']}").json()["private"] is False
    assert "Payroll export to the wrong bucket" in card_text(
        sb.slack.messages(sb.feed_id, system=False)[0]
    )

    command(sb, cast.alice, channel, "visibility private")
    assert ephemerals(sb, cast.alice)[-1].startswith("An incident can't be made private")
    assert api(sb, f"/api/incidents/{incident['id']}").json()["private"] is False

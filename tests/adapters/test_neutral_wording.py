"""Each surface renders the domain's neutral words its own way: Slack mentions people as
`<@U…>` and reads its `<@U…|name>` tokens; the web says `@U…`; sources name the products."""

from __future__ import annotations

from bot.adapters.slack.text import mentioned, said
from bot.adapters.source_names import source_name
from bot.core.lifecycle import Refused
from bot.core.milestones import Source
from bot.core.people import person
from bot.web import wording


def test_slack_renders_people_in_a_refusal_as_mentions() -> None:
    refused = Refused(f"{person('U0ALICE')} is already the Commander.")
    assert said(refused.reason) == "<@U0ALICE> is already the Commander."
    assert wording.said(refused.reason) == "@U0ALICE is already the Commander."


def test_slack_reads_its_escaped_mentions_and_nothing_else() -> None:
    assert mentioned("<@U123ABC|bob>") == "U123ABC"
    assert mentioned("<@W999>") == "W999"
    assert mentioned("@bob") is None
    assert mentioned("<!channel>") is None


def test_sources_name_the_products_of_this_deployment() -> None:
    assert source_name(Source.CHAT) == "Slack"
    assert source_name(Source.PAGER) == "PagerDuty"
    assert source_name(Source.ALERT) == "alert"
    assert source_name(None) == "—"

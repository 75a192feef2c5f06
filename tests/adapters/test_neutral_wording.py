"""Each surface renders the domain's neutral words its own way: Slack mentions people as
`<@U…>` and reads its `<@U…|name>` tokens; the web says `@U…`; sources name the products."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.adapters.slack.blocks import line_text
from bot.adapters.slack.text import mentioned, said, said_plain
from bot.adapters.source_names import source_name
from bot.core.catalog import default_catalog
from bot.core.lifecycle import Refusal, Refused
from bot.core.milestones import Source
from bot.core.people import person, typed
from bot.flows.ports import CardView, Line
from bot.web import wording

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_slack_renders_people_in_a_refusal_as_mentions() -> None:
    why = f"{person('U0ALICE')} is already the Commander."
    refused = Refused(Refusal("assign a role", why, who=("U0ALICE",)))
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


def test_slack_escapes_what_someone_typed_in_a_sentence_and_mentions_only_references() -> None:
    typed_name = "db <!channel> <@U0BOSS> {person:U0BOSS} & co"
    why = f"No playbook `{typed(typed_name)}`; ask {person('U0ALICE')}."
    refused = Refused(Refusal("attach a playbook", why, who=("U0ALICE",)))
    shown = said(refused.reason)
    assert shown.replace("\u2060", "") == (
        "No playbook `db &lt;!channel&gt; &lt;@U0BOSS&gt; {person:U0BOSS} &amp; co`;"
        " ask <@U0ALICE>."
    )
    assert said_plain(refused.reason).endswith("ask @U0ALICE.")  # a form's plain-text error


def test_a_step_result_stored_by_an_older_version_keeps_its_mentions() -> None:
    assert said("invited <@U0BOB> & <!here>", stored_mentions=True) == (
        "invited <@U0BOB> &amp; &lt;!here&gt;"
    )


def test_a_step_line_mentions_the_people_it_reached_and_other_lines_stay_text() -> None:
    catalog = default_catalog()
    card = CardView(1, "Checkout down", catalog.severities[0], catalog.statuses[0], (), {})
    step = Line("step", f"Done: Invite — invited {person('U0BOB')}", None, AT, {})
    note = Line("note", f"see {person('U0BOB')} <!channel>", "U0ALICE", AT, {})
    assert "invited <@U0BOB>" in line_text(step, card)
    assert f"see {person('U0BOB')} &lt;!channel&gt;" in line_text(note, card)

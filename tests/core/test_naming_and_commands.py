from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from bot.core import commands as c
from bot.core.catalog import CatalogError, catalog_from_mapping, default_catalog
from bot.core.naming import channel_name

CAT = default_catalog()
DAY = datetime(2026, 11, 26, 23, 30, tzinfo=UTC)
VALID = re.compile(r"^[a-z0-9_-]{1,80}$")


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Checkout API returns 500s", "inc-20261126-checkout-api-returns-500s"),
        ("  Ünïcödé & ümlauts!! ", "inc-20261126-unicode-umlauts"),
        ("🔥🔥🔥", "inc-20261126"),
        ("DB -- failover__now", "inc-20261126-db-failover__now"),
    ],
)
def test_channel_names(title: str, expected: str) -> None:
    assert channel_name(title, DAY) == expected


def test_channel_name_uses_the_utc_day_and_suffixes_within_80_chars() -> None:
    local = DAY.astimezone(timezone(timedelta(hours=5)))  # already the 27th there
    assert channel_name("x", local).startswith("inc-20261126-")
    long = "a very long title " * 10
    for attempt in (1, 2, 17, 123):
        name = channel_name(long, DAY, attempt=attempt)
        assert VALID.match(name), name
        assert len(name) <= 80
        assert name.endswith(f"-{attempt}") == (attempt > 1)


def test_drill_prefix() -> None:
    assert channel_name("Game day", DAY, prefix="drill") == "drill-20261126-game-day"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", c.Help()),
        ("help", c.Help()),
        ("frobnicate now", c.Help(unknown="frobnicate")),
        ("declare", c.Declare(None, None)),
        ("declare sev2", c.Declare("SEV2", None)),
        ("declare SEV1 Checkout API returns 500s", c.Declare("SEV1", "Checkout API returns 500s")),
        ("declare Checkout down", c.Declare(None, "Checkout down")),
        ("declare Critical error in payments", c.Declare(None, "Critical error in payments")),
        ("status identified", c.SetStatus("identified")),
        ("status Monitoring", c.SetStatus("monitoring")),
        ("resolve", c.SetStatus("resolved", None)),
        ("resolve rolled back 1.2.3", c.SetStatus("resolved", "rolled back 1.2.3")),
        ("severity sev1", c.SetSeverity("sev1")),
        ("commander", c.SetRole("commander", None)),
        ("comms @U123ABC", c.SetRole("comms", "U123ABC")),
        ("scribe @W999", c.SetRole("scribe", "W999")),
        ("ack", c.Ack()),
        ("note  the cache hit rate dropped  ", c.Note("the cache hit rate dropped")),
        ("close", c.Close()),
        ("list", c.ListOpen()),
    ],
)
def test_parse(text: str, expected: c.Request) -> None:
    assert c.parse(text, CAT, at_sign) == expected


def at_sign(word: str) -> str | None:
    """A surface's mention rule, as an adapter passes it: here `@id` names the person `id`."""
    return word[1:] if word.startswith("@") and len(word) > 1 else None


def test_the_surface_says_which_words_mention_a_person() -> None:
    assert c.parse("comms @U1", CAT) == c.Invalid(
        "Mention the person: `/incident comms @name` (or no name to claim)."
    )
    assert c.parse("followup Add an alert @U1 due 2026-12-01", CAT, at_sign) == c.AddFollowup(
        "Add an alert", "U1", date(2026, 12, 1)
    )
    assert c.parse("followup Add an alert @U1", CAT) == c.AddFollowup(
        "Add an alert @U1", None, None
    )


def test_a_word_not_understood_is_echoed_only_when_plain() -> None:
    result = c.parse("status <!channel>", CAT)
    assert isinstance(result, c.Invalid)
    assert result.message.startswith("Unknown status; use one of")


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("status", "Which status"),
        ("status fixed", "Unknown status `fixed`"),
        ("severity", "Which severity"),
        ("severity sev9", "Which severity"),
        ("note", "needs text"),
        ("commander bob", "Mention the person"),
    ],
)
def test_parse_errors_say_what_to_type(text: str, needle: str) -> None:
    result = c.parse(text, CAT)
    assert isinstance(result, c.Invalid)
    assert needle in result.message


def test_catalog_defaults_and_custom_sections() -> None:
    custom = catalog_from_mapping(
        {
            "severities": [{"id": "p1", "name": "Page"}, {"id": "p2", "name": "Ticket"}],
            "default_severity": "P2",
        }
    )
    assert [s.id for s in custom.severities] == ["P1", "P2"]
    assert custom.find_status("resolved") is not None  # statuses keep their defaults
    assert c.parse("declare p1 Disk full", custom) == c.Declare("P1", "Disk full")


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"colour": "red"}, "unknown catalog keys: colour"),
        ({"roles": [{"id": "comms", "name": "Comms"}]}, "must include 'commander'"),
        (
            {"severities": [{"id": "SEV1", "name": "a"}, {"id": "SEV1", "name": "b"}]},
            "duplicate severity",
        ),
        ({"severities": [{"id": "SEV1", "name": "a", "pager": True}]}, "severities.0.pager"),
        ({"default_severity": "SEV9"}, "default_severity"),
    ],
)
def test_catalog_errors_name_the_problem(data: dict[str, object], needle: str) -> None:
    with pytest.raises(CatalogError, match=re.escape(needle)):
        catalog_from_mapping(data)


def test_the_example_catalog_is_valid() -> None:
    from pathlib import Path

    from bot.catalog_file import load_catalog

    catalog = load_catalog(Path(__file__).resolve().parents[2] / "incidentbot.example.yaml")
    assert catalog.find_status("fixing") is not None and catalog.find_role("ops") is not None
    assert c.parse("ops", catalog) == c.SetRole("ops", None)

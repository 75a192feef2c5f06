"""The blameless-language lint: each blame phrase is found, plain descriptions are not."""

from __future__ import annotations

import pytest

from bot.core import blame


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("It was the fault of the on-call", ["the fault of"]),
        ("Totally Bob's fault", ["Bob's fault"]),
        ("A careless deploy on Friday", ["careless"]),
        ("He should have known the flag was live", ["should have known"]),
        ("They should've checked the dashboard", ["should've checked"]),
        ("Classic human error", ["human error"]),
        ("Someone dropped the ball on the rotation", ["dropped the ball"]),
        ("That was sloppy and lazy", ["sloppy", "lazy"]),
        ("The admin was negligent", ["negligent"]),
        ("who is to blame here", ["to blame"]),
    ],
)
def test_blame_phrases_are_found_as_written(text: str, found: list[str]) -> None:
    assert blame.find(text) == found


@pytest.mark.parametrize(
    "text",
    [
        "Bob restarted the primary at 10:42",
        "The deploy pipeline skipped the canary because the flag defaulted to off",
        "Alerts fired 12 minutes after the error rate rose: the window is too long",
        "A faultless failover",  # a word containing a phrase is not the phrase
        "",
    ],
)
def test_descriptions_of_systems_and_actions_are_not_blame(text: str) -> None:
    assert blame.find(text) == []


def test_lint_says_where() -> None:
    findings = blame.lint([("note at 10:02 UTC", "careless typo"), ("summary", "db failover")])
    assert [(f.where, f.phrase) for f in findings] == [("note at 10:02 UTC", "careless")]

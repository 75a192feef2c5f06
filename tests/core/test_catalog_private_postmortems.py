"""The catalog's `postmortem.private.security_level`: Jira's issue security level (its name or
its id) for private incidents' post-mortems; unset means they are not exported."""

from __future__ import annotations

import pytest

from bot.core.catalog import CatalogError, catalog_from_mapping


def private(value: object) -> object:
    return catalog_from_mapping({"postmortem": {"private": value}}).postmortem.private


def test_unset_means_private_postmortems_stay_in_slack() -> None:
    assert catalog_from_mapping({}).postmortem.private is None


@pytest.mark.parametrize(
    ("given", "level"),
    [("Incident responders", "Incident responders"), (10000, "10000"), (" Staff ", "Staff")],
)
def test_a_level_by_name_or_id(given: object, level: str) -> None:
    chosen = private({"security_level": given})
    assert chosen is not None and chosen.security_level == level  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({}, "postmortem.private.security_level: Field required"),
        ({"security_level": ""}, "postmortem.private.security_level"),
        ({"security_level": True}, "postmortem.private.security_level"),
        ({"security_level": "x", "level": "y"}, "postmortem.private.level"),
        ("Staff", "postmortem.private"),
    ],
)
def test_a_bad_setting_is_refused_with_where_it_is(value: object, problem: str) -> None:
    with pytest.raises(CatalogError, match=problem.replace(".", r"\.")):
        private(value)

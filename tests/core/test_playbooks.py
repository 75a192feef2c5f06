"""Playbook schema, catalog checks, line-accurate problems and matching precedence."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.catalog import catalog_from_mapping, default_catalog
from bot.core.playbook_lint import PlaybookError, Problem, parse_playbook, validate_against
from bot.core.playbooks import (
    LabelMatcher,
    PageAction,
    Playbook,
    RemindAction,
    format_duration,
    match_score,
    matching,
    parse_duration,
)
from bot.playbook_files import lint, load_directory, load_text

CAT = default_catalog()

GOOD = """\
name: db-failover
description: Primary database down.
match:
  severity_at_least: SEV2
  labels:
    - service=~"db|postgres.*"
roles: [comms]
steps:
  - id: page-dba
    title: Page the DBA
    due_after: 5m
    action:
      type: page
      service: database
  - id: confirm
    title: Confirm the primary is down
    runbook_url: https://runbooks.example.com/db
    owner_role: comms
    due_after: 1h30m
"""


def problems(text: str, catalog: Any = CAT) -> list[str]:
    return list(load_text(text, "pb.yaml", catalog).problems)


def replace(old: str, new: str, text: str = GOOD) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_a_good_playbook_loads() -> None:
    loaded = load_text(GOOD, "pb.yaml", CAT)
    assert loaded.problems == ()
    playbook = loaded.playbook
    assert playbook is not None and playbook.name == "db-failover"
    assert [s.id for s in playbook.steps] == ["page-dba", "confirm"]
    assert playbook.steps[0].action == PageAction(type="page", service="database")
    assert playbook.steps[0].owner_role == "commander"  # the default owner
    assert playbook.steps[1].due_after == timedelta(hours=1, minutes=30)
    assert (
        playbook.match is not None and str(playbook.match.labels[0]) == 'service=~"db|postgres.*"'
    )
    assert validate_against(playbook, CAT) == []
    other = catalog_from_mapping({"roles": [{"id": "commander", "name": "IC"}]})
    assert validate_against(playbook, other) == [
        Problem(("roles", 0), "unknown role 'comms' (known: commander)"),
        Problem(("steps", 1, "owner_role"), "unknown role 'comms' (known: commander)"),
    ]


# -- every bad case, with its line -------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "roles: [comms]\n",
            "roles: [comms]\ncolour: red\n",
            "pb.yaml:8: colour: unknown key 'colour' "
            "(allowed: name, description, match, roles, private, steps, drill)",
        ),
        (
            "    due_after: 5m\n",
            "    due_in: 5m\n",
            "pb.yaml:11: steps[0].due_in: unknown key 'due_in' "
            "(allowed: id, title, details, runbook_url, owner_role, due_after, action)",
        ),
        (
            "due_after: 5m",
            "due_after: 5 minutes",
            "pb.yaml:11: steps[0].due_after: '5 minutes' is not a duration "
            "(use e.g. 45s, 10m, 1h30m, 2d)",
        ),
        (
            "due_after: 1h30m",
            "due_after: 90",
            "pb.yaml:19: steps[1].due_after: 90 is not a duration "
            "(use a string like 45s, 10m, 1h30m, 2d)",
        ),
        (
            "due_after: 1h30m",
            "due_after: 30m1h",
            "pb.yaml:19: steps[1].due_after: '30m1h' is not a duration "
            "(use e.g. 45s, 10m, 1h30m, 2d)",
        ),
        (
            "due_after: 5m",
            "due_after: 0m",
            "pb.yaml:11: steps[0].due_after: '0m': a duration must be longer than zero",
        ),
        (
            "  - id: confirm\n",
            "  - id: page-dba\n",
            "pb.yaml:15: steps[1].id: duplicate step id 'page-dba' (step 1)",
        ),
        (
            "  - id: confirm\n",
            "  - id: Confirm_It\n",
            "pb.yaml:15: steps[1].id: 'Confirm_It' is not a slug "
            "(lowercase letters, digits and single hyphens, e.g. check-replicas)",
        ),
        (
            '    - service=~"db|postgres.*"\n',
            '    - service=~"db|(postgres"\n',
            "pb.yaml:6: match.labels[0]: 'service=~\"db|(postgres\"': invalid regex: "
            "missing ), unterminated subpattern at position 3",
        ),
        (
            '    - service=~"db|postgres.*"\n',
            "    - service==~db\n    - 9lives=yes\n",
            "pb.yaml:7: match.labels[1]: '9lives=yes' is not a label matcher "
            "(key=value, key!=value, key=~regex, key!~regex)",
        ),
        (
            "https://runbooks.example.com/db",
            "ftp://runbooks.example.com/db",
            "pb.yaml:17: steps[1].runbook_url: 'ftp://runbooks.example.com/db' is not an "
            "http(s) URL",
        ),
        (
            "https://runbooks.example.com/db",
            "runbooks.example.com/db",
            "pb.yaml:17: steps[1].runbook_url: 'runbooks.example.com/db' is not an http(s) URL",
        ),
        (
            "      service: database\n",
            "      service: database\n      users: [U123]\n",
            "pb.yaml:15: steps[0].action.users: unknown key 'users' (allowed: type, service)",
        ),
        (
            "      service: database\n",
            "",
            "pb.yaml:12: steps[0].action: missing required key 'service'",
        ),
        (
            "      type: page\n",
            "      type: pager\n",
            "pb.yaml:13: steps[0].action.type: unknown action type 'pager' (one of: page, invite, "
            "post, set_severity, remind, status_update_due, create_followup)",
        ),
        (
            "    owner_role: comms\n",
            "    owner_role: scribe\n",
            "pb.yaml:18: steps[1].owner_role: owner_role 'scribe' is not filled by this "
            "playbook: add it to `roles`",
        ),
        (
            "roles: [comms]\n",
            "roles: [comms, comms]\n",
            "pb.yaml:7: roles[1]: role 'comms' is listed twice",
        ),
        ("name: db-failover\n", "", "pb.yaml:1: missing required key 'name'"),
    ],
)
def test_schema_problems_point_at_the_offending_line(old: str, new: str, expected: str) -> None:
    assert problems(replace(old, new)) == [expected]


def test_empty_steps_and_missing_title() -> None:
    empty = GOOD[: GOOD.index("steps:")] + "steps: []\n"
    assert problems(empty) == ["pb.yaml:8: steps: a playbook needs at least one step"]
    no_title = replace("    title: Confirm the primary is down\n", "")
    assert problems(no_title) == ["pb.yaml:15: steps[1]: missing required key 'title'"]


ACTION_AT = "  - id: confirm\n"  # a third step is appended after the second one (line 20 on)


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (
            "{type: post, text: hi, to: everyone}",
            "steps[2].action.to: 'everyone' is not allowed (expected 'channel' or 'feed')",
        ),
        ("{type: post}", "steps[2].action: missing required key 'text'"),
        ("{type: invite}", "steps[2].action: invite needs users, a usergroup or both"),
        (
            "{type: invite, users: [bob]}",
            "steps[2].action.users[0]: 'bob' is not a chat user id (U…)",
        ),
        (
            "{type: remind, text: hi, every: 30s, until: resolved}",
            "steps[2].action.every: every 30s is too often (at least 1m)",
        ),
        (
            "{type: remind, text: hi, every: 5m, until: forever}",
            "steps[2].action.until: 'forever' is not allowed "
            "(expected 'resolved', 'mitigated' or 'acknowledged')",
        ),
        (
            "{type: status_update_due, every: 30m, text: hi}",
            "steps[2].action.text: unknown key 'text' (allowed: type, every)",
        ),
        (
            "{service: db}",
            "steps[2].action: an action needs a `type` (one of: page, invite, "
            "post, set_severity, remind, status_update_due, create_followup)",
        ),
    ],
)
def test_actions_with_wrong_fields(action: str, expected: str) -> None:
    text = GOOD + f"  - id: extra\n    title: Extra\n    action: {action}\n"
    assert problems(text) == [f"pb.yaml:22: {expected}"]


def test_catalog_problems_have_their_lines_too() -> None:
    text = (
        replace("severity_at_least: SEV2", "severity_at_least: sev9", GOOD)
        .replace("roles: [comms]", "roles: [comms, legal]")
        .replace("owner_role: comms", "owner_role: legal")
    )
    text += "  - id: raise\n    title: Raise\n    action: {type: set_severity, severity: SEV0}\n"
    text += "  - id: fu\n    title: Follow up\n    action:\n      type: create_followup\n"
    text += "      text: Fix it\n      owner_role: legal\n"
    assert problems(text) == [
        "pb.yaml:4: match.severity_at_least: unknown severity 'SEV9' (known: SEV1, SEV2, SEV3, SEV4)",
        "pb.yaml:7: roles[1]: unknown role 'legal' (known: commander, comms, scribe)",
        "pb.yaml:18: steps[1].owner_role: unknown role 'legal' (known: commander, comms, scribe)",
        "pb.yaml:22: steps[2].action.severity: unknown severity 'SEV0' "
        "(known: SEV1, SEV2, SEV3, SEV4)",
        "pb.yaml:28: steps[3].action.owner_role: unknown role 'legal' "
        "(known: commander, comms, scribe)",
    ]
    assert problems(text, catalog=None) == []  # the schema alone cannot know the catalog


def test_an_empty_severity_range_is_a_problem() -> None:
    text = replace("  severity_at_least: SEV2\n", "  severity_at_least: SEV2\n  severity_at_most: SEV3\n")  # fmt: skip
    assert problems(text) == [
        "pb.yaml:5: match.severity_at_most: severity_at_most SEV3 is milder than "
        "severity_at_least SEV2, so no severity matches (most severe first: SEV1, SEV2, SEV3, SEV4)"
    ]


def test_services_are_checked_only_when_the_catalog_lists_some() -> None:
    text = replace("  labels:\n", "  services: [checkout]\n  labels:\n")
    assert problems(text) == []  # the default catalog has no services: anything goes
    catalog = catalog_from_mapping({"services": {"postgres": {}, "checkout": {}}})
    assert problems(text, catalog) == [
        "pb.yaml:15: steps[0].action.service: unknown service 'database' "
        "(known: checkout, postgres)"
    ]


def test_private_playbooks_never_post_to_the_feed() -> None:
    text = replace("roles: [comms]\n", "roles: [comms]\nprivate: true\n")
    text += "  - id: tell\n    title: Tell\n    action:\n      type: post\n      to: feed\n"
    text += "      text: Breach!\n"
    assert problems(text) == [
        "pb.yaml:25: steps[2].action.to: a private playbook must not post to the public feed"
    ]
    assert problems(text.replace("to: feed", "to: channel")) == []


def test_yaml_errors_and_duplicate_keys_report_their_own_lines() -> None:
    broken = replace("    title: Page the DBA\n", "    title: [Page the DBA\n")
    (problem,) = problems(broken)
    assert problem.startswith("pb.yaml:11: invalid YAML: while parsing a flow sequence")
    duplicate = replace("    title: Page the DBA\n", "    title: Page the DBA\n    title: Again\n")
    assert problems(duplicate) == ["pb.yaml:11: duplicate key 'title' (first at line 10)"]
    assert problems("") == ["pb.yaml:1: empty file: expected a playbook"]
    assert problems("- a\n- b\n") == ["pb.yaml:1: expected a mapping (key: value)"]
    assert problems("name: a\n---\nname: b\n") == [
        "pb.yaml:2: invalid YAML: expected a single document in the stream, "
        "but found another document"
    ]


def test_parse_playbook_raises_with_every_problem() -> None:
    with pytest.raises(PlaybookError) as caught:
        parse_playbook({"name": "x", "steps": [{"id": "a", "titel": "A"}]})
    assert caught.value.problems == [
        Problem((), "missing required key 'description'"),
        Problem(("steps", 0), "missing required key 'title'"),
        Problem(("steps", 0, "titel"), "unknown key 'titel' (did you mean 'title'?)"),
    ]
    assert str(caught.value.problems[0]) == "missing required key 'description'"
    assert str(caught.value.problems[2]).startswith("steps[0].titel: unknown key")


# -- durations and matchers --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45s", timedelta(seconds=45)),
        ("10m", timedelta(minutes=10)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d", timedelta(days=2)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
    ],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected
    assert format_duration(expected) == text


@pytest.mark.parametrize("text", ["", "10", "1.5h", "10 m", "1m1h", "1w", "-5m", "m", "0s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("matcher", "labels", "expected"),
    [
        ("service=db", {"service": "db"}, True),
        ("service=db", {"service": "db2"}, False),
        ("service!=db", {"service": "db2"}, True),
        ("service!=db", {}, True),  # a missing label is the empty string
        ('service=""', {}, True),
        ('service=~"db|postgres.*"', {"service": "postgres-main"}, True),
        ('service=~"db|postgres.*"', {"service": "mydb"}, False),  # anchored at the start
        ('service=~"db|postgres.*"', {"service": "db-replica"}, False),  # and at the end
        ("service=~db", {}, False),
        ("service!~db.*", {"service": "db-1"}, False),
        ("service!~db.*", {"service": "api"}, True),
        ("service!~db.*", {}, True),
        ("service=~.*", {}, True),
        ('alertname=~"(?i).*5xx.*"', {"alertname": "CheckoutHigh5XX"}, True),
        (' team = "a \\"b\\"" ', {"team": 'a "b"'}, True),
    ],
)
def test_label_matchers(matcher: str, labels: dict[str, str], expected: bool) -> None:
    assert LabelMatcher.model_validate(matcher).matches(labels) is expected


# -- matching precedence -----------------------------------------------------------------------
def playbook(name: str, **match: Any) -> Playbook:
    data: dict[str, Any] = {"name": name, "description": name, "steps": [{"id": "a", "title": "A"}]}
    if match:
        data["match"] = {} if match == {"any": True} else match
    return Playbook.model_validate(data)


def names(playbooks: list[Playbook], severity: str = "SEV2", **kwargs: Any) -> list[str]:
    service = kwargs.pop("service", None)
    labels = kwargs.pop("labels", {})
    found = matching(playbooks, severity=severity, service=service, labels=labels, catalog=CAT)
    return [p.name for p in found]


def test_most_specific_first_then_by_name() -> None:
    books = [
        playbook("generic", any=True),
        playbook("sev2-plus", severity_at_least="SEV2"),
        playbook("db", labels=['service=~"db|postgres.*"']),
        playbook("db-sev", labels=['service=~"db|postgres.*"'], severity_at_least="SEV2"),
        playbook("db-primary", labels=['service=~"db|postgres.*"', "role=primary"]),
        playbook("checkout", services=["checkout"]),
        playbook("manual-only"),  # no match section: never picked automatically
    ]
    labels = {"service": "postgres-main", "role": "primary"}
    # db-primary and db-sev both have 2 constraints: the name breaks the tie
    assert names(books, labels=labels) == ["db-primary", "db-sev", "db", "sev2-plus", "generic"]
    assert names(books, "SEV3", labels=labels) == ["db-primary", "db", "generic"]
    assert names(books, "SEV3", service="Checkout") == ["checkout", "generic"]
    assert names(books, "SEV3") == ["generic"]


@pytest.mark.parametrize(
    ("severity", "expected"),
    [("SEV1", False), ("SEV2", True), ("SEV3", True), ("SEV4", False), ("sev3", True)],
)
def test_severity_bounds_are_inclusive(severity: str, expected: bool) -> None:
    ranged = playbook("mid", severity_at_least="SEV3", severity_at_most="SEV2")
    score = match_score(ranged, severity=severity, service=None, labels={}, catalog=CAT)
    assert (score == 2) if expected else (score is None)


def test_unknown_incident_severity_matches_no_bounded_playbook() -> None:
    books = [playbook("bounded", severity_at_most="SEV4"), playbook("any", any=True)]
    assert names(books, "SEV9") == ["any"]


def test_services_match_any_listed_and_need_a_service() -> None:
    books = [playbook("svc", services=["api", "web"])]
    assert names(books, service="web") == ["svc"]
    assert names(books, service=None) == []
    assert names(books, service="db") == []


def test_actions_parse_durations_and_round_trip() -> None:
    parsed = parse_playbook(
        {
            "name": "x",
            "description": "d",
            "steps": [
                {
                    "id": "r",
                    "title": "R",
                    "action": {"type": "remind", "text": "t", "every": "15m", "until": "mitigated"},
                }
            ],
        },
        CAT,
    )
    action = parsed.steps[0].action
    assert isinstance(action, RemindAction) and action.every == timedelta(minutes=15)


# -- directories -------------------------------------------------------------------------------
def test_directory_duplicate_names_and_lint(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b.yml").write_text("# same name\n" + GOOD, encoding="utf-8")
    (tmp_path / "c.yaml").write_text(GOOD.replace("db-failover", "other", 1), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a playbook", encoding="utf-8")
    loaded = load_directory(tmp_path, CAT)
    assert [p.name for p in loaded.playbooks] == ["db-failover", "other"]
    assert loaded.sources["other"] == tmp_path / "c.yaml"
    assert loaded.problems == (
        f"{tmp_path / 'b.yml'}:2: duplicate playbook name 'db-failover' (also in {tmp_path / 'a.yaml'})",
    )
    assert lint(tmp_path, CAT) == list(loaded.problems)
    (tmp_path / "d.yaml").write_text("name: [\n", encoding="utf-8")
    assert lint(tmp_path, CAT)[0].startswith(f"{tmp_path / 'b.yml'}:2: duplicate")
    assert lint(tmp_path, CAT)[1].startswith(f"{tmp_path / 'd.yaml'}:2: invalid YAML")


def test_lint_of_a_missing_or_empty_directory(tmp_path: Path) -> None:
    assert lint(tmp_path, CAT) == [f"{tmp_path}: no playbook files (*.yaml, *.yml)"]
    assert lint(tmp_path / "nope", CAT) == [f"{tmp_path / 'nope'}: not a directory"]


@pytest.mark.parametrize("matcher", ['x=~"a)|(b"', "x!~[", 'x="open', "x=~(?i"])
def test_bad_regexes_and_quotes_are_refused(matcher: str) -> None:
    with pytest.raises(ValueError, match=r"invalid regex|unterminated"):
        LabelMatcher.model_validate(matcher)

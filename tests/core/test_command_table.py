"""One table of `/incident` sub-commands: the help reply, the manifest's usage hint and the
README's table all come from `bot.core.commands.SUBCOMMANDS` and cannot drift apart. Its help
lines are neutral; Slack's help (and the README, which documents Slack) adds how it is done there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.adapters.slack.replies import HINTS, help_blocks, help_line
from bot.core import commands as c
from bot.core.catalog import default_catalog

ROOT = Path(__file__).resolve().parents[2]
CAT = default_catalog()


def readme_rows() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("| command | what it does | who may run it |")
    rows = []
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def expected_rows() -> list[str]:
    def cell(value: str) -> str:
        return value.replace("|", "\\|")

    return [
        f"| `/incident {cell(e.command(CAT))}` | {cell(help_line(e, CAT))} | {cell(e.who)} |"
        for e in c.SUBCOMMANDS
    ]


def test_the_readme_table_is_the_command_table() -> None:
    expected = "\n".join(expected_rows())
    assert "\n".join(readme_rows()) == expected, f"README.md's table should read:\n{expected}"


def test_the_manifest_usage_hint_is_generated_from_the_table() -> None:
    manifest = yaml.safe_load((ROOT / "slack_manifest.yaml").read_text(encoding="utf-8"))
    (command,) = manifest["features"]["slash_commands"]
    assert command["usage_hint"] == c.usage_hint()


def test_help_lists_every_sub_command_once() -> None:
    text, _ = help_blocks(CAT)
    for entry in c.SUBCOMMANDS:
        assert text.count(f"`/incident {entry.command(CAT)}`") == 1


def test_slacks_help_adds_its_own_hints_to_the_neutral_lines() -> None:
    by_name = {e.name: e for e in c.SUBCOMMANDS}
    assert set(HINTS) <= set(by_name)  # no hint for a sub-command that is gone
    text, _ = help_blocks(CAT)
    note = by_name["note"]
    assert ":pushpin:" not in note.summary
    assert f"`/incident {note.command(CAT)}` — {note.summary} · {HINTS['note']}\n" in text
    assert ":pushpin:" in HINTS["note"]


def test_names_and_aliases_are_unique_and_no_role_shadows_them() -> None:
    names = [n for e in c.SUBCOMMANDS if e.name != c.ROLE for n in (e.name, *e.aliases)]
    assert len(names) == len(set(names))
    assert not {r.id for r in CAT.roles} & set(names)


@pytest.mark.parametrize(
    "name", [n for e in c.SUBCOMMANDS if e.name != c.ROLE for n in (e.name, *e.aliases)]
)
def test_every_name_and_alias_is_understood(name: str) -> None:
    assert c.parse(name, CAT) != c.Help(unknown=name)


@pytest.mark.parametrize("role", [r.id for r in CAT.roles])
def test_the_catalog_roles_are_sub_commands(role: str) -> None:
    assert c.parse(role, CAT) == c.SetRole(role, None)


def test_usage_text_names_its_arguments_like_slack_shows_them() -> None:
    for entry in c.SUBCOMMANDS:
        assert re.fullmatch(r"[\w|<>\[\]\.@ -]*", entry.usage), entry.usage

"""The `incidentbot` command as an operator meets it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    for name in ("INCIDENTBOT_CONFIG", "SLACK_APP_TOKEN", "API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name in ("serve", "demo", "emulators", "db"):
        assert name in result.output


def test_serve_refuses_an_empty_or_old_schema_and_names_the_fix(env: Path) -> None:
    result = runner.invoke(app, ["serve", "--port", "0"])
    assert result.exit_code == 2
    assert "incidentbot db upgrade" in result.output


def test_db_upgrade_is_idempotent(env: Path) -> None:
    from bot.store.db import Database

    head = Database(f"sqlite:///{env / 'bot.db'}").head_revision()
    first = runner.invoke(app, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert f"empty → {head}" in first.output.replace("\n", " ")
    second = runner.invoke(app, ["db", "upgrade"])
    assert f"{head} → {head}" in second.output.replace("\n", " ")


def test_scheduler_refuses_an_old_schema(env: Path) -> None:
    result = runner.invoke(app, ["scheduler"])
    assert result.exit_code == 2 and "incidentbot db upgrade" in result.output


def test_serve_names_missing_slack_settings(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "SLACK_BOT_TOKEN" in result.output


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("severities: [", "not valid YAML"),
        ("- just a list", "top level must be a mapping"),
        ("roles: [{id: comms, name: Comms}]", "must include 'commander'"),
        (
            "statuses: [{id: open, name: Open, phase: active}]",
            "exactly one status must have phase 'resolved'",
        ),
    ],
)
def test_a_bad_catalog_is_reported_with_its_path(
    env: Path, monkeypatch: pytest.MonkeyPatch, content: str, needle: str
) -> None:
    catalog = env / "catalog.yaml"
    catalog.write_text(content)
    monkeypatch.setenv("INCIDENTBOT_CONFIG", str(catalog))
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert str(catalog) in result.output.replace("\n", "") and needle in result.output.replace(
        "\n", " "
    )


def test_a_missing_catalog_file_is_reported(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCIDENTBOT_CONFIG", str(env / "nope.yaml"))
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2 and "cannot read it" in result.output


def test_playbooks_lint_reports_file_and_line_and_fails(env: Path) -> None:
    shipped = Path(__file__).resolve().parents[1] / "playbooks"
    ok = runner.invoke(app, ["playbooks", "lint", str(shipped)])
    assert ok.exit_code == 0 and "playbooks OK" in ok.output
    bad = env / "bad"
    bad.mkdir()
    (bad / "x.yaml").write_text(
        "name: x\ndescription: d\nsteps:\n  - id: a\n    title: t\n    due_after: soon\n"
    )
    result = runner.invoke(app, ["playbooks", "lint", str(bad)])
    assert result.exit_code == 1
    assert f"{bad / 'x.yaml'}:6: steps[0].due_after: 'soon' is not a duration" in result.output


def test_drill_names_the_playbooks_when_it_does_not_know_one(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAYBOOKS_DIR", str(Path(__file__).resolve().parents[1] / "playbooks"))
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(app, ["drill", "nope"])
    assert result.exit_code == 1
    assert "No playbook `nope` to drill" in result.output and "high-error-rate" in result.output

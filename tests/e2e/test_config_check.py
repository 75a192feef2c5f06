"""`incidentbot config check` against the emulators: everything reachable passes; a wrong
credential or a missing template fails with what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from bot.checks import run_checks
from bot.cli import app
from bot.sandbox import Sandbox


def by_name(checks: list) -> dict:  # type: ignore[type-arg]
    return {c.name: c for c in checks}


def test_everything_reachable_passes(sb: Sandbox) -> None:
    checks = by_name(run_checks(sb.settings))
    assert all(c.ok for c in checks.values()), [c for c in checks.values() if not c.ok]
    assert checks["slack"].detail.startswith("bot incidentbot")
    assert "token accepted" in checks["pagerduty"].detail
    assert "project OPS" in checks["jira"].detail
    assert "5 playbooks" in checks["playbooks"].detail


def test_wrong_credentials_and_missing_templates_say_what_to_fix(
    sb: Sandbox, tmp_path: Path
) -> None:
    broken = sb.settings.model_copy(
        update={
            "slack_bot_token": SecretStr("xoxb-wrong"),
            "jira_api_token": SecretStr("wrong"),
            "postmortem_templates_dir": tmp_path,
        }
    )
    checks = by_name(run_checks(broken))
    assert not checks["slack"].ok and "invalid_auth" in checks["slack"].detail
    assert not checks["jira"].ok and "JIRA_API_TOKEN" in checks["jira"].fix
    assert (
        not checks["post-mortem templates"].ok
        and "default.md.j2" in checks["post-mortem templates"].detail
    )
    assert checks["pagerduty"].ok


def test_the_command_exits_non_zero_with_a_table(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", sb.settings.database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-wrong")
    monkeypatch.setenv("SLACK_API_URL", sb.settings.slack_api_url)
    result = CliRunner().invoke(app, ["config", "check"])
    assert result.exit_code == 1
    assert "slack" in result.output and "invalid_auth" in result.output

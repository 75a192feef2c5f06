"""The environment block the sandbox prints gives `Settings()` back exactly the settings it was
made from — through a `.env` file and through a POSIX shell alike, whatever the values hold."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from bot.sandbox_env import env_lines, settings_environment
from bot.settings import Settings


@pytest.fixture
def no_settings_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [k for k in os.environ if k.lower() in Settings.model_fields]:
        monkeypatch.delenv(name)


def _awkward() -> Settings:
    return Settings(
        _env_file=None,
        slack_bot_token="xoxb-1",
        public_url="http://127.0.0.1:8080",
        trusted_proxy_header="X Forwarded #1 $HOME `x`",
        api_token='it\'s a \\ "quoted" secret',
        jira_timeout=2.5,
        playbooks_dir=Path("/a b/playbooks"),
    )


def test_only_what_differs_from_the_defaults_is_printed_under_the_names_settings_read() -> None:
    environment = settings_environment(_awkward())
    assert set(environment) == {
        "SLACK_BOT_TOKEN",
        "PUBLIC_URL",
        "TRUSTED_PROXY_HEADER",
        "API_TOKEN",
        "JIRA_TIMEOUT",
        "PLAYBOOKS_DIR",
    }
    assert environment["API_TOKEN"] == 'it\'s a \\ "quoted" secret'  # secrets in clear


def test_a_dotenv_of_the_lines_gives_the_same_settings(
    tmp_path: Path, no_settings_in_env: None
) -> None:
    settings = _awkward()
    dotenv = tmp_path / ".env"
    dotenv.write_text("\n".join(env_lines(settings_environment(settings))) + "\n")
    assert Settings(_env_file=dotenv) == settings


def test_a_shell_sourcing_the_lines_exports_the_same_values(tmp_path: Path) -> None:
    environment = settings_environment(_awkward())
    script = tmp_path / "env.sh"
    script.write_text("\n".join(env_lines(environment)) + "\n")
    for name, value in environment.items():
        shown = subprocess.run(
            ["/bin/sh", "-c", f'set -a; . "{script}"; printf %s "${name}"'],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert shown == value, name

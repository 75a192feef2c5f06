"""A configuration or environment error, met by any command, ends it with the setting's name
(the environment variable), what is wrong and the fix — at most a few lines, exit code 2, never
a traceback. Each case runs the real `python -m bot …` in a fresh process, with only the
environment the case sets, from an empty directory (no stray .env)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.emulators.jira import JiraEmulator
from bot.emulators.pagerduty import PagerDutyEmulator
from bot.emulators.slack import SlackEmulator
from bot.store.db import Database

ROOT = Path(__file__).resolve().parents[1]
SETTING_PREFIXES = (
    "DATABASE_",
    "SLACK_",
    "PAGERDUTY_",
    "OPSGENIE_",
    "JIRA_",
    "INCIDENTBOT_",
    "LOG_",
)
ROUTING_KEY = "R" * 32


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str

    @property
    def said(self) -> list[str]:
        """What the operator reads: the lines that are not JSON log lines."""
        lines = (self.out + self.err).splitlines()
        return [line for line in lines if line.strip() and not line.startswith("{")]


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[CLI]:
    yield CLI(tmp_path)


class CLI:
    """`python -m bot` in `workdir` with a clean environment plus what a case sets."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.env: dict[str, str] = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(SETTING_PREFIXES)
            and k not in ("API_TOKEN", "PLAYBOOKS_DIR", "POSTMORTEM_TEMPLATES_DIR")
        }
        self.env["PYTHONPATH"] = str(ROOT)
        self.env["DATABASE_URL"] = f"sqlite:///{workdir / 'bot.db'}"

    def upgraded(self) -> CLI:
        Database(self.env["DATABASE_URL"]).upgrade()
        return self

    def run(self, *args: str, **env: str) -> Ran:
        done = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            env={**self.env, **env},
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Ran(done.returncode, done.stdout, done.stderr)


def told(ran: Ran, setting: str, *needles: str, lines: int = 2) -> str:
    """Exit 2, no traceback, `setting` named first, `needles` said, in at most `lines` lines."""
    everything = ran.out + ran.err
    assert ran.code == 2, everything
    assert "Traceback" not in everything and 'File "' not in everything, everything
    said = "\n".join(ran.said)
    assert ran.said and ran.said[0].startswith(f"{setting}: "), said
    assert "fix:" in said, said
    for needle in needles:
        assert needle in said, said
    assert len(ran.said) <= lines, said
    return said


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- DATABASE_URL ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "needles"),
    [
        ("notaurl", ["'notaurl' is not a database URL", "sqlite:///", "postgresql+psycopg://"]),
        ("mysql://bot:hunter22@db/incidents", ["'mysql'", "SQLite or PostgreSQL", "sqlite:///"]),
        ("postgresql+psycopg2://bot@db/incidents", ["'postgresql+psycopg2'", "psycopg"]),
    ],
)
def test_a_database_url_incidentbot_cannot_use(cli: CLI, url: str, needles: list[str]) -> None:
    said = told(cli.run("db", "upgrade", DATABASE_URL=url), "DATABASE_URL", *needles)
    assert "hunter22" not in said


def test_postgresql_that_is_not_running(cli: CLI) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/incidentbot"
    ran = cli.run("scheduler", "--metrics-port", "0", DATABASE_URL=url)
    told(ran, "DATABASE_URL", "connection refused", "start")


@pytest.fixture
def postgres(cli: CLI) -> str:
    url = os.environ.get("INCIDENTBOT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1/")
    parsed = make_url(url)
    try:
        socket.create_connection((parsed.host or "127.0.0.1", parsed.port or 5432), 0.5).close()
    except OSError:
        pytest.skip("PostgreSQL is not reachable")
    return url


def test_a_postgresql_database_that_does_not_exist(cli: CLI, postgres: str) -> None:
    url = make_url(postgres).set(database="incidentbot_no_such_database")
    ran = cli.run("db", "upgrade", DATABASE_URL=url.render_as_string(hide_password=False))
    told(ran, "DATABASE_URL", "no database 'incidentbot_no_such_database'", "createdb")


def test_a_postgresql_user_that_does_not_exist(cli: CLI, postgres: str) -> None:
    url = make_url(postgres).set(username="incidentbot_no_such_user", password=None)
    ran = cli.run("report", DATABASE_URL=url.render_as_string(hide_password=False))
    told(ran, "DATABASE_URL", "no user 'incidentbot_no_such_user'")


@pytest.mark.parametrize(
    "refusal",
    [
        'FATAL:  password authentication failed for user "bot"',
        'FATAL:  no pg_hba.conf entry for host "10.0.0.9", user "bot", database "incidents"',
    ],
)
def test_postgresql_refusing_the_user(refusal: str) -> None:
    """(The test server trusts every local user: psycopg's words for a refusal, as it says them.)"""
    from sqlalchemy.exc import OperationalError

    from bot import database_problems

    orig = Exception(
        f'connection failed: connection to server at "db", port 5432 failed: {refusal}'
    )
    url = "postgresql+psycopg://bot:hunter22@db:5432/incidents"
    explained = database_problems.explain(OperationalError("connect", {}, orig), url)
    assert explained is not None
    what, fix = explained
    assert what == f"PostgreSQL at db:5432 refused user 'bot' ({refusal.removeprefix('FATAL:  ')})"
    assert "hunter22" not in what + fix
    assert fix.startswith("fix the user and password in DATABASE_URL")


def test_log_level_debug_logs_the_traceback_too(cli: CLI) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/incidentbot"
    ran = cli.run("scheduler", "--metrics-port", "0", DATABASE_URL=url, LOG_LEVEL="debug")
    assert ran.code == 2 and ran.said[0].startswith("DATABASE_URL: nothing accepts connections")
    logged = [json.loads(line) for line in ran.err.splitlines() if line.startswith("{")]
    (error,) = [line for line in logged if line["event"].startswith("configuration error")]
    assert error["level"] == "debug" and "Traceback" in error["exception"]


def test_a_sqlite_file_in_a_folder_that_does_not_exist(cli: CLI, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'bot.db'}"
    ran = cli.run("db", "upgrade", DATABASE_URL=url)
    told(ran, "DATABASE_URL", f"{tmp_path / 'no' / 'such'} does not exist", "mkdir -p")


def test_a_sqlite_file_under_a_file(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("not a folder")
    ran = cli.run("outbox", "list", DATABASE_URL=f"sqlite:///{tmp_path / 'plain' / 'bot.db'}")
    told(ran, "DATABASE_URL", "is a file, not a folder")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in any folder")
def test_a_sqlite_file_in_a_folder_this_user_cannot_write(cli: CLI, tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    ran = cli.run("db", "upgrade", DATABASE_URL=f"sqlite:///{locked / 'bot.db'}")
    told(ran, "DATABASE_URL", "is not writable")


def test_a_file_that_is_not_a_sqlite_database(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("these are not the tables you are looking for\n" * 100)
    ran = cli.run("db", "upgrade", DATABASE_URL=f"sqlite:///{tmp_path / 'notes.txt'}")
    told(ran, "DATABASE_URL", "is not a SQLite database")


def test_serve_without_slack_settings(cli: CLI) -> None:
    said = told(cli.upgraded().run("serve"), "SLACK_BOT_TOKEN", "not set", lines=3)
    assert "SLACK_SIGNING_SECRET: not set (or SLACK_APP_TOKEN for Socket Mode)" in said


# -- certificate files, keys and other settings -----------------------------------------------------
@pytest.mark.parametrize("setting", ["PAGERDUTY_CA_BUNDLE", "JIRA_CA_BUNDLE"])
@pytest.mark.parametrize(
    ("value", "needle"),
    [("", "is set but empty"), ("missing.pem", "missing.pem: no such file")],
)
def test_a_ca_bundle_that_is_no_file(cli: CLI, setting: str, value: str, needle: str) -> None:
    told(cli.upgraded().run("serve", **{setting: value}), setting, needle, "PEM")


def test_a_ca_bundle_without_a_certificate(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("not a certificate\n")
    ran = cli.run("drill", "x", JIRA_CA_BUNDLE=str(tmp_path / "ca.pem"))
    told(ran, "JIRA_CA_BUNDLE", "holds no PEM CA certificate", "BEGIN CERTIFICATE")


def test_config_check_reports_a_bad_ca_bundle_instead_of_crashing(cli: CLI) -> None:
    ran = cli.run("config", "check", PAGERDUTY_CA_BUNDLE="", PAGERDUTY_API_TOKEN="pd-token")
    everything = ran.out + ran.err
    assert ran.code != 0 and "Traceback" not in everything
    assert "pagerduty_ca_bundle" in everything.lower() and "is set but empty" in everything


def test_a_templates_folder_that_is_not_there(cli: CLI, tmp_path: Path) -> None:
    ran = cli.run("db", "upgrade", POSTMORTEM_TEMPLATES_DIR=str(tmp_path / "templates"))
    told(ran, "POSTMORTEM_TEMPLATES_DIR", "templates: no such folder")


def test_a_playbooks_folder_that_is_a_file(cli: CLI, tmp_path: Path) -> None:
    (tmp_path / "playbooks.yaml").write_text("name: x\n")
    ran = cli.run("drill", "x", PLAYBOOKS_DIR=str(tmp_path / "playbooks.yaml"))
    told(ran, "PLAYBOOKS_DIR", "is a file, not a folder")


def test_a_routing_key_of_the_wrong_length_and_the_key_is_not_shown(cli: CLI) -> None:
    said = told(cli.run("drill", "x", PAGERDUTY_ROUTING_KEY="short-key"), "PAGERDUTY_ROUTING_KEY")
    assert "has 9 characters" in said and "32" in said and "short-key" not in said


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ("acme.app.opsgenie.com", "is not a web address"),
        ("https://api.eu.opsgenie.com", "is the API's address"),
    ],
)
def test_an_opsgenie_app_url_that_links_cannot_be_built_on(
    cli: CLI, value: str, needle: str
) -> None:
    ran = cli.run("drill", "x", OPSGENIE_APP_URL=value)
    told(ran, "OPSGENIE_APP_URL", needle, "https://<your-site>.app.opsgenie.com", "/jira/ops")


def test_several_bad_settings_one_line_each_with_the_value(cli: CLI) -> None:
    ran = cli.run("report", LOG_FORMAT="xml", JIRA_TIMEOUT="-1", LOG_LEVEL="loud")
    said = told(ran, "JIRA_TIMEOUT", "'-1'", "'xml'", "'loud'", lines=6)
    named = [line.split(":")[0] for line in ran.said if not line.startswith(" ")]
    assert sorted(named) == ["JIRA_TIMEOUT", "LOG_FORMAT", "LOG_LEVEL"], said
    assert "json or console" in said


# -- the catalog (INCIDENTBOT_CONFIG) ----------------------------------------------------------
def test_a_catalog_value_is_named_with_its_file_and_line(cli: CLI, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        "services:\n  - id: checkout\n    pagerduty:\n      routing_key: too-short\n"
    )
    ran = cli.run("drill", "x", INCIDENTBOT_CONFIG=str(catalog))
    told(ran, "INCIDENTBOT_CONFIG", f"{catalog}:4: services[0].pagerduty.routing_key", "32")


def test_catalog_yaml_that_does_not_parse_is_named_with_its_line(cli: CLI, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("roles:\n  - {id: commander, name: IC}\nseverities: [\n")
    ran = cli.run("db", "upgrade", INCIDENTBOT_CONFIG=str(catalog))
    told(ran, "INCIDENTBOT_CONFIG", f"{catalog}:4: not valid YAML")


def test_a_catalog_file_that_is_missing(cli: CLI, tmp_path: Path) -> None:
    ran = cli.upgraded().run("serve", INCIDENTBOT_CONFIG=str(tmp_path / "nope.yaml"))
    told(ran, "INCIDENTBOT_CONFIG", "nope.yaml: cannot read it", "incidentbot.example.yaml")


# -- tokens a vendor refuses ---------------------------------------------------------------------
@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


def slack_env(slack: SlackEmulator, **more: str) -> dict[str, str]:
    return {"SLACK_API_URL": slack.api_url, "SLACK_BOT_TOKEN": slack.bot_token, **more}


@pytest.mark.parametrize(
    "command", [["serve", "--port", "0"], ["scheduler", "--metrics-port", "0"], ["drill", "x"]]
)
def test_a_bot_token_slack_refuses(cli: CLI, slack: SlackEmulator, command: list[str]) -> None:
    env = slack_env(slack, SLACK_BOT_TOKEN="xoxb-revoked-long-ago", SLACK_SIGNING_SECRET="s" * 8)
    told(cli.upgraded().run(*command, **env), "SLACK_BOT_TOKEN", "invalid_auth", "xoxb-…")


def test_an_app_token_slack_refuses_when_socket_mode_connects(
    cli: CLI, slack: SlackEmulator
) -> None:
    revoked = slack.issue_app_token()
    slack.revoke_app_token(revoked)
    ran = cli.upgraded().run("serve", "--port", "0", **slack_env(slack, SLACK_APP_TOKEN=revoked))
    said = told(ran, "SLACK_APP_TOKEN", "invalid_auth", "connections:write")
    assert revoked not in said


def test_a_pagerduty_token_pagerduty_refuses(cli: CLI, slack: SlackEmulator) -> None:
    with PagerDutyEmulator() as pagerduty:
        env = slack_env(
            slack,
            SLACK_SIGNING_SECRET="signing-secret",
            PAGERDUTY_API_TOKEN="not-the-pagerduty-token",
            PAGERDUTY_API_URL=pagerduty.url,
            PAGERDUTY_EVENTS_URL=pagerduty.url,
            PAGERDUTY_CA_BUNDLE=pagerduty.ca_bundle,
        )
        ran = cli.upgraded().run("serve", "--port", "0", **env)
    told(ran, "PAGERDUTY_API_TOKEN", "PagerDuty refused the API token (401)", "API Access Keys")


@pytest.mark.parametrize(
    ("flavour", "setting"), [("cloud", "JIRA_API_TOKEN"), ("server", "JIRA_PAT")]
)
def test_jira_credentials_jira_refuses(
    cli: CLI, slack: SlackEmulator, flavour: str, setting: str
) -> None:
    with JiraEmulator(flavour) as jira:  # type: ignore[arg-type]
        credentials = (
            {"JIRA_EMAIL": jira.email, "JIRA_API_TOKEN": "wrong-api-token"}
            if flavour == "cloud"
            else {"JIRA_PAT": "wrong-personal-access-token"}
        )
        env = slack_env(
            slack,
            SLACK_SIGNING_SECRET="signing-secret",
            JIRA_URL=jira.url,
            JIRA_PROJECT=jira.project_key,
            JIRA_CA_BUNDLE=jira.ca_bundle,
            **credentials,
        )
        ran = cli.upgraded().run("drill", "x", **env)
    told(ran, setting, "Jira refused the credentials (401)", "JIRA_PAT")

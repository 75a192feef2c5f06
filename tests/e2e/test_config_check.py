"""`incidentbot config check` proves the first incident will work: against the emulators seeded
right every check passes; seeded wrong, the check that names the problem fails (or warns) and its
fix names the setting to change. The command itself runs as a real process for the exit codes
and the JSON that CI reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from bot.checks import Check, Level, run_checks
from bot.checks.slack import SCOPES
from bot.sandbox import Sandbox, manifest_scopes
from bot.settings import Settings


@pytest.fixture
def lone(tmp_path: Path) -> Iterator[Sandbox]:
    """The sandbox on SQLite only: what is seeded wrong is not the database."""
    with Sandbox(f"sqlite:///{tmp_path / 'incidentbot.db'}") as sandbox:
        yield sandbox


def checks_of(settings: Settings) -> dict[str, Check]:
    return {c.name: c for c in run_checks(settings)}


def failed(settings: Settings, name: str) -> Check:
    check = checks_of(settings)[name]
    assert check.level is Level.FAILED, check
    return check


def with_catalog(sb: Sandbox, path: Path, **sections: Any) -> Settings:
    """The sandbox's settings with its catalog changed (each section replaced)."""
    path.write_text(yaml.safe_dump({**sb.catalog(), **sections}), encoding="utf-8")
    return sb.settings.model_copy(update={"incidentbot_config": path})


def env_of(settings: Settings) -> dict[str, str]:
    """The process environment that gives these settings (and no others)."""
    names = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k not in names}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is not None:
            secret = getattr(value, "get_secret_value", None)
            env[name.upper()] = secret() if secret else str(value)
    return env


def config_check(settings: Settings, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "config", "check", *args],
        env=env_of(settings),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# -- seeded right ---------------------------------------------------------------------------------
def test_the_sandbox_passes_every_check_without_a_warning(sb: Sandbox) -> None:
    checks = checks_of(sb.settings)
    assert [c for c in checks.values() if c.level is not Level.OK] == []
    assert checks["slack"].detail.startswith("bot incidentbot")
    assert "(chat:write.public)" in checks["slack incidents channel"].detail
    assert "alice@example.com" in checks["pagerduty from email"].detail
    for service in ("checkout-api", "payments", "database"):
        assert "Events API v2 integration" in checks[f"pagerduty service {service}"].detail
    assert checks["jira project"].detail.startswith("OPS")
    assert "Relates" in checks["jira link type"].detail
    assert "5 playbooks" in checks["playbooks"].detail


def test_the_scopes_checked_are_the_manifests() -> None:
    assert manifest_scopes() == SCOPES


def test_json_for_ci_exit_0_when_green_1_when_a_check_fails(lone: Sandbox, tmp_path: Path) -> None:
    done = config_check(lone.settings, tmp_path, "--json")
    assert done.returncode == 0, done.stderr
    checks = json.loads(done.stdout)
    assert {tuple(sorted(c)) for c in checks} == {("detail", "fix", "level", "name", "ok")}
    assert all(c["ok"] and c["level"] == "ok" for c in checks)

    wrong = lone.settings.model_copy(update={"slack_incidents_channel": "#nowhere"})
    done = config_check(wrong, tmp_path, "--json")
    assert done.returncode == 1
    bad = [c for c in json.loads(done.stdout) if not c["ok"]]
    assert [(c["name"], c["level"]) for c in bad] == [("slack incidents channel", "failed")]
    assert "SLACK_INCIDENTS_CHANNEL" in bad[0]["fix"]


def test_unset_api_token_public_url_and_alert_token_are_warnings_only(
    lone: Sandbox, tmp_path: Path
) -> None:
    bare = lone.settings.model_copy(
        update={"api_token": None, "public_url": None, "alert_webhook_token": None}
    )
    done = config_check(bare, tmp_path, "--json")
    assert done.returncode == 0, done.stdout
    warned = {c["name"]: c for c in json.loads(done.stdout) if c["level"] == "warning"}
    assert set(warned) == {"api token", "public url", "alert webhook token"}
    assert all(c["ok"] for c in warned.values())
    assert "/api/incidents" in warned["api token"]["detail"]
    assert "API_TOKEN" in warned["api token"]["fix"]
    assert "review-page link" in warned["public url"]["detail"]
    assert "PUBLIC_URL" in warned["public url"]["fix"]
    assert "/webhooks/alertmanager" in warned["alert webhook token"]["detail"]
    assert "ALERT_WEBHOOK_TOKEN" in warned["alert webhook token"]["fix"]

    table = config_check(bare, tmp_path)
    assert table.returncode == 0
    assert "3 warning(s)" in table.stderr


# -- Slack ----------------------------------------------------------------------------------------
def test_an_incidents_channel_that_does_not_exist_fails(lone: Sandbox) -> None:
    by_name = lone.settings.model_copy(update={"slack_incidents_channel": "#incidents"})
    assert checks_of(by_name)["slack incidents channel"].ok  # a name, as the bot may be given
    for ref in ("#no-such-channel", "C0NOSUCH1"):
        wrong = lone.settings.model_copy(update={"slack_incidents_channel": ref})
        check = failed(wrong, "slack incidents channel")
        assert "channel_not_found" in check.detail
        assert "SLACK_INCIDENTS_CHANNEL" in check.fix


def test_a_private_channel_without_the_bot_fails(lone: Sandbox) -> None:
    alice = lone.slack.user_id("alice")
    lone.slack.add_channel("war-room", is_private=True, members=[alice])
    wrong = lone.settings.model_copy(update={"slack_incidents_channel": "war-room"})
    check = failed(wrong, "slack incidents channel")
    assert "channel_not_found" in check.detail
    assert "SLACK_INCIDENTS_CHANNEL" in check.fix and "/invite @incidentbot" in check.fix

    bot = lone.slack.bot_user_id
    room = lone.slack.add_channel("bridge", is_private=True, members=[alice, bot])
    right = lone.settings.model_copy(update={"slack_incidents_channel": room})
    assert "is a member" in checks_of(right)["slack incidents channel"].detail


def test_an_archived_incidents_channel_fails(lone: Sandbox) -> None:
    with lone.slack._lock:  # someone archived it
        lone.slack.ws.channels[lone.feed_id].is_archived = True
    check = failed(lone.settings, "slack incidents channel")
    assert "is_archived" in check.detail and "SLACK_INCIDENTS_CHANNEL" in check.fix


def test_a_channel_the_bot_is_not_in_fails_without_chat_write_public(lone: Sandbox) -> None:
    lone.slack.scopes = SCOPES - {"chat:write.public"}
    checks = checks_of(lone.settings)
    assert checks["slack scopes"].level is Level.FAILED
    assert "chat:write.public" in checks["slack scopes"].detail
    assert "SLACK_BOT_TOKEN" in checks["slack scopes"].fix
    feed = checks["slack incidents channel"]
    assert feed.level is Level.FAILED and "not_in_channel" in feed.detail
    assert "SLACK_INCIDENTS_CHANNEL" in feed.fix


def test_the_app_token_opens_a_connection_and_a_revoked_one_fails(lone: Sandbox) -> None:
    socket = lone.settings.model_copy(update={"slack_app_token": SecretStr(lone.slack.app_token)})
    assert "apps.connections.open" in checks_of(socket)["slack app token"].detail
    lone.slack.revoke_app_token(lone.slack.app_token)
    check = failed(socket, "slack app token")
    assert "invalid_auth" in check.detail and "SLACK_APP_TOKEN" in check.fix
    assert lone.slack.socket_connections_opened == 0  # asked for a URL, never connected

    bot_token = socket.model_copy(update={"slack_app_token": SecretStr(lone.slack.bot_token)})
    assert "not an app-level token" in failed(bot_token, "slack app token").detail


# -- PagerDuty ------------------------------------------------------------------------------------
def test_a_from_email_that_is_no_pagerduty_user_fails(lone: Sandbox) -> None:
    wrong = lone.settings.model_copy(update={"pagerduty_from_email": "nobody@example.com"})
    check = failed(wrong, "pagerduty from email")
    assert "nobody@example.com" in check.detail and "PAGERDUTY_FROM_EMAIL" in check.fix


def test_a_wrong_service_or_policy_id_fails_naming_where_it_is_set(
    lone: Sandbox, tmp_path: Path
) -> None:
    catalog = lone.catalog()
    catalog["services"]["payments"]["pagerduty"]["service_id"] = "PNOSUCH"
    settings = with_catalog(lone, tmp_path / "catalog.yaml", services=catalog["services"])
    check = failed(settings, "pagerduty service payments")
    assert "no PagerDuty service PNOSUCH" in check.detail
    assert "services[payments].pagerduty.service_id" in check.fix
    assert checks_of(settings)["pagerduty service checkout-api"].ok

    wrong = lone.settings.model_copy(update={"pagerduty_escalation_policy_id": "PNOPOLICY"})
    check = failed(wrong, "pagerduty defaults")
    assert "no PagerDuty escalation policy PNOPOLICY" in check.detail
    assert "PAGERDUTY_ESCALATION_POLICY_ID" in check.fix


def test_an_unknown_routing_key_fails_and_another_services_key_warns(
    lone: Sandbox, tmp_path: Path
) -> None:
    catalog = lone.catalog()
    catalog["services"]["search"]["pagerduty"]["routing_key"] = "0" * 32
    catalog["services"]["payments"]["pagerduty"]["routing_key"] = lone.pagerduty.routing_key(
        "database"
    )
    settings = with_catalog(lone, tmp_path / "catalog.yaml", services=catalog["services"])
    checks = checks_of(settings)
    check = checks["pagerduty service search"]
    assert check.level is Level.FAILED
    assert "routing key …0000: Invalid routing key" in check.detail
    assert "services[search].pagerduty.routing_key" in check.fix
    mixed = checks["pagerduty service payments"]
    assert mixed.level is Level.WARNING and "belongs to service database" in mixed.detail
    assert lone.pagerduty.incidents() == []  # the Events API was asked, nothing was opened


def test_an_unreadable_ca_bundle_fails_naming_the_setting(lone: Sandbox, tmp_path: Path) -> None:
    wrong = lone.settings.model_copy(update={"pagerduty_ca_bundle": tmp_path / "missing.pem"})
    check = failed(wrong, "pagerduty")
    assert "missing.pem" in check.detail and "PAGERDUTY_CA_BUNDLE" in check.fix


def test_without_a_rest_token_routing_keys_are_tried_on_the_events_api(
    lone: Sandbox, tmp_path: Path
) -> None:
    services = {
        "search": {"pagerduty": {"routing_key": lone.pagerduty.routing_key("search")}},
        "payments": {"pagerduty": {"routing_key": "1" * 32}},
    }
    settings = with_catalog(lone, tmp_path / "catalog.yaml", services=services).model_copy(
        update={
            "pagerduty_api_token": None,
            "pagerduty_service_id": None,
            "pagerduty_escalation_policy_id": None,
        }
    )
    checks = checks_of(settings)
    assert checks["pagerduty"].ok
    assert "Events API accepts" in checks["pagerduty service search"].detail
    check = checks["pagerduty service payments"]
    assert check.level is Level.FAILED and "Invalid routing key" in check.detail
    assert "services[payments].pagerduty.routing_key" in check.fix
    assert lone.pagerduty.incidents() == []  # the check opened nothing


# -- Jira -----------------------------------------------------------------------------------------
def test_jira_url_without_a_project_fails(lone: Sandbox) -> None:
    check = failed(lone.settings.model_copy(update={"jira_project": None}), "jira")
    assert "JIRA_URL" in check.detail and "JIRA_PROJECT" in check.fix


def test_a_missing_jira_project_fails(lone: Sandbox) -> None:
    check = failed(lone.settings.model_copy(update={"jira_project": "NOPE"}), "jira project")
    assert "NOPE" in check.detail and "JIRA_PROJECT" in check.fix


def test_a_missing_issue_type_fails(lone: Sandbox) -> None:
    with lone.jira._lock:  # the project's issue type scheme lost Task
        project = lone.jira.site.project_of("OPS")
        assert project is not None
        project.type_ids = [
            t for t in project.type_ids if lone.jira.site.issue_types[t].name != "Task"
        ]
    check = failed(lone.settings, "jira issue types")
    assert "'Task'" in check.detail and "postmortem.issue_type" in check.fix


def test_a_missing_link_type_fails(lone: Sandbox) -> None:
    with lone.jira._lock:  # an admin deleted "Relates"
        site = lone.jira.site
        site.link_types = {k: t for k, t in site.link_types.items() if t.name != "Relates"}
    check = failed(lone.settings, "jira link type")
    assert "'Relates'" in check.detail and "postmortem.link_type" in check.fix


def test_a_missing_security_level_fails(lone: Sandbox, tmp_path: Path) -> None:
    postmortem = {"private": {"security_level": "Incident responders"}}
    settings = with_catalog(lone, tmp_path / "catalog.yaml", postmortem=postmortem)
    check = failed(settings, "jira security level")
    assert "postmortem.private.security_level" in check.fix
    lone.jira.add_security_level("OPS", "Incident responders")
    assert checks_of(settings)["jira security level"].ok


def test_a_service_naming_an_unknown_project_fails(lone: Sandbox, tmp_path: Path) -> None:
    services = lone.catalog()["services"]
    services["payments"] = {**services["payments"], "tracker": {"project": "NOPE"}}
    settings = with_catalog(lone, tmp_path / "catalog.yaml", services=services)
    checks = checks_of(settings)
    check = checks["jira tracker (payments)"]
    assert check.level is Level.FAILED, check
    assert "no Jira project NOPE" in check.detail
    assert "services[payments].tracker.project in INCIDENTBOT_CONFIG" in check.fix
    assert checks["jira project"].ok  # the deployment's own project is fine
    lone.jira.add_project("NOPE")
    assert checks_of(settings)["jira tracker (payments)"].ok


def test_a_services_project_without_the_issue_type_fails(lone: Sandbox, tmp_path: Path) -> None:
    lone.jira.add_project("PAY")
    with lone.jira._lock:  # PAY's issue type scheme has no Task
        project = lone.jira.site.project_of("PAY")
        assert project is not None
        project.type_ids = [
            t for t in project.type_ids if lone.jira.site.issue_types[t].name != "Task"
        ]
    services = lone.catalog()["services"]
    services["payments"] = {**services["payments"], "tracker": {"project": "PAY"}}
    settings = with_catalog(lone, tmp_path / "catalog.yaml", services=services)
    check = failed(settings, "jira issue types (payments)")
    assert "project PAY has no issue type 'Task'" in check.detail
    assert "postmortem.issue_type" in check.fix
    assert checks_of(settings)["jira issue types"].ok  # OPS has it


def test_a_service_sent_to_a_desk_that_is_not_set_up_fails(lone: Sandbox, tmp_path: Path) -> None:
    services = lone.catalog()["services"]
    services["payments"] = {**services["payments"], "tracker": {"kind": "service_desk"}}
    settings = with_catalog(lone, tmp_path / "catalog.yaml", services=services)
    check = failed(settings, "jira tracker (payments)")
    assert "payments's post-mortems to a service desk" in check.detail
    assert "set JIRA_SERVICE_DESK" in check.fix and "services[payments].tracker.kind" in check.fix

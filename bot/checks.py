"""`incidentbot config check`: is this deployment ready? Settings, catalog, playbooks and
templates, the database and its schema, and each integration reached with its credentials.
Every failed check says what to fix."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.core.catalog import Catalog, CatalogError
from bot.flows.ports import IntegrationError
from bot.settings import Settings


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    optional: bool = False  # not configured, and the bot works without it


def run_checks(settings: Settings) -> list[Check]:
    checks: list[Check] = []

    def attempt(name: str, fix: str, fn: Callable[[], str]) -> bool:
        try:
            checks.append(Check(name, True, fn()))
            return True
        except (IntegrationError, CatalogError, ValueError, OSError) as exc:
            checks.append(Check(name, False, str(exc)[:300], fix))
        except Exception as exc:  # a library's own error: still a clear line, never a traceback
            checks.append(Check(name, False, f"{type(exc).__name__}: {exc}"[:300], fix))
        return False

    catalog_holder: list[Catalog] = []

    def catalog() -> str:
        loaded = settings.catalog()
        catalog_holder.append(loaded)
        where = settings.incidentbot_config or "built-in defaults"
        return f"{where}: {len(loaded.severities)} severities, {len(loaded.services)} services"

    attempt("catalog", "fix INCIDENTBOT_CONFIG (see incidentbot.example.yaml)", catalog)
    if catalog_holder:
        _files(settings, catalog_holder[0], attempt)
    attempt(
        "database",
        "check DATABASE_URL, then run `incidentbot db upgrade`",
        lambda: _database(settings),
    )
    _slack(settings, checks, attempt)
    _pagerduty(settings, checks, attempt)
    _jira(settings, checks, attempt)
    return checks


Attempt = Callable[[str, str, Callable[[], str]], bool]


def _files(settings: Settings, catalog: Catalog, attempt: Attempt) -> None:
    from bot.playbook_files import load_directory

    def playbooks() -> str:
        loaded = load_directory(settings.playbooks_dir, catalog)
        if loaded.problems:
            first = loaded.problems[0]
            raise ValueError(f"{len(loaded.problems)} problem(s), first: {first}")
        return f"{len(loaded.playbooks)} playbooks in {settings.playbooks_dir}"

    def templates() -> str:
        from bot.flows.postmortem import SUFFIX

        names = {catalog.postmortem.template, *catalog.postmortem.templates_by_severity.values()}
        names |= set(catalog.postmortem.templates_by_service.values())
        missing = [
            n
            for n in sorted(names)
            if not (settings.postmortem_templates_dir / (n + SUFFIX)).is_file()
        ]
        if missing:
            raise ValueError(
                f"missing {', '.join(n + SUFFIX for n in missing)} in {settings.postmortem_templates_dir}"
            )
        return f"{len(names)} post-mortem template(s) in {settings.postmortem_templates_dir}"

    attempt("playbooks", "run `incidentbot playbooks lint` and fix what it prints", playbooks)
    attempt(
        "post-mortem templates",
        "add the template or fix the catalog's postmortem section",
        templates,
    )


def _database(settings: Settings) -> str:
    from bot.store.db import Database

    db = Database(settings.database_url)
    try:
        db.require_current_schema()
    finally:
        db.engine.dispose()
    return f"{db.engine.dialect.name}, schema at {db.head_revision()}"


def _slack(settings: Settings, checks: list[Check], attempt: Attempt) -> None:
    if settings.slack_bot_token is None:
        checks.append(
            Check(
                "slack",
                False,
                "SLACK_BOT_TOKEN is not set",
                "create the app from slack_manifest.yaml and set SLACK_BOT_TOKEN",
            )
        )
        return

    def auth() -> str:
        from slack_sdk import WebClient

        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
        answer = WebClient(token=token, base_url=settings.slack_api_url, timeout=10).auth_test()
        return f"bot {answer.get('user')} in {answer.get('team')}"

    attempt("slack", "check SLACK_BOT_TOKEN (and SLACK_API_URL)", auth)
    if settings.slack_signing_secret is None and settings.slack_app_token is None:
        checks.append(
            Check(
                "slack requests",
                False,
                "neither SLACK_SIGNING_SECRET (HTTP) nor SLACK_APP_TOKEN (Socket Mode) is set",
                "set one of them",
            )
        )


def _pagerduty(settings: Settings, checks: list[Check], attempt: Attempt) -> None:
    if settings.pagerduty_api_token is None:
        checks.append(
            Check("pagerduty", True, "not configured: incidents are not paged", optional=True)
        )
        return
    from bot.adapters.pagerduty import PagerDutyPager

    pager = PagerDutyPager(
        api_token=settings.pagerduty_api_token.get_secret_value(),
        from_email=settings.pagerduty_from_email,
        api_url=settings.pagerduty_api_url,
        events_url=settings.pagerduty_events_url,
        ca_bundle=settings.pagerduty_ca_bundle,
    )
    attempt("pagerduty", "check PAGERDUTY_API_TOKEN and PAGERDUTY_API_URL", pager.check)


def _jira(settings: Settings, checks: list[Check], attempt: Attempt) -> None:
    from bot.wiring import jira_tracker

    tracker = jira_tracker(settings)
    if tracker is None:
        detail = "not configured: post-mortems stay drafts in Slack"
        checks.append(Check("jira", True, detail, optional=True))
        return
    attempt(
        "jira",
        "check JIRA_URL, JIRA_PROJECT and JIRA_EMAIL + JIRA_API_TOKEN or JIRA_PAT",
        tracker.check,
    )

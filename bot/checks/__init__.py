"""`incidentbot config check`: will the first incident work? The settings, the catalog, the
playbooks and templates, the database, and each integration reached with its credentials and
asked for what the first incident uses. Every failed check says what to fix; a warning says what
will not work."""

from __future__ import annotations

from bot.checks.base import Check, Level
from bot.checks.base import Recorder as _Recorder
from bot.checks.jira import check_jira
from bot.checks.local import check_local
from bot.checks.pagerduty import check_pagerduty
from bot.checks.slack import check_slack
from bot.checks.web_settings import check_web_settings
from bot.settings import Settings

__all__ = ["Check", "Level", "run_checks"]


def run_checks(settings: Settings) -> list[Check]:
    r = _Recorder()
    catalog = check_local(settings, r)
    check_web_settings(settings, r)
    check_slack(settings, r)
    check_pagerduty(settings, catalog, r)
    check_jira(settings, catalog, r)
    return r.checks

"""`incidentbot config check`: will the first incident work? The settings, the catalog, the
playbooks and templates, the database, and each integration reached with its credentials and
asked for what the first incident uses. Every failed check says what to fix; a warning says what
will not work."""

from __future__ import annotations

from collections.abc import Callable

from bot.checks.base import Check, Level, Recorder as _Recorder
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
    sections: dict[str, Callable[[], None]] = {
        "settings": lambda: check_web_settings(settings, r),
        "slack": lambda: check_slack(settings, r),
        "pagerduty": lambda: check_pagerduty(settings, catalog, r),
        "jira": lambda: check_jira(settings, catalog, r),
    }
    for name, section in sections.items():
        try:
            section()
        except Exception as exc:  # a check that broke is one more line, never a traceback
            r.fail(
                name,
                f"the check itself failed: {type(exc).__name__}: {exc}",
                "a bug in the check: please report it with this line",
            )
    return r.checks

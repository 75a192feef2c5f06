"""Before `serve`, `scheduler` or `drill` start work, the credentials of each configured vendor
are tried once, side by side: Slack's auth.test with SLACK_BOT_TOKEN, PagerDuty's service list
with PAGERDUTY_API_TOKEN, Jira's `myself` and project with its credentials. A refusal (Slack's
`invalid_auth`, a 401) ends the command with the setting to fix; a vendor that fails otherwise
or does not answer within a few seconds is only logged, since it may be back before the first
incident needs it. (The app-level token is tried when Socket Mode connects.)"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait

from bot import vendor_problems
from bot.cli_errors import ConfigProblem, ConfigProblems
from bot.flows.ports import IntegrationError
from bot.settings import Settings

TIMEOUT_S = 5.0
log = logging.getLogger(__name__)


def require_slack_settings(settings: Settings) -> None:
    """`serve` needs the bot token, and the signing secret (HTTP) or the app token (Socket Mode)."""
    fix = "see README → Install in a workspace"
    problems = []
    for missing in settings.missing_for_slack():  # "NAME" or "NAME (or …)"
        name, _, rest = missing.partition(" ")
        problems.append(ConfigProblem(name, f"not set {rest}".strip(), fix))
    if problems:
        raise ConfigProblems(problems)


def check_credentials(settings: Settings, timeout_s: float = TIMEOUT_S) -> None:
    """Raises :class:`ConfigProblems` naming each credential a vendor refused."""
    tries = _tries(settings, timeout_s)
    if not tries:
        return
    pool = ThreadPoolExecutor(max_workers=len(tries), thread_name_prefix="preflight")
    futures = {name: pool.submit(attempt) for name, (attempt, _) in tries.items()}
    wait(futures.values(), timeout=timeout_s)
    pool.shutdown(wait=False, cancel_futures=True)
    problems = []
    for name, future in futures.items():
        if not future.done():
            log.warning("%s did not answer within %.0f s; starting anyway", name, timeout_s)
            continue
        exc = future.exception()
        if exc is None:
            continue
        refusal = (
            vendor_problems.integration_refusal(exc, tries[name][1])
            if isinstance(exc, IntegrationError)
            else vendor_problems.explain(exc)
        )
        if refusal is None:
            log.warning("could not try the %s credentials (%s); starting anyway", name, exc)
        else:
            problems.append(ConfigProblem(*refusal))
    if problems:
        raise ConfigProblems(problems)


def _tries(settings: Settings, timeout_s: float) -> dict[str, tuple[Callable[[], object], str]]:
    """Vendor → (a call that needs its credentials, the setting Jira's refusal names)."""
    tries: dict[str, tuple[Callable[[], object], str]] = {}
    if settings.slack_bot_token is not None:
        from slack_sdk import WebClient

        slack = WebClient(
            token=settings.slack_bot_token.get_secret_value(),
            base_url=settings.slack_api_url,
            timeout=int(timeout_s),
        )
        tries["Slack"] = (slack.auth_test, "SLACK_BOT_TOKEN")
    if settings.pagerduty_api_token is not None:
        from bot.adapters.pagerduty import PagerDutyPager

        pager = PagerDutyPager(
            api_token=settings.pagerduty_api_token.get_secret_value(),
            from_email=settings.pagerduty_from_email,
            api_url=settings.pagerduty_api_url,
            events_url=settings.pagerduty_events_url,
            ca_bundle=settings.pagerduty_ca_bundle,
        )
        tries["PagerDuty"] = (pager.check, "PAGERDUTY_API_TOKEN")
    from bot.wiring import jira_tracker

    tracker = jira_tracker(settings)
    if tracker is not None:
        tries["Jira"] = (tracker.check, "JIRA_PAT" if settings.jira_pat else "JIRA_API_TOKEN")
    return tries

"""A vendor refusing this deployment's credentials, named by the setting that holds them: Slack
answering `invalid_auth` to SLACK_BOT_TOKEN or SLACK_APP_TOKEN, PagerDuty or Jira answering 401.
Each answer is (setting, what is wrong, how to fix it); anything else is not a refusal."""

from __future__ import annotations

from typing import Any

from bot.flows.ports import IntegrationError

Refusal = tuple[str, str, str]

# Slack's answers that mean the token itself is unusable (not a missing scope or a bad argument)
SLACK_REFUSALS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "not_allowed_token_type",
        "no_permission",
        "invalid_token",
    }
)
SLACK_APP_FIX = (
    "create an app-level token with the connections:write scope (app settings → Basic "
    "Information → App-Level Tokens) and set SLACK_APP_TOKEN to it (xapp-…)"
)
SLACK_BOT_FIX = "reinstall the app to the workspace and set SLACK_BOT_TOKEN to its Bot User OAuth Token (xoxb-…)"
JIRA_FIX = (
    "set JIRA_EMAIL + JIRA_API_TOKEN (Cloud) or JIRA_PAT (Data Center) to working credentials"
)


def slack_refusal(error: str, method: str) -> Refusal | None:
    """`error`: Slack's `error` field; `method`: the Web API method that answered it."""
    if error not in SLACK_REFUSALS:
        return None
    if method.rstrip("/").endswith("apps.connections.open"):
        return "SLACK_APP_TOKEN", f"Slack refused the app-level token ({error})", SLACK_APP_FIX
    return "SLACK_BOT_TOKEN", f"Slack refused the bot token ({error})", SLACK_BOT_FIX


def explain(exc: BaseException) -> Refusal | None:
    """The refusal a library's exception stands for, if it is one."""
    from slack_sdk.errors import SlackApiError

    if isinstance(exc, SlackApiError):
        response: Any = exc.response
        error = str(response.get("error") or "") if response is not None else ""
        return slack_refusal(error, str(getattr(response, "api_url", "") or ""))
    if isinstance(exc, IntegrationError):
        return integration_refusal(exc)
    return None


def integration_refusal(
    exc: IntegrationError, jira_setting: str = "JIRA_API_TOKEN"
) -> Refusal | None:
    """`jira_setting`: the credential Jira was given (JIRA_PAT on Data Center)."""
    if exc.service == "slack":
        return slack_refusal(exc.code, "")
    if exc.service == "pagerduty" and exc.code in ("http_401", "http_403"):
        return (
            "PAGERDUTY_API_TOKEN",
            f"PagerDuty refused the API token ({exc.code.removeprefix('http_')})",
            "create a REST API key (Integrations → API Access Keys) and set PAGERDUTY_API_TOKEN",
        )
    if exc.service == "jira" and exc.code in ("401", "403"):
        return jira_setting, f"Jira refused the credentials ({exc.code})", JIRA_FIX
    return None

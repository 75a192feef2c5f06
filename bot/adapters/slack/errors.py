"""Slack's answers as the Chat port's errors: `RateLimited` (with Slack's Retry-After),
`ConversationGone`, `ChatRefused` (what is wrong and who can fix it), and `IntegrationError`
for the rest (service "slack", Slack's own error code; retryable when Slack says so)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.flows.ports import ChatRefused, ConversationGone, IntegrationError, RateLimited

# Slack error codes worth retrying; every other `ok: false` is a permanent answer.
_RETRYABLE = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "team_added_to_org",
}
# Slack's answers meaning the conversation can no longer be posted to.
GONE = frozenset({"channel_not_found", "is_archived", "not_in_channel"})
_REINSTALL = (
    "reinstall the app to the workspace and set SLACK_BOT_TOKEN to its Bot User OAuth Token "
    "(xoxb-…)"
)
# Slack's permanent refusals that someone can fix: code → (what is wrong, what to do).
REFUSALS: dict[str, tuple[str, str]] = {
    "missing_scope": (
        "the Slack app lacks the {needed} scope",
        "add it under OAuth & Permissions in the app's settings, then reinstall the app",
    ),
    "restricted_action": (
        "the workspace's settings do not let the bot do this",
        "ask a Slack workspace admin to allow apps to create channels and post",
    ),
    "ekm_access_denied": (
        "the workspace's Enterprise Key Management revoked access",
        "ask a Slack workspace admin to restore the app's access",
    ),
    **{
        code: (f"Slack refused the bot token ({code})", _REINSTALL)
        for code in (
            "invalid_auth",
            "not_authed",
            "token_revoked",
            "token_expired",
            "account_inactive",
            "not_allowed_token_type",
        )
    },
}


def port_error(
    code: str, *, status: int = 200, data: dict[str, Any] | None = None, retry_after: Any = None
) -> IntegrationError:
    """The port's error for Slack's answer `code` (its `error` field, or `http_<status>`)."""
    if status == 429 or code == "ratelimited":
        return RateLimited("slack", _seconds(retry_after))
    if code in GONE:
        return ConversationGone("slack", code)
    if code in REFUSALS:
        reason, fix = REFUSALS[code]
        needed = str((data or {}).get("needed") or "needed")
        return ChatRefused("slack", code, reason=reason.format(needed=needed), fix=fix)
    return IntegrationError("slack", code, retryable=status >= 500 or code in _RETRYABLE)


@contextmanager
def slack_errors() -> Iterator[None]:
    try:
        yield
    except SlackApiError as exc:
        response = exc.response
        status = int(getattr(response, "status_code", 0) or 0)
        data = response.data if isinstance(getattr(response, "data", None), dict) else {}
        code = str(data.get("error") or f"http_{status}")
        headers = response.headers or {}
        after = headers.get("Retry-After") or headers.get("retry-after")
        raise port_error(code, status=status, data=data, retry_after=after) from exc
    except (
        SlackClientError,
        OSError,
        TimeoutError,
    ) as exc:  # connection refused, timeouts, bad bodies
        raise IntegrationError(
            "slack", type(exc).__name__, retryable=True, detail=str(exc)[:200]
        ) from exc


def _seconds(value: Any) -> float | None:
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None

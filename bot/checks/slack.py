"""Slack: the bot token and its scopes, how Slack reaches the bot, the incidents channel the
announcement goes to (resolved as chat.postMessage resolves it, by id or by name) and the
Socket Mode app token. Nothing is posted and no WebSocket is opened."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from bot.checks.base import Problem, Recorder
from bot.settings import Settings

# The bot scopes of slack_manifest.yaml (a test keeps the two equal): the calls the bot makes.
SCOPES = frozenset(
    {
        "commands",
        "chat:write",
        "chat:write.public",
        "channels:manage",
        "groups:write",
        "channels:read",
        "groups:read",
        "channels:history",
        "channels:join",
        "groups:history",
        "reactions:read",
        "pins:write",
        "users:read",
        "users:read.email",
        "usergroups:read",
        "im:write",
    }
)
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")  # channel names are lower case
AUTH_FIX = "check SLACK_BOT_TOKEN (and SLACK_API_URL)"
REINSTALL = (
    "add them to the Slack app (slack_manifest.yaml lists them), reinstall it to the workspace "
    "and set the new SLACK_BOT_TOKEN"
)
CONNECT_FIX = (
    "create an app-level token with the connections:write scope (api.slack.com/apps → Basic "
    "Information → App-Level Tokens) and set it as SLACK_APP_TOKEN"
)


def _call(fn: Callable[[], SlackResponse]) -> SlackResponse:
    """Slack's answer; an `ok: false` one becomes a Problem naming Slack's error."""
    try:
        return fn()
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else None
        raise Problem(f"Slack answered {error or exc}") from exc


def _scopes(response: SlackResponse) -> frozenset[str] | None:
    """The token's scopes, as Slack reports them on every answer (X-OAuth-Scopes)."""
    for name, value in (response.headers or {}).items():
        if name.lower() == "x-oauth-scopes":
            raw = value if isinstance(value, str) else ",".join(value)
            return frozenset(s.strip() for s in raw.split(",") if s.strip())
    return None


def check_slack(settings: Settings, r: Recorder) -> None:
    if settings.slack_bot_token is None:
        r.fail(
            "slack",
            "SLACK_BOT_TOKEN is not set",
            "create the app from slack_manifest.yaml and set SLACK_BOT_TOKEN",
        )
        return
    client = WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
        timeout=10,
    )
    found: dict[str, Any] = {}

    def auth() -> str:
        answer = _call(client.auth_test)
        found["bot"], found["scopes"] = str(answer.get("user") or "incidentbot"), _scopes(answer)
        return f"bot {answer.get('user')} in {answer.get('team')}"

    if r.attempt("slack", AUTH_FIX, auth):
        scopes: frozenset[str] | None = found["scopes"]
        _check_scopes(scopes, r)
        _check_feed(settings, client, scopes, found["bot"], r)
    if settings.slack_signing_secret is None and settings.slack_app_token is None:
        r.fail(
            "slack requests",
            "neither SLACK_SIGNING_SECRET (HTTP) nor SLACK_APP_TOKEN (Socket Mode) is set: "
            "Slack cannot reach the bot",
            "set SLACK_SIGNING_SECRET (the app's Basic Information) or SLACK_APP_TOKEN",
        )
    if settings.slack_app_token is not None:
        token = settings.slack_app_token.get_secret_value()
        r.attempt("slack app token", CONNECT_FIX, lambda: _app_token(client, token))


def _check_scopes(scopes: frozenset[str] | None, r: Recorder) -> None:
    if scopes is None:
        r.ok("slack scopes", "Slack did not report the token's scopes (no X-OAuth-Scopes)")
        return
    missing = sorted(SCOPES - scopes)
    if missing:
        r.fail("slack scopes", f"the bot token lacks {', '.join(missing)}", REINSTALL)
    else:
        r.ok("slack scopes", f"all {len(SCOPES)} scopes the bot uses")


def _check_feed(
    settings: Settings,
    client: WebClient,
    scopes: frozenset[str] | None,
    bot: str,
    r: Recorder,
) -> None:
    ref = (settings.slack_incidents_channel or "").strip()
    if not ref:
        r.warn(
            "slack incidents channel",
            "SLACK_INCIDENTS_CHANNEL is not set: new incidents are announced nowhere but in "
            "their own channel",
            "set SLACK_INCIDENTS_CHANNEL to the channel (id or #name) incidents are announced in",
        )
        return
    fix = (
        f"set SLACK_INCIDENTS_CHANNEL to an existing channel's id or #name; a private channel "
        f"needs the bot invited (/invite @{bot} in it)"
    )
    r.attempt("slack incidents channel", fix, lambda: _feed(client, ref, scopes, bot))


def _feed(client: WebClient, ref: str, scopes: frozenset[str] | None, bot: str) -> str:
    channel = _resolve(client, ref)
    name = f"#{channel.get('name')}"
    where = f"{name} ({channel.get('id')})"
    elsewhere = f"unarchive {name} or set SLACK_INCIDENTS_CHANNEL to another channel"
    if channel.get("is_archived"):
        raise Problem(f"{where} is archived: the announcement would fail (is_archived)", elsewhere)
    if scopes is not None and "chat:write" not in scopes:
        raise Problem("the bot token lacks chat:write: it cannot post anywhere", REINSTALL)
    if channel.get("is_member"):
        return f"{where}: the bot is a member and can post"
    public = not channel.get("is_private")
    if public and (scopes is None or "chat:write.public" in scopes):
        return f"{where}: the bot posts there without joining (chat:write.public)"
    raise Problem(
        f"the bot is not in {where} and "
        + ("lacks chat:write.public (not_in_channel)" if public else "it is private"),
        f"/invite @{bot} in {name}, or set SLACK_INCIDENTS_CHANNEL to a channel the bot is in",
    )


def _resolve(client: WebClient, ref: str) -> dict[str, Any]:
    """The channel as the bot sees it. A private channel the bot is not in is invisible to it,
    as it is to chat.postMessage (`channel_not_found`)."""
    if _CHANNEL_ID.match(ref):
        try:
            answer = _call(partial(client.conversations_info, channel=ref))
        except Problem as problem:
            raise Problem(f"{ref}: {problem.detail}") from problem
        return dict(answer["channel"])
    name = ref.removeprefix("#")
    cursor: str | None = None
    while True:
        page = _call(
            partial(
                client.conversations_list,
                types="public_channel,private_channel",
                limit=1000,
                cursor=cursor,
            )
        )
        for channel in page.get("channels") or []:
            if channel.get("name") == name:
                return dict(channel)
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            raise Problem(f"no channel #{name} that the bot can see (channel_not_found)")


def _app_token(client: WebClient, token: str) -> str:
    """apps.connections.open proves the token; its URL is not connected to: Slack shares events
    among a running bot's connections, and one opened here would take some of them."""
    try:
        _call(partial(client.apps_connections_open, app_token=token))
    except Problem as problem:
        why = {
            "Slack answered invalid_auth": "revoked, or not this app's",
            "Slack answered not_allowed_token_type": "not an app-level token (xapp-…)",
        }.get(problem.detail, "")
        said = f"SLACK_APP_TOKEN refused: {problem.detail}" + (f" ({why})" if why else "")
        raise Problem(said) from problem
    return "apps.connections.open accepted it (Socket Mode can connect)"

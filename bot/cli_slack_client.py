"""Where `incidentbot slack` finds the emulated Slack, and its calls to the emulator's control
API (``bot/emulators/slack/control.py``) over loopback HTTP.

It looks, in order, at ``--slack-url``/``--secret``, the file a running ``incidentbot sandbox``
writes (``bot/sandbox_state.py``), then ``SLACK_API_URL``/``SLACK_SIGNING_SECRET``. The control
API takes the emulator's signing secret as a bearer token.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import yaml

from bot.package_data import slack_manifest_path
from bot.sandbox_state import SandboxState, state_path

START_SANDBOX = "start `incidentbot sandbox` first"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class SlackCliError(Exception):
    """A one-line answer for the person at the terminal (exit status 2)."""


@dataclass(frozen=True)
class Emulated:
    """The emulated Slack to act in: its root URL, the bearer, where actions happen by default."""

    root_url: str
    secret: str
    default_channel: str | None
    source: str

    @property
    def control_url(self) -> str:
        return f"{self.root_url}/_emulator/"


def _root(api_url: str, source: str) -> str:
    parts = urlsplit(api_url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        raise SlackCliError(
            f"{source} is {api_url!r}: `incidentbot slack` only drives the Slack emulator on "
            f"loopback (http://127.0.0.1:…/api/); {START_SANDBOX}"
        )
    return f"http://{parts.netloc}"


def _read_state() -> SandboxState | None:
    try:
        return SandboxState.read()
    except (ValueError, TypeError, OSError) as exc:
        raise SlackCliError(f"cannot read the sandbox file {state_path()}: {exc}") from exc


def locate(slack_url: str | None, secret: str | None) -> Emulated:
    """The emulated Slack from the options, the sandbox file or the environment."""
    env_secret = os.environ.get("SLACK_SIGNING_SECRET")
    if slack_url:
        if not (secret or env_secret):
            raise SlackCliError(
                "--slack-url needs the emulator's signing secret: pass --secret or set "
                "SLACK_SIGNING_SECRET"
            )
        channel = os.environ.get("SLACK_INCIDENTS_CHANNEL")
        root = _root(slack_url, "--slack-url")
        return Emulated(root, str(secret or env_secret), channel, "--slack-url")
    state = _read_state()
    if state is not None:
        root = _root(state.slack_api_url, f"the sandbox file {state_path()}")
        return Emulated(
            root, secret or state.signing_secret, state.incidents_channel, str(state_path())
        )
    api_url = os.environ.get("SLACK_API_URL")
    if api_url and (secret or env_secret):
        channel = os.environ.get("SLACK_INCIDENTS_CHANNEL")
        return Emulated(
            _root(api_url, "SLACK_API_URL"), str(secret or env_secret), channel, "SLACK_API_URL"
        )
    raise SlackCliError(
        f"No emulated Slack to act in (no sandbox file at {state_path()}): {START_SANDBOX}, "
        "or pass --slack-url and --secret for an emulator you started."
    )


def manifest_shortcut(name: str) -> tuple[str, bool]:
    """(callback_id, is a message shortcut) of the app's shortcut called ``name`` (any case),
    or ``name`` itself as a callback_id when the manifest has no such shortcut."""
    try:
        manifest = yaml.safe_load(slack_manifest_path().read_text(encoding="utf-8"))
        listed = manifest["features"]["shortcuts"]
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        listed = []
    for item in listed:
        if name.strip().lower() in (str(item.get("name")).lower(), item.get("callback_id")):
            return str(item["callback_id"]), item.get("type") == "message"
    return name, False


class Control:
    """The control API of one emulator."""

    def __init__(self, where: Emulated, *, timeout: float = 30.0) -> None:
        self.where = where
        self.timeout = timeout

    def get(self, endpoint: str, **query: Any) -> dict[str, Any]:
        args = {k: str(v) for k, v in query.items() if v is not None}
        suffix = f"?{urlencode(args)}" if args else ""
        return self._call("GET", f"{endpoint}{suffix}", None)

    def post(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = {k: v for k, v in body.items() if v is not None}
        if self.where.default_channel and "default_channel" not in payload:
            payload["default_channel"] = self.where.default_channel
        return self._call("POST", endpoint, json.dumps(payload).encode())

    def _call(self, method: str, path: str, data: bytes | None) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310  (loopback, http only: see _root)
            self.where.control_url + path,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.where.secret}",
                "Content-Type": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                text = response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")
            raise SlackCliError(_refusal(exc.code, text)) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SlackCliError(
                f"Nothing answers at {self.where.root_url} ({reason}; from {self.where.source}): "
                f"is the sandbox still running? {START_SANDBOX}"
            ) from None
        try:
            answer = json.loads(text)
        except ValueError:
            raise SlackCliError(f"{self.where.root_url} is not the Slack emulator") from None
        if not isinstance(answer, dict):
            raise SlackCliError(f"{self.where.root_url} is not the Slack emulator")
        return answer


def _refusal(status: int, text: str) -> str:
    try:
        answer = json.loads(text)
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or "error" not in answer:
        return f"the emulator answered HTTP {status}: is this an emulator with a control API?"
    error, detail = str(answer["error"]), str(answer.get("detail") or "")
    if status == 401:
        return f"{error}: the emulator refused the secret ({detail}); pass --secret"
    return f"{error}: {detail}" if detail else error

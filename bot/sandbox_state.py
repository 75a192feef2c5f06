"""Where a running `incidentbot sandbox` says what it is: the file `incidentbot slack` (and any
other local tool) reads to find the bot and the emulated Slack without being told."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path


def state_path() -> Path:
    """``INCIDENTBOT_SANDBOX_FILE``, else ``~/.cache/incidentbot/sandbox.json``."""
    explicit = os.environ.get("INCIDENTBOT_SANDBOX_FILE")
    if explicit:
        return Path(explicit)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "incidentbot" / "sandbox.json"


@dataclass(frozen=True)
class SandboxState:
    bot_url: str  # the bot's base URL (http://127.0.0.1:PORT)
    slack_api_url: str  # the Slack emulator's Web API base (SLACK_API_URL)
    signing_secret: str  # what the emulator signs requests with
    socket_mode: bool
    incidents_channel: str  # channel id
    users: dict[str, str] = field(default_factory=dict)  # name → Slack user id
    dashboard_url: str = ""
    pid: int = 0  # the sandbox process

    def write(self, path: Path | None = None) -> Path:
        target = path or state_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        tmp.chmod(0o600)
        tmp.replace(target)
        return target

    @classmethod
    def read(cls, path: Path | None = None) -> SandboxState | None:
        """The running sandbox's state, or None when there is no file (no sandbox)."""
        source = path or state_path()
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        return cls(**data)

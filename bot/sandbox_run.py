"""A sandbox in the foreground (`incidentbot sandbox`, `incidentbot emulators`, `incidentbot demo
--serve`): what it prints, the state file it leaves for `incidentbot slack`, and how it stops
(Ctrl-C or SIGTERM: the state file goes if it is still ours, then everything stops).

URLs are printed with plain `print`, one per line, so no terminal width ever splits them."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterable
from pathlib import Path

from bot.sandbox import API_TOKEN, OPSGENIE_TEAMS, Sandbox
from bot.sandbox_env import env_lines
from bot.sandbox_state import SandboxState

SIGN_IN_AS = "alice"  # the seeded admin: the catalog's `admins` lists her in the sandbox


def sandbox_state(sb: Sandbox) -> SandboxState:
    return SandboxState(
        bot_url=sb.url,
        slack_api_url=sb.slack.api_url,
        signing_secret=sb.slack.signing_secret,
        socket_mode=sb.socket_mode,
        incidents_channel=sb.feed_id,
        users=seeded_users(sb),
        dashboard_url=f"{sb.url}/",
        pid=os.getpid(),
    )


def seeded_users(sb: Sandbox) -> dict[str, str]:
    """name → Slack user id of the people in the emulated workspace (not the bot)."""
    people = list(sb.slack.ws.users.values())
    return {user.name: user.id for user in people if not user.is_bot and not user.deleted}


def environment_block(sb: Sandbox, comment: Iterable[str]) -> list[str]:
    return [*(f"# {line}" for line in comment), *env_lines(sb.environment())]


def sign_in_lines(sb: Sandbox, incident_id: int | None = None) -> list[str]:
    """The dashboard (and an incident's review page) with a one-time sign-in link each, and the
    API-token login for when the links have expired."""
    lines = [
        f"Dashboard: {sb.url}/",
        f"  sign in as {SIGN_IN_AS} (the link works once, within 10 minutes):",
        f"  {sb.sign_in_link(SIGN_IN_AS)}",
    ]
    if incident_id is not None:
        lines += [
            f"Review page of incident #{incident_id}: {sb.url}/incidents/{incident_id}",
            f"  sign in as {SIGN_IN_AS} and open it (once, within 10 minutes):",
            f"  {sb.sign_in_link(SIGN_IN_AS, incident_id)}",
        ]
    lines += [
        f"  or sign in at {sb.url}/login with the API token {API_TOKEN}",
        f'  (a new link for an incident: incidentbot slack --as {SIGN_IN_AS} "/incident review"'
        " in its channel)",
    ]
    return lines


def acting_lines(sb: Sandbox) -> list[str]:
    users = ", ".join(seeded_users(sb))
    return [
        f"Act as a Slack user ({users}), from another terminal:",
        '  incidentbot slack --as alice "/incident declare Checkout is down"',
        f"Incidents are announced in #{sb.feed} ({sb.feed_id}).",
        f"Services paged through Opsgenie: {', '.join(OPSGENIE_TEAMS)} (the others: PagerDuty).",
        "Act as their on-call in Opsgenie's app (the alias is the page key: incidentbot-<id> for"
        " the page a declaration sends, incidentbot-<id>-<service>-<n> for `/incident page`):",
        f"  curl -X POST {sb.opsgenie.url}/_control/Acknowledge"
        """ -d '{"alias": "incidentbot-1", "user": "bob@example.com"}'""",
    ]


def serve_in_foreground(sb: Sandbox, lines: list[str]) -> None:
    """Prints ``lines``, writes the state file, and waits for Ctrl-C or SIGTERM; then removes
    the state file (if no other sandbox has replaced it since) and stops ``sb``. A second
    Ctrl-C while it stops quits at once."""
    try:
        previous = SandboxState.read()
    except (ValueError, TypeError):  # a file left by another version: replaced below
        previous = None
    if sb.with_bot:  # `incidentbot slack` waits for the bot itself (else: until Slack is quiet)
        sb.slack.control.idle_probe = sb.bot.wait_idle
    path = sandbox_state(sb).write()
    notes = [f"State for `incidentbot slack`: {path}"]
    if previous is not None and previous.pid != os.getpid() and _alive(previous.pid):
        notes.append(f"  (it replaced the one of the sandbox still running as pid {previous.pid})")
    stop = threading.Event()

    def on_signal(_signum: int, _frame: object) -> None:
        if stop.is_set():  # the second one
            _remove_if_ours(path)
            os._exit(130)
        stop.set()

    before = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print("\n".join([*lines, *notes, "Stop with Ctrl-C."]), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        _remove_if_ours(path)
        sb.stop()
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _remove_if_ours(path: Path) -> None:
    try:
        current = SandboxState.read(path)
    except (ValueError, TypeError):
        return
    if current is not None and current.pid == os.getpid():
        path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True

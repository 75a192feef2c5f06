"""`incidentbot slack` against `incidentbot sandbox`, both real processes as a person runs them
in two terminals: the CLI finds the sandbox by its state file alone, a form-opening command
prints the form, and its submission opens the incident (here over Socket Mode)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

from tests.sandbox.conftest import WAIT, Launched, child_env

Launch = Callable[..., Launched]


def slack(sandbox: Launched, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "slack", *args],
        capture_output=True,
        text=True,
        env=child_env(INCIDENTBOT_SANDBOX_FILE=str(sandbox.state_file)),
        timeout=WAIT,
        check=False,
    )


def test_a_declare_form_filled_from_the_terminal_opens_the_incident(launch: Launch) -> None:
    sandbox = launch("sandbox", "--socket-mode")

    shown = slack(sandbox, "--as", "bob", "/incident declare")
    assert shown.returncode == 0, shown.stderr
    assert 'Form "Declare an incident" (its button: Declare)' in shown.stdout

    declared = slack(sandbox, "--as", "bob", "submit", "title=Search is slow", "severity=SEV3")
    assert declared.returncode == 0, declared.stderr
    assert "#inc-" in declared.stdout and "search-is-slow  (new channel, you were added)" in (
        declared.stdout
    )
    assert "(the form closed)" in declared.stdout

    assert sandbox.interrupt() == 0
    gone = slack(sandbox, "show")
    assert gone.returncode == 2 and "start `incidentbot sandbox` first" in gone.stderr

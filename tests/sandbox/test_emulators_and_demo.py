"""`incidentbot emulators` prints the settings that make your own `incidentbot serve` use them;
`incidentbot demo --serve` keeps its bot up after the story, its links whole on one line however
narrow the terminal and whether piped or not."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.sandbox.conftest import SETTING, WAIT, Launched, child_env

Launch = Callable[..., Launched]
Spawn = Callable[..., subprocess.Popen[str]]
WaitUntil = Callable[[Callable[[], bool], str], None]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_serve_reading_the_printed_block_from_a_dotenv_works_against_the_emulators(
    launch: Launch, spawn: Spawn, wait_until: WaitUntil, tmp_path: Path
) -> None:
    port = _free_port()
    bot_url = f"http://127.0.0.1:{port}"
    emulators = launch("emulators", "--bot-url", bot_url)
    env = emulators.env
    assert env["PUBLIC_URL"] == bot_url
    assert "DATABASE_URL" not in env  # serve's default: ./incidentbot.db
    assert {"OPSGENIE_API_KEY", "OPSGENIE_API_URL", "OPSGENIE_WEBHOOK_TOKEN"} <= set(env)
    block = [line for line in emulators.lines if line.startswith("#") or SETTING.match(line)]
    (tmp_path / ".env").write_text("\n".join(block) + "\n", encoding="utf-8")
    upgrade = subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        cwd=tmp_path,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert upgrade.returncode == 0, upgrade.stderr
    serve = spawn("serve", "--port", str(port))
    wait_until(lambda: _answers(f"{bot_url}/healthz"), "serve answers /healthz")
    state = emulators.state()
    assert state.bot_url == bot_url and state.pid == emulators.proc.pid
    slack = emulators.slack()
    status = slack.slash_command(
        bot_url,
        env["SLACK_SIGNING_SECRET"],
        state.users["bob"],
        slack.channels()["general"],
        "declare Payments are slow",
    )
    assert status == 200
    slack.wait_for_channel(r"payments-are-slow")
    serve.terminate()
    assert serve.wait(timeout=WAIT) == 0
    assert emulators.interrupt() == 0
    assert not emulators.state_file.exists()


def test_demo_serve_prints_whole_links_that_open_the_dashboard_and_the_review_page(
    launch: Launch,
) -> None:
    demo = launch("demo", "--serve", extra_env={"COLUMNS": "40"})  # piped, and narrow
    lines = demo.lines
    # titles and URLs are never cut in two, even at 40 columns
    assert any(
        line.startswith("── #inc-") and line.endswith("— what the responders saw ──")
        for line in lines
    )
    in_story = [u for u in demo.urls("[Review page|") if u.endswith("/incidents/1]")]
    assert len(in_story) == 1
    dashboard_link, review_link = demo.urls("/review/login?t=")
    state = demo.state()
    assert in_story[0] == f"{state.bot_url}/incidents/1]"  # the story's link: this running bot
    title = "Checkout API 5xx ratio above 5%"
    with httpx.Client(base_url=state.bot_url, timeout=10, follow_redirects=True) as browser:
        assert browser.get(dashboard_link).status_code == 200  # after the sign-in redirect
        assert browser.get("/").status_code == 200 and title in browser.get("/").text
    with httpx.Client(base_url=state.bot_url, timeout=10, follow_redirects=True) as browser:
        review = browser.get(review_link)
        assert review.status_code == 200 and review.url.path == "/incidents/1"
        assert title in review.text
    assert demo.interrupt() == 0
    assert not demo.state_file.exists()

"""No secret in the logs: a whole incident through the sandbox — declared in Slack, paged, acked
from PagerDuty's signed webhook, alerts in with the bearer token, a review sign-in link used,
Slack and Jira failing once, resolved, closed and exported to Jira — with logging set up as
`serve` sets it up, at DEBUG, every library's logger included (slack_sdk prints each request
and response, urllib3/httpx/httpcore each connection, jira and pagerduty their calls and
errors). Not one of the process's secrets may appear in what was written.

Logging does not depend on the database, so this runs on SQLite only, once per Jira flavour
(Cloud: email + API token as Basic; Data Center: a PAT as Bearer)."""

from __future__ import annotations

import base64
import gc
import http.client
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import pytest
import structlog
from typer.testing import CliRunner

from bot.logs import REDACTED, configure
from bot.sandbox import ALERT_TOKEN, API_TOKEN, Sandbox, ScriptedClock
from tests.e2e.conftest import People, api, command, ephemerals, post
from tests.fixtures.alerts import alertmanager, resolved

LIBRARIES = (
    "slack_sdk",
    "slack_bolt",
    "urllib3",
    "requests",
    "httpx",
    "httpcore",
    "jira",
    "pagerduty",
    "apscheduler",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "sqlalchemy",
)


@pytest.fixture
def debug_logging() -> Iterator[None]:
    """Put back the process's logging (pytest's handlers, levels, uvicorn's own) afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    libraries = {
        name: (list(lg.handlers), lg.level, lg.propagate)
        for name in LIBRARIES
        for lg in [logging.getLogger(name)]
    }
    yield
    root.handlers[:], root.level = saved[0], saved[1]
    for name, (handlers, level, propagate) in libraries.items():
        lg = logging.getLogger(name)
        lg.handlers[:], lg.level, lg.propagate = handlers, level, propagate
    structlog.reset_defaults()


def as_serve_logs(sb: Sandbox) -> None:
    """What `incidentbot serve` does with LOG_LEVEL=DEBUG: Settings.configure_logging(), and
    uvicorn run with log_config=None so its error and access logs reach the same handler."""
    configure("DEBUG", "json", sb.settings.secret_values())
    for name in LIBRARIES:
        lg = logging.getLogger(name)
        lg.handlers[:], lg.propagate = [], True
        lg.setLevel(logging.NOTSET)


def held_secrets(sb: Sandbox) -> dict[str, str]:
    """The secrets in the bot's settings, as the integrations send them."""
    jira = sb.jira
    held = {
        "SLACK_BOT_TOKEN": sb.slack.bot_token,
        "SLACK_SIGNING_SECRET": sb.slack.signing_secret,
        "PAGERDUTY_API_TOKEN": sb.pagerduty.api_token,
        "PAGERDUTY_WEBHOOK_SECRETS": sb.pagerduty.webhook_secret,
        "ALERT_WEBHOOK_TOKEN": ALERT_TOKEN,
        "API_TOKEN": API_TOKEN,
    }
    if jira.cloud:
        held["JIRA_API_TOKEN"] = jira.api_token
        basic = base64.b64encode(f"{jira.email}:{jira.api_token}".encode()).decode()
        held["Jira Cloud's Basic credentials"] = basic
    else:
        held["JIRA_PAT"] = jira.pat
    return held


def browse(url: str, cookie: str | None = None) -> http.client.HTTPResponse:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=30)
    headers = {"Cookie": f"incidentbot_review={cookie}"} if cookie else {}
    connection.request(
        "GET", f"{parts.path}?{parts.query}" if parts.query else parts.path, headers=headers
    )
    return connection.getresponse()


def library_dumps(secrets: dict[str, str]) -> None:
    """What the libraries print when a request goes wrong at DEBUG (jira's JIRAError lists the
    request headers, an Authorization header in a dict, a token in a URL and a traceback): the
    shapes a log line takes, each secret in each, through each library's own logger."""
    for library in LIBRARIES:
        lg = logging.getLogger(library)
        for name, value in secrets.items():
            lg.debug("request headers = %s", {"Authorization": f"Bearer {value}"})
            lg.debug("sent", extra={"headers": {"authorization": [f"Basic {value}"]}})
            try:
                raise RuntimeError(f"HTTP 401 for https://api.example.com/?token={value}")
            except RuntimeError:
                lg.error("%s failed", name, exc_info=True)  # jira keeps its own logger at INFO


@pytest.mark.parametrize("jira", ["cloud", "server"])
def test_a_whole_incident_at_debug_writes_no_secret(
    jira: Literal["cloud", "server"],
    tmp_path: Path,
    debug_logging: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock = ScriptedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3))
    with Sandbox(f"sqlite:///{tmp_path / 'bot.db'}", clock=clock, jira_flavour=jira) as sb:
        as_serve_logs(sb)
        secrets = held_secrets(sb)
        keys = sb.bot.review.sessions._cookies.secret_keys  # type: ignore[union-attr]
        session_key = keys[-1].decode() if isinstance(keys[-1], bytes) else str(keys[-1])
        p = People(
            *(sb.slack.user_id(n) for n in ("alice", "bob", "carol")),
            sb.slack.channel_by_name("general")["id"],  # type: ignore[index]
        )
        command(sb, p.alice, p.general, "declare sev2 Checkout returns 500s")
        (incident,) = api(sb, "/api/incidents").json()["incidents"]
        channel = incident["channel"]["id"]
        command(sb, p.alice, channel, "page database")
        pd = sb.pagerduty
        for pd_incident in pd.incidents():  # the on-call acks in PagerDuty: a signed webhook
            pd.acknowledge(pd_incident["id"], pd.user_id("alice"))
        sb.settle()
        assert api(sb, f"/api/incidents/{incident['id']}").json()["milestones"]["acknowledged_at"]
        assert post(sb, "/webhooks/alertmanager", alertmanager()).status_code == 200
        assert post(sb, "/webhooks/alertmanager", resolved(alertmanager())).status_code == 200
        assert post(sb, "/webhooks/alertmanager", alertmanager(), token="wrong").status_code == 401
        assert api(sb, "/api/incidents", token="wrong").status_code == 401

        command(sb, p.alice, channel, "review")  # a sign-in link, used in a browser
        (link,) = re.findall(r"<(http[^|>]+)\|", ephemerals(sb, p.alice)[-1])
        # the browser is not the bot: http.client, which logs nothing of the test's own
        signed_in = browse(link)
        assert signed_in.status == 303
        cookie = signed_in.headers["set-cookie"].split(";", 1)[0].split("=", 1)[1]
        dashboard = browse(f"{sb.url}/", cookie=cookie)
        assert "Checkout returns 500s" in dashboard.read().decode()
        seen_only_by_the_bot = {
            "review session key": session_key,
            "review sign-in link token": link.split("t=", 1)[1],
            "review session cookie": cookie,
        }

        sb.slack.fail("chat.postMessage", error="internal_error")  # errors are logged too
        sb.jira.fail_next(500, path_prefix="issue")
        command(sb, p.alice, channel, "resolve Rolled back")
        command(sb, p.alice, channel, "close")
        clock.advance(minutes=5)  # the retries
        sb.bot.runner.sweep()
        sb.settle()
        assert any("postmortem" in i["fields"]["labels"] for i in sb.jira.issues())
        library_dumps(secrets)
        sb.settle()
    logged = capsys.readouterr().err
    lines = logged.splitlines()
    assert len(lines) > 300
    loggers = {m.group(1) for m in re.finditer(r'"logger": "([a-z0-9_]+)', logged)}
    assert {"slack_sdk", "urllib3", "httpx", "jira", "pagerduty", "uvicorn"} <= loggers
    assert any(
        '"logger": "uvicorn.access"' in line and "/review/login?t=" in line for line in lines
    )
    everything = {**secrets, **seen_only_by_the_bot}
    leaks = {
        name: [line for line in lines if value in line][:2] for name, value in everything.items()
    }
    assert {name: found for name, found in leaks.items() if found} == {}
    assert REDACTED in logged  # they were there to be replaced


def test_serve_hands_uvicorns_logs_to_the_redacting_handler(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    debug_logging: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`incidentbot serve` as run: uvicorn's error and access loggers write through ours (left
    to their own handlers, they would print a sign-in link or a secret in an error as is)."""
    import uvicorn

    from bot.cli import app
    from bot.store.db import Database

    db_url = f"sqlite:///{tmp_path / 'bot.db'}"
    Database(db_url).upgrade()
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name, value in {
        "DATABASE_URL": db_url,
        "SLACK_BOT_TOKEN": "xoxb-serve-test-token",
        "SLACK_SIGNING_SECRET": "serve-signing-secret",
        "API_TOKEN": "serve-api-token",
        "LOG_LEVEL": "DEBUG",
    }.items():
        monkeypatch.setenv(name, value)

    def run(asgi: object, **options: object) -> None:  # uvicorn sets its logging up, then serves
        uvicorn.Config(asgi, **options)  # type: ignore[arg-type]
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d',
            "10.0.0.1:5",
            "GET",
            "/review/login?t=abc.def-123",
            "1.1",
            303,
        )
        logging.getLogger("uvicorn.error").error("Exception in ASGI app: bad token serve-api-token")

    monkeypatch.setattr(uvicorn, "run", run)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # as in a fresh process (a
        lg = logging.getLogger(name)  # sandbox run earlier in this one turned its access log off)
        lg.handlers[:], lg.propagate, lg.level = [], True, logging.NOTSET
    try:
        result = CliRunner().invoke(app, ["serve", "--no-in-process-scheduler"])
    finally:
        gc.unfreeze()  # serve freezes its start-up objects; this process goes on testing
    assert result.exit_code == 0, result.output
    written = capsys.readouterr()
    logged = written.err + written.out + result.output
    assert '"logger": "uvicorn.access"' in logged and '"logger": "uvicorn.error"' in logged
    assert "abc.def-123" not in logged and "serve-api-token" not in logged

"""Logs: one JSON object per line, the incident bound from context, secrets never written."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from bot.logs import REDACTED, bound, configure
from bot.settings import Settings

LIBRARIES = ("uvicorn", "uvicorn.error", "uvicorn.access", "apscheduler", "alembic")


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The root logger as it was after each test, and the libraries' loggers as `serve` leaves
    them (uvicorn with log_config=None): an in-process uvicorn earlier in the session (the
    sandbox's, with uvicorn's own config) stops its loggers propagating and raises their levels."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    saved = {}
    for name in LIBRARIES:
        logger = logging.getLogger(name)
        saved[name] = (list(logger.handlers), logger.level, logger.propagate, logger.disabled)
        logger.handlers[:] = []
        logger.setLevel(logging.NOTSET)
        logger.propagate, logger.disabled = True, False
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, (lib_handlers, lib_level, propagate, disabled) in saved.items():
        logger = logging.getLogger(name)
        logger.handlers[:] = lib_handlers
        logger.setLevel(lib_level)
        logger.propagate, logger.disabled = propagate, disabled


def test_json_lines_with_the_incident_bound_and_secrets_redacted(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        slack_bot_token=SecretStr("xoxb-123456-abcdef-secret"),
        pagerduty_webhook_secrets=SecretStr("first-secret-value, second-secret-value"),
        api_token=SecretStr("api-token-value-1234"),
    )
    configure("INFO", "json", settings.secret_values())
    log = logging.getLogger("bot.test")
    with bound(incident_id=42, effect="chat.post_line"):
        log.warning("posting with token %s failed", "xoxb-123456-abcdef-secret")
    log.info("webhook secret second-secret-value rotated", extra={"by": "api-token-value-1234"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    first, second = lines
    assert first["incident_id"] == 42 and first["effect"] == "chat.post_line"
    assert first["level"] == "warning" and first["logger"] == "bot.test"
    assert first["event"] == f"posting with token {REDACTED} failed"
    assert "timestamp" in first and first["timestamp"].endswith("Z")
    assert "incident_id" not in second  # unbound once the block ends
    assert second["event"] == f"webhook secret {REDACTED} rotated" and second["by"] == REDACTED


def emit_library_chatter() -> None:
    """What APScheduler, uvicorn and alembic write while `serve` runs (uvicorn sets its own
    loggers' levels when it starts, and adds a coloured copy of its message as an extra)."""
    logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    logging.getLogger("apscheduler.executors.default").info(
        'Running job "sweep (trigger: interval[0:00:01], next run at: …)" (scheduled at …)'
    )
    logging.getLogger("apscheduler.executors.default").info('Job "sweep" executed successfully')
    logging.getLogger("apscheduler.scheduler").warning(
        'Run time of job "sweep" was missed by 0:00:03'
    )
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "10.0.0.1:5", "GET", "/healthz", "1.1", 200
    )
    logging.getLogger("uvicorn.error").info(
        "Started server process [%d]",
        4242,
        extra={"color_message": "Started server process [\x1b[36m%d\x1b[0m]"},
    )
    logging.getLogger("alembic.runtime.migration").info("Context impl SQLiteImpl.")
    logging.getLogger("bot.test").info("deploy \x1b[1mfinished\x1b[0m")


def logged(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    err = capsys.readouterr().err
    assert "\x1b[" not in err and "\\u001b" not in err and "color_message" not in err
    return [json.loads(line) for line in err.splitlines()]


def test_routine_library_lines_stay_out_at_info_and_their_warnings_do_not(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure("INFO", "json")
    emit_library_chatter()
    lines = logged(capsys)
    assert [(line["logger"], line["event"]) for line in lines] == [
        ("apscheduler.scheduler", 'Run time of job "sweep" was missed by 0:00:03'),
        ("uvicorn.error", "Started server process [4242]"),
        ("bot.test", "deploy finished"),
    ]


def test_debug_brings_the_library_lines_back_without_colours(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure("DEBUG", "json")
    emit_library_chatter()
    loggers = [line["logger"] for line in logged(capsys)]
    assert loggers == [
        "apscheduler.executors.default",
        "apscheduler.executors.default",
        "apscheduler.scheduler",
        "uvicorn.access",
        "uvicorn.error",
        "alembic.runtime.migration",
        "bot.test",
    ]


def test_console_lines_carry_no_colours_either(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure("INFO", "console")
    emit_library_chatter()
    err = capsys.readouterr().err
    assert "\x1b[" not in err and "color_message" not in err
    assert "Started server process [4242]" in err and "Running job" not in err

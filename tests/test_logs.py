"""Logs: one JSON object per line, the incident bound from context, secrets never written."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from bot.logs import REDACTED, bound, configure
from bot.settings import Settings


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


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
    with bound(incident_id=42, effect="slack.post_line"):
        log.warning("posting with token %s failed", "xoxb-123456-abcdef-secret")
    log.info("webhook secret second-secret-value rotated", extra={"by": "api-token-value-1234"})
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    first, second = lines
    assert first["incident_id"] == 42 and first["effect"] == "slack.post_line"
    assert first["level"] == "warning" and first["logger"] == "bot.test"
    assert first["event"] == f"posting with token {REDACTED} failed"
    assert "timestamp" in first and first["timestamp"].endswith("Z")
    assert "incident_id" not in second  # unbound once the block ends
    assert second["event"] == f"webhook secret {REDACTED} rotated" and second["by"] == REDACTED

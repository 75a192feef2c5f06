"""Logging: one JSON object per line (or readable lines with LOG_FORMAT=console), the incident id
and effect bound from context, and every configured secret replaced before a line is written.

Library loggers (slack_bolt, slack_sdk, urllib3, httpx, jira, pagerduty, apscheduler, uvicorn …)
go through the same formatter, so a token that a library would print in a header, a URL or an
error still never reaches the log: every configured secret is replaced wherever it appears — in
the message, in extra fields however nested, in a traceback, in the rendered line — and so are
the sign-in tokens of review links in request lines. `serve` hands uvicorn `log_config=None` so
its error and access logs propagate here instead of to handlers of their own.

Routine third-party lines stay out unless LOG_LEVEL=debug: APScheduler's every job run (once a
second), uvicorn's access line per request, alembic's start-up notes — their warnings and
errors still show. Lines carry no terminal colours: uvicorn's `color_message` extra is dropped
and ANSI escape codes are stripped from every field."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog

REDACTED = "[redacted]"


# A review page's magic link (`/review/login?t=…`) signs its holder in: uvicorn's access log
# would print it with the request line.
_LINK_TOKEN = re.compile(r"([?&]t=)[^\s&\"'#]+")

# Loggers whose info lines are routine chatter (shown at LOG_LEVEL=debug)
CHATTY = ("apscheduler", "uvicorn.access", "alembic.runtime.migration")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


class Redactor:
    """Replaces every secret (at least 6 characters, longest first) and link token in a string,
    and in every string inside dicts, lists and tuples."""

    def __init__(self, secrets: Iterable[str]) -> None:
        self.values = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def text(self, value: str) -> str:
        for secret in self.values:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return _LINK_TOKEN.sub(rf"\1{REDACTED}", value) if "t=" in value else value

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):  # rendered as JSON arrays
            return [self.value(v) for v in value]
        if isinstance(value, bytes):
            return self.text(value.decode("utf-8", "replace"))
        return value

    def event(
        self, _logger: Any, _method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        """structlog processor: every field of the event dict."""
        for key, value in list(event.items()):
            event[key] = self.value(value)
        return event

    def line(self, _logger: Any, _method: str, line: Any) -> Any:
        """The last processor: the rendered line, where reprs of objects may carry secrets too."""
        return self.text(line.decode("utf-8", "replace") if isinstance(line, bytes) else line)


def configure(level: str = "INFO", fmt: str = "json", secrets: Iterable[str] = ()) -> None:
    redactor = Redactor(secrets)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
    ]
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=False)
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _plain,
            redactor.event,
            renderer,
            redactor.line,
        ],
    )
    handler = _Stderr()
    handler.setFormatter(formatter)
    if logging.getLevelName(level.upper()) != logging.DEBUG:
        handler.addFilter(_quiet_libraries)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def _quiet_libraries(record: logging.LogRecord) -> bool:
    """Below warning, the chatty libraries' lines are dropped (a handler filter: uvicorn sets
    its loggers' levels itself when it starts)."""
    if record.levelno >= logging.WARNING:
        return True
    return not any(record.name == name or record.name.startswith(name + ".") for name in CHATTY)


def _plain(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: no `color_message`, no ANSI escape codes in any field."""
    event.pop("color_message", None)
    for key, value in list(event.items()):
        event[key] = _no_ansi(value)
    return event


def _no_ansi(value: Any) -> Any:
    if isinstance(value, str):
        return _ANSI.sub("", value) if "\x1b" in value else value
    if isinstance(value, dict):
        return {k: _no_ansi(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_no_ansi(v) for v in value]
    return value


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a line is written (test runners swap it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


@contextmanager
def bound(**values: Any) -> Iterator[None]:
    """Bind values (incident_id, effect …) to every log line written inside."""
    with structlog.contextvars.bound_contextvars(
        **{k: v for k, v in values.items() if v is not None}
    ):
        yield

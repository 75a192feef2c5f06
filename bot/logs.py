"""Logging: one JSON object per line (or readable lines with LOG_FORMAT=console), the incident id
and effect bound from context, and every configured secret replaced before a line is written.

Library loggers (slack_bolt, uvicorn, httpx …) go through the same formatter, so a token that a
library would print in a URL or an error still never reaches the log."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog

REDACTED = "[redacted]"


def _redactor(secrets: Iterable[str]) -> Any:
    values = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def redact(
        _logger: Any, _method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        for key, value in list(event.items()):
            if isinstance(value, str):
                for secret in values:
                    if secret in value:
                        value = value.replace(secret, REDACTED)
                event[key] = value
        return event

    return redact


def configure(level: str = "INFO", fmt: str = "json", secrets: Iterable[str] = ()) -> None:
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
            _redactor(secrets),
            renderer,
        ],
    )
    handler = _Stderr()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


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

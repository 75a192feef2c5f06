"""Settings as the environment that gives them: what `incidentbot sandbox` and `incidentbot
emulators` print, so the same lines in a `.env` make `incidentbot serve` use those emulators."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from bot.settings import Settings

_NEEDS_QUOTES = set(" \t#'\"\\$`")


def settings_environment(settings: Settings) -> dict[str, str]:
    """``NAME: value`` for every setting that differs from its default, named as `Settings()`
    reads it (the field's name in capitals), secrets in clear."""
    found: dict[str, str] = {}
    for name, field in type(settings).model_fields.items():
        value = getattr(settings, name)
        if value is None or value == field.get_default(call_default_factory=True):
            continue
        found[name.upper()] = _text(value)
    return found


def env_lines(environment: dict[str, str]) -> list[str]:
    """``NAME=value`` lines a `.env` file (python-dotenv, as Settings reads it) takes exactly; a
    POSIX shell's ``set -a; . file`` too, unless a value holds both ``'`` and ``$`` or a
    backtick (none of the sandbox's does)."""
    return [f"{name}={_quoted(value)}" for name, value in environment.items()]


def _text(value: object) -> str:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _quoted(value: str) -> str:
    if value and not _NEEDS_QUOTES.intersection(value):
        return value
    if "'" not in value:
        return f"'{value}'"
    escaped = "".join("\\" + c if c in '"\\' else c for c in value)
    return f'"{escaped}"'

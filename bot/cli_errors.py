"""Configuration and environment errors as an operator meets them: whatever command meets one,
it ends with a line naming the setting (the environment variable) and what is wrong with it, a
line saying how to fix it, and exit code 2 — never a traceback. The traceback goes to the log,
at debug level only (LOG_LEVEL=debug).

One place maps failures to settings: invalid settings (one line each, the value shown unless it
is a secret), the catalog file (path:line), the database (bot/database_problems.py), a token a
vendor refuses (bot/vendor_problems.py), and :class:`ConfigProblem`, which any code may raise."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any

import typer
from pydantic import SecretStr, ValidationError
from rich.text import Text
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError
from typer.core import TyperGroup
from typer.exceptions import TyperException

from bot import database_problems, vendor_problems
from bot.catalog_file import CatalogFileError
from bot.cli_common import err
from bot.core.catalog import CatalogError
from bot.setting_rules import BadSetting
from bot.settings import Settings

EXIT_CODE = 2
log = logging.getLogger("bot.cli")


class ConfigProblem(Exception):
    """`setting` (an environment variable's name) is wrong: `what`, and `fix` says what to do."""

    def __init__(self, setting: str, what: str, fix: str) -> None:
        super().__init__(f"{setting}: {what}; {fix}")
        self.setting = setting
        self.what = what
        self.fix = fix


class ConfigProblems(Exception):
    """Several problems found together (each credential a vendor refused, say)."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class ExplainedErrors(TyperGroup):
    """The `incidentbot` group: what any subcommand raises is explained, if it can be."""

    def invoke(self, ctx: Any) -> Any:  # typer's own click Context
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if not _explained(exc):
                raise
            raise typer.Exit(EXIT_CODE) from None


def run(app: Callable[[], object]) -> None:
    """Run the CLI; a configuration or environment error met outside a subcommand (or by an
    app without :class:`ExplainedErrors`) still ends with its problems and exit 2."""
    try:
        app()
    except Exception as exc:
        if not _explained(exc):
            raise
        sys.exit(EXIT_CODE)


def _explained(exc: Exception) -> bool:
    """Reported (and the traceback logged at debug) if `exc` is a problem this module knows."""
    if isinstance(exc, typer.Exit | typer.Abort | TyperException):
        return False  # the command has said what it had to
    problems = explain(exc)
    if problems:
        _log_traceback(exc)
        report(problems)
    return bool(problems)


def report(problems: list[ConfigProblem]) -> None:
    fixes_shown: set[str] = set()
    for problem in problems:
        err.print(
            Text.assemble((problem.setting, "bold red"), f": {problem.what}"),
            soft_wrap=True,
        )
        if problem.fix and problem.fix not in fixes_shown:
            fixes_shown.add(problem.fix)
            err.print(Text(f"  fix: {problem.fix}"), soft_wrap=True)


def explain(exc: BaseException) -> list[ConfigProblem]:
    """The problems `exc` (or an exception it was raised from) stands for; [] if none."""
    for candidate in _chain(exc):
        found = _explain_one(candidate)
        if found:
            return found
    return []


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__


def _explain_one(exc: BaseException) -> list[ConfigProblem]:
    if isinstance(exc, ConfigProblem):
        return [exc]
    if isinstance(exc, ConfigProblems):
        return list(exc.problems)
    if isinstance(exc, ValidationError) and exc.title == Settings.__name__:
        return settings_problems(exc)
    if isinstance(exc, CatalogError):
        lines = exc.problems if isinstance(exc, CatalogFileError) else [str(exc)]
        fix = "correct the file (incidentbot.example.yaml shows every section)"
        return [ConfigProblem("INCIDENTBOT_CONFIG", line, fix) for line in lines]
    database_error = isinstance(exc, ArgumentError | OperationalError) or (
        isinstance(exc, DatabaseError) and "not a database" in str(exc.orig)
    )
    if database_error:
        explained = database_problems.explain(exc, _database_url())
        return [ConfigProblem("DATABASE_URL", *explained)] if explained else []
    refusal = vendor_problems.explain(exc)
    return [ConfigProblem(*refusal)] if refusal else []


# Fixes for pydantic's own checks (types, bounds, patterns), by field
_FIXES = {
    "log_format": "set LOG_FORMAT to json or console",
    "jira_api_version": "set JIRA_API_VERSION to 2 (wiki markup) or 3 (ADF, Cloud)",
    "jira_timeout": "set JIRA_TIMEOUT to a number of seconds above 0",
    "shutdown_grace": "set SHUTDOWN_GRACE to a number of seconds from 0 to 3600",
    "auth_failures_per_minute": "set AUTH_FAILURES_PER_MINUTE to a whole number of at least 1",
}


def settings_problems(exc: ValidationError) -> list[ConfigProblem]:
    """One problem per invalid setting, named by its environment variable."""
    problems = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        setting = field.upper() or "settings"
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, BadSetting):
            problems.append(ConfigProblem(cause.setting or setting, cause.what, cause.fix))
            continue
        secret = field in Settings.model_fields and _is_secret(Settings.model_fields[field])
        shown = "" if secret else f"{_shorten(error.get('input'))}: "
        fix = _FIXES.get(field, f"correct {setting} or unset it to use the default")
        problems.append(ConfigProblem(setting, f"{shown}{error['msg']}", fix))
    return problems


def _is_secret(field: Any) -> bool:
    return "SecretStr" in str(field.annotation) or field.annotation is SecretStr


def _shorten(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "…"


def _database_url() -> str | None:
    try:
        return Settings().database_url
    except Exception:  # the settings are what is wrong: the environment says where it is
        return os.environ.get("DATABASE_URL")


def _log_traceback(exc: BaseException) -> None:
    """At debug level only. Before the settings configured logging (they may be what is
    wrong), LOG_LEVEL=debug still shows it, with the secrets in the environment redacted."""
    if not logging.getLogger().handlers and os.environ.get("LOG_LEVEL", "").lower() == "debug":
        from bot.logs import configure

        fmt = "console" if os.environ.get("LOG_FORMAT", "").lower() == "console" else "json"
        configure("DEBUG", fmt, _secrets_in_environment())
    log.debug("configuration error: %s", exc, exc_info=exc)


def _secrets_in_environment() -> list[str]:
    return [
        value
        for name, field in Settings.model_fields.items()
        if _is_secret(field) and (value := os.environ.get(name.upper()))
    ]

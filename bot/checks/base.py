"""What a check answers (ok, warning or failed, with the fix) and the recorder the check
modules add their answers to. A check never raises: whatever goes wrong becomes a line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.core.catalog import CatalogError
from bot.flows.ports import IntegrationError

DETAIL_MAX = 400


class Level(StrEnum):
    OK = "ok"
    WARNING = "warning"  # the bot runs, but something people expect will not work
    FAILED = "failed"  # the first incident would fail here


@dataclass(frozen=True)
class Check:
    name: str
    level: Level
    detail: str
    fix: str = ""

    @property
    def ok(self) -> bool:
        """Not failed (a warning does not fail `config check`)."""
        return self.level is not Level.FAILED

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "level": self.level.value,
            "detail": self.detail,
            "fix": self.fix,
        }


class Problem(Exception):
    """Raised inside an attempt: the check fails (or warns) with this detail; `fix` replaces the
    attempt's own fix when given."""

    def __init__(self, detail: str, fix: str | None = None, *, level: Level = Level.FAILED):
        super().__init__(detail)
        self.detail = detail
        self.fix = fix
        self.level = level


@dataclass
class Recorder:
    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, level: Level, detail: str, fix: str = "") -> None:
        self.checks.append(Check(name, level, detail[:DETAIL_MAX], fix))

    def ok(self, name: str, detail: str) -> None:
        self.add(name, Level.OK, detail)

    def warn(self, name: str, detail: str, fix: str) -> None:
        self.add(name, Level.WARNING, detail, fix)

    def fail(self, name: str, detail: str, fix: str) -> None:
        self.add(name, Level.FAILED, detail, fix)

    def attempt(self, name: str, fix: str, fn: Callable[[], str]) -> bool:
        """Runs `fn` (its answer is the ok line); False when it failed or warned."""
        try:
            self.ok(name, fn())
            return True
        except Problem as problem:
            self.add(name, problem.level, problem.detail, problem.fix or fix)
        except (IntegrationError, CatalogError, ValueError, OSError) as exc:
            self.fail(name, str(exc), fix)
        except Exception as exc:  # a library's own error: still a clear line, never a traceback
            self.fail(name, f"{type(exc).__name__}: {exc}", fix)
        return False

"""The core imports no SDK, database or HTTP library (docs/ARCHITECTURE.md §1)."""

from __future__ import annotations

import subprocess
import sys

BLOCKED = [
    "slack_bolt",
    "slack_sdk",
    "pagerduty",
    "jira",
    "sqlmodel",
    "sqlalchemy",
    "apscheduler",
    "requests",
    "httpx",
    "urllib3",
    "starlette",
]

SCRIPT = f"""
import importlib, pkgutil, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {BLOCKED!r}:
            raise ImportError("bot.core must stay pure, it imported " + name)
        return None
sys.meta_path.insert(0, Block())
import bot.core
for info in pkgutil.walk_packages(bot.core.__path__, "bot.core."):
    importlib.import_module(info.name)
print("pure")
"""


def test_core_imports_no_sdk_nor_database() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pure"

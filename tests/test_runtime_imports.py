"""The bot runs on its runtime dependencies alone: every module of the package imports in a
process where the distributions only the `dev` extra brings (pytest, httpx, aiohttp, hypothesis,
selenium, schemathesis … and what they pull in) cannot be imported, as after `pip install` of
the wheel without extras. (tests/test_wheel.py runs the installed wheel for real.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.utils import canonicalize_name

from tools.lock import closure, project_requirements

ROOT = Path(__file__).resolve().parents[1]

# Run in a fresh interpreter: a finder first on sys.meta_path refuses the dev-only modules the
# way a missing distribution would, then every module of `bot` is imported.
PROBE = """
import importlib, json, sys
from importlib.abc import MetaPathFinder

blocked = set(json.loads(sys.argv[1]))
modules = json.loads(sys.argv[2])

class DevOnly(MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None

sys.meta_path.insert(0, DevOnly())
try:
    import httpx  # noqa: F401
except ModuleNotFoundError:
    pass
else:
    sys.exit("the blocker let httpx through")
failures = {}
for name in modules:
    try:
        importlib.import_module(name)
    except Exception as exc:
        failures[name] = f"{type(exc).__name__}: {exc}"
print(json.dumps(failures))
"""


def dev_only_modules() -> list[str]:
    """Top-level import names whose every distribution comes only with the `dev` extra."""
    runtime = set(closure(project_requirements(extras=())))
    dev_only = set(closure(project_requirements(extras=("dev",)))) - runtime
    return sorted(
        module
        for module, dists in metadata.packages_distributions().items()
        if dists and all(canonicalize_name(d) in dev_only for d in dists)
    )


def bot_modules() -> list[str]:
    """Every module of the package, except `__main__`s (they run a CLI) and the Alembic
    environment and revisions (Alembic loads them by path, inside a migration)."""
    found = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__main__" or "migrations" in parts:
            continue
        found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


def test_the_dev_only_list_names_the_test_tools() -> None:
    assert {"pytest", "httpx", "aiohttp", "hypothesis", "selenium", "schemathesis"} <= set(
        dev_only_modules()
    )


def test_every_bot_module_imports_without_the_dev_dependencies() -> None:
    modules = bot_modules()
    assert {"bot.cli", "bot.demo", "bot.sandbox", "bot.package_data"} <= set(modules)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(dev_only_modules()), json.dumps(modules)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {}

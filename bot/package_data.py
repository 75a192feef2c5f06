"""Where the files that ship with incidentbot are, however it was installed.

The shipped playbooks, post-mortem templates and Slack app manifest are edited at the top of the
repository (`playbooks/`, `postmortem_templates/`, `slack_manifest.yaml`); building a wheel copies
them into the package as `bot/shipped/` (setup.py). The Alembic migrations live in the package
(`bot/migrations/`). So:

- an installed wheel (`pip install incidentbot-….whl`, the Docker image) reads `bot/shipped/…`;
- a source checkout (`PYTHONPATH=.`, `pip install -e .`) reads the repository's own files, so an
  edit there is what the bot uses, with no build step.

Directories given by setting (PLAYBOOKS_DIR, POSTMORTEM_TEMPLATES_DIR) override these defaults."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

SHIPPED = "shipped"  # the package directory setup.py copies the repository's files into
SHIPPED_FILES = ("playbooks", "postmortem_templates", "slack_manifest.yaml")


def package_root() -> Path:
    """The `bot` package's directory (wheels are installed unpacked, so it is a real path)."""
    return Path(str(files("bot"))).resolve()


def _shipped(name: str) -> Path:
    built = package_root() / SHIPPED / name
    if built.exists():
        return built
    source = package_root().parent / name  # the repository root of a source checkout
    if source.exists():
        return source
    return built  # neither (a broken install): the path the caller reports as missing


def playbooks_dir() -> Path:
    return _shipped("playbooks")


def postmortem_templates_dir() -> Path:
    return _shipped("postmortem_templates")


def slack_manifest_path() -> Path:
    return _shipped("slack_manifest.yaml")


def migrations_dir() -> Path:
    return package_root() / "migrations"

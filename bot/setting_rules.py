"""What a setting's value must be, beyond its type, checked when the settings load: a database
URL incidentbot can use, CA bundles that are PEM files, a routing key of the right length, a
log level logging knows, folders that are folders, web addresses links are built on. Each rule raises :class:`BadSetting`, which says what is wrong and how
to fix it (`bot.cli_errors` prints it next to the environment variable's name)."""

from __future__ import annotations

import re
import ssl
from pathlib import Path
from urllib.parse import urlsplit

DATABASE_EXAMPLES = (
    "sqlite:///incidentbot.db (a file) or postgresql+psycopg://user:password@host:5432/incidentbot"
)
_SUPPORTED_DRIVERS = {"sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg", "postgres"}
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
ROUTING_KEY_LENGTH = 32


class BadSetting(ValueError):
    """A setting's value is unusable: `what` is wrong with it, `fix` says what to set instead."""

    def __init__(self, what: str, fix: str, setting: str | None = None) -> None:
        super().__init__(f"{what}; {fix}")
        self.what = what
        self.fix = fix
        self.setting = setting  # when a check of several fields raises it


def database_url(value: str) -> str:
    """SQLite or PostgreSQL (through psycopg), as a URL SQLAlchemy parses."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except (ArgumentError, ValueError) as exc:
        raise BadSetting(
            f"{hide_password(value)!r} is not a database URL", f"set it to {DATABASE_EXAMPLES}"
        ) from exc
    if url.drivername not in _SUPPORTED_DRIVERS:
        raise BadSetting(
            f"{url.drivername!r} databases are not supported (incidentbot runs on SQLite or "
            "PostgreSQL through psycopg)",
            f"set it to {DATABASE_EXAMPLES}",
        )
    return value


def hide_password(text: str) -> str:
    """`user:secret@host` → `user:***@host`, in a string that may not parse as a URL."""
    return re.sub(r"(://[^:/@\s]*:)[^@\s]*@", r"\1***@", text)


def ca_bundle(value: object) -> Path | None:
    """A readable PEM file of CA certificates (for a proxy or a self-hosted server's TLS)."""
    if value is None:
        return None
    text = str(value).strip()
    unset = "or unset it to trust the system's certificates"
    if not text:
        raise BadSetting(
            "is set but empty", f"give the path of a PEM file of CA certificates, {unset}"
        )
    path = Path(text).expanduser()
    if not path.exists():
        raise BadSetting(
            f"{text}: no such file", f"give the path of a PEM file of CA certificates, {unset}"
        )
    if not path.is_file():
        raise BadSetting(f"{text} is not a file", f"give the path of a PEM file, {unset}")
    try:
        ssl.create_default_context(cafile=str(path))
    except PermissionError as exc:
        raise BadSetting(
            f"{text}: cannot read it ({exc.strerror})", "make it readable by this user"
        ) from exc
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise BadSetting(
            f"{text} holds no PEM CA certificate ({exc})",
            "give a file of -----BEGIN CERTIFICATE----- blocks",
        ) from exc
    return path


def folder(setting: str, value: Path | None, *, may_be_missing: bool) -> Path | None:
    """A folder given by `setting` (defaults are not checked): one that is a file is always
    wrong; one that does not exist is wrong unless `may_be_missing` (no playbooks, say)."""
    if value is None or (may_be_missing and not value.exists()):
        return value
    if not value.exists():
        fix = "fix the path, or unset it for the default"
        raise BadSetting(f"{value}: no such folder", fix, setting)
    if not value.is_dir():
        raise BadSetting(f"{value} is a file, not a folder", "give the folder instead", setting)
    return value


def routing_key(value: str | None) -> str | None:
    if value is not None and len(value) != ROUTING_KEY_LENGTH:
        raise BadSetting(
            f"has {len(value)} characters, a PagerDuty routing key has {ROUTING_KEY_LENGTH}",
            "copy the Integration Key of the service's Events API v2 integration in PagerDuty",
        )
    return value


def log_level(value: str) -> str:
    if value.strip().lower() not in LOG_LEVELS:
        raise BadSetting(f"{value!r} is not a log level", f"use one of {', '.join(LOG_LEVELS)}")
    return value.strip().upper()


OPSGENIE_APP_EXAMPLE = (
    "https://<your-site>.app.opsgenie.com (JSM Operations: https://<site>.atlassian.net/jira/ops)"
)


def opsgenie_app_url(value: str | None) -> str | None:
    """The web app people open Opsgenie alerts in (their links are built on it), without its
    trailing slash: an http(s) address with a host, not the API's."""
    if value is None:
        return None
    text = value.strip().rstrip("/")
    fix = f"set it to the address you open Opsgenie at, {OPSGENIE_APP_EXAMPLE}, or unset it"
    if not text:
        raise BadSetting("is set but empty", fix)
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname or " " in text:
        raise BadSetting(f"{text!r} is not a web address", fix)
    if parts.query or parts.fragment:
        raise BadSetting(f"{text!r} has a query or fragment; give the site's address only", fix)
    if parts.hostname.startswith("api.") or parts.hostname == "api.atlassian.com":
        raise BadSetting(
            f"{text!r} is the API's address (that is OPSGENIE_API_URL); links need the web app's",
            fix,
        )
    return text

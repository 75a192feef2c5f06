"""Why the database in DATABASE_URL cannot be used, in the operator's words: the SQLite file's
folder is missing or not writable; PostgreSQL is down, unknown, refuses the user or lacks the
database. Each answer is (what is wrong, how to fix it)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from bot.setting_rules import DATABASE_EXAMPLES

Explained = tuple[str, str]


def explain(exc: BaseException, url: str | None) -> Explained | None:
    """(what, fix) for a SQLAlchemy error met while connecting to `url`; None: not ours."""
    if isinstance(exc, ArgumentError):
        return f"not a database URL ({exc})", f"set it to {DATABASE_EXAMPLES}"
    if not isinstance(exc, DBAPIError) or url is None:
        return None
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    message = str(exc.orig or exc).strip()
    if parsed.get_backend_name() == "sqlite":
        return _sqlite(parsed, message)
    return _postgres(parsed, message)


def _sqlite(url: URL, message: str) -> Explained:
    first = message.splitlines()[0] if message else "failed"
    if not url.database or url.database == ":memory:":
        return f"SQLite failed: {first}", "check DATABASE_URL"
    path = Path(url.database).expanduser()
    folder = path.parent.resolve() if path.parent != Path() else Path.cwd()
    move = "point DATABASE_URL at a file in a folder this user can write"
    if "unable to open" in message:
        existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
        if existing is not None and not existing.is_dir():
            return f"cannot create the SQLite file {path}: {existing} is a file, not a folder", move
        if existing != folder:
            return (
                f"cannot create the SQLite file {path}: the folder {folder} does not exist",
                f"create it (mkdir -p {folder}) or {move}",
            )
        if not os.access(folder, os.W_OK | os.X_OK):
            return f"cannot create the SQLite file {path}: {folder} is not writable", move
        return f"cannot open the SQLite file {path} ({first})", move
    if "readonly" in message.replace(" ", "") or "read-only" in message:
        return f"the SQLite file {path} is read-only ({first})", f"make it writable, or {move}"
    if "not a database" in message:
        return f"{path} is not a SQLite database", "point DATABASE_URL at the bot's database file"
    return f"SQLite failed on {path}: {first}", "check the file and DATABASE_URL"


def _postgres(url: URL, message: str) -> Explained:
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    user = url.username or os.environ.get("PGUSER") or "(default user)"
    database = url.database or user
    lowered = message.lower()
    if "does not exist" in lowered and re.search(r'database "[^"]*" does not exist', message):
        return (
            f"PostgreSQL at {where} has no database {database!r}",
            f"create it (createdb -h {url.host or 'localhost'} -p {url.port or 5432} "
            f"-U {user} {database}) or fix the name in DATABASE_URL",
        )
    if re.search(r'role "[^"]*" does not exist', message):
        return (
            f"PostgreSQL at {where} has no user {user!r}",
            "fix the user in DATABASE_URL or create the role",
        )
    refused_auth = (
        "password authentication failed",
        "no password supplied",
        "pg_hba.conf",
        "authentication failed",
        "permission denied for database",
    )
    if any(part in lowered for part in refused_auth):
        return (
            f"PostgreSQL at {where} refused user {user!r} ({_fatal(message)})",
            "fix the user and password in DATABASE_URL (or the server's pg_hba.conf)",
        )
    if "connection refused" in lowered:
        return (
            f"nothing accepts connections at {where} (connection refused)",
            "start PostgreSQL there, or fix the host and port in DATABASE_URL",
        )
    if "resolve host" in lowered or "translate host name" in lowered or "not known" in lowered:
        return (
            f"unknown host {url.host!r}",
            "fix the host in DATABASE_URL",
        )
    if "timeout" in lowered or "timed out" in lowered:
        return (
            f"PostgreSQL at {where} did not answer in time",
            "check the host, port and firewall in between",
        )
    return (
        f"PostgreSQL at {where} failed: {_fatal(message)}",
        "check that the server is up and DATABASE_URL is right",
    )


def _fatal(message: str) -> str:
    """The server's own words, without psycopg's `connection to server at … failed:` lead."""
    first = message.splitlines()[0] if message else ""
    return re.sub(r"^.*failed:\s*(FATAL:\s*)?", "", first).strip() or first

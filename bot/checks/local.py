"""What the deployment reads from disk and its database: the catalog, the playbooks, the
post-mortem templates and the schema."""

from __future__ import annotations

from bot.checks.base import Recorder
from bot.core.catalog import Catalog
from bot.settings import Settings


def check_local(settings: Settings, r: Recorder) -> Catalog | None:
    """The catalog (None when it does not load), then the files it names, then the database."""
    loaded: list[Catalog] = []

    def catalog() -> str:
        loaded.append(settings.catalog())
        where = settings.incidentbot_config or "built-in defaults"
        return (
            f"{where}: {len(loaded[0].severities)} severities, {len(loaded[0].services)} services"
        )

    r.attempt("catalog", "fix INCIDENTBOT_CONFIG (see incidentbot.example.yaml)", catalog)
    if loaded:
        _files(settings, loaded[0], r)
    r.attempt(
        "database",
        "check DATABASE_URL, then run `incidentbot db upgrade`",
        lambda: _database(settings),
    )
    return loaded[0] if loaded else None


def _files(settings: Settings, catalog: Catalog, r: Recorder) -> None:
    from bot.playbook_files import load_directory

    def playbooks() -> str:
        loaded = load_directory(settings.playbooks_dir, catalog)
        if loaded.problems:
            first = loaded.problems[0]
            raise ValueError(f"{len(loaded.problems)} problem(s), first: {first}")
        return f"{len(loaded.playbooks)} playbooks in {settings.playbooks_dir}"

    def templates() -> str:
        from bot.flows.postmortem import SUFFIX

        names = {catalog.postmortem.template, *catalog.postmortem.templates_by_severity.values()}
        names |= set(catalog.postmortem.templates_by_service.values())
        missing = [
            n
            for n in sorted(names)
            if not (settings.postmortem_templates_dir / (n + SUFFIX)).is_file()
        ]
        if missing:
            raise ValueError(
                f"missing {', '.join(n + SUFFIX for n in missing)} in {settings.postmortem_templates_dir}"
            )
        return f"{len(names)} post-mortem template(s) in {settings.postmortem_templates_dir}"

    r.attempt("playbooks", "run `incidentbot playbooks lint` and fix what it prints", playbooks)
    r.attempt(
        "post-mortem templates",
        "add the template or fix the catalog's postmortem section",
        templates,
    )


def _database(settings: Settings) -> str:
    from bot.store.db import Database

    db = Database(settings.database_url)
    try:
        db.require_current_schema()
    finally:
        db.engine.dispose()
    return f"{db.engine.dialect.name}, schema at {db.head_revision()}"

"""Jira: the settings are complete, the credentials sign in, and what the post-mortem export
writes exists: the project, the issue types it creates, the link type between the post-mortem
and its follow-ups, and the security level of private post-mortems (see TrackerEffects.export);
and for each service whose catalog entry names its own `tracker:`, its project, issue types and
request type, or the service desk it needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from bot.adapters import jira_service_desk
from bot.adapters.jira import JiraTracker
from bot.adapters.jira_service_desk import JiraServiceDesk
from bot.checks.base import Level, Problem, Recorder
from bot.core.catalog import Catalog, Service, TrackerTarget
from bot.core.tracker_routes import NeedsDesk, route
from bot.flows.ports import IntegrationError
from bot.settings import Settings
from bot.wiring import jira_tracker, service_desk

T = TypeVar("T")

CREDENTIALS = "JIRA_EMAIL + JIRA_API_TOKEN (Cloud) or JIRA_PAT (Data Center)"
IN_CONFIG = "in INCIDENTBOT_CONFIG"


def _missing_settings(settings: Settings) -> list[str]:
    missing = []
    if not settings.jira_url:
        missing.append("JIRA_URL")
    if not settings.jira_project:
        missing.append("JIRA_PROJECT")
    if settings.jira_pat is None and not (settings.jira_email and settings.jira_api_token):
        missing.append(CREDENTIALS)
    return missing


def check_jira(settings: Settings, catalog: Catalog | None, r: Recorder) -> None:
    given = [
        name
        for name, value in (
            ("JIRA_URL", settings.jira_url),
            ("JIRA_PROJECT", settings.jira_project),
            ("JIRA_EMAIL", settings.jira_email),
            ("JIRA_API_TOKEN", settings.jira_api_token),
            ("JIRA_PAT", settings.jira_pat),
        )
        if value
    ]
    if not given:
        r.ok("jira", "not configured: post-mortems stay drafts in Slack")
        return
    missing = _missing_settings(settings)
    tracker = jira_tracker(settings)
    if missing or tracker is None:
        hints = {
            "JIRA_PROJECT": "JIRA_PROJECT to the key of the project post-mortems go to (e.g. OPS)"
        }
        fix = "set " + " and ".join(hints.get(name, name) for name in missing)
        r.fail(
            "jira",
            f"{', '.join(given)} set but not {', '.join(missing)}: post-mortems are not "
            "exported to Jira (they stay drafts in Slack)",
            fix,
        )
        return
    if not r.attempt("jira", f"check JIRA_URL and {CREDENTIALS}", lambda: _myself(tracker)):
        return
    if catalog is None:
        return
    pm = catalog.postmortem
    key = pm.tracker_project or tracker.project
    where = f"postmortem.jira_project {IN_CONFIG}" if pm.tracker_project else "JIRA_PROJECT"
    found: dict[str, Any] = {}

    def project() -> str:
        found["project"] = _read(tracker, f"project/{key}", f"no Jira project {key}")
        return f"{key} ({found['project'].get('name')})"

    fix = f"set {where} to the key of a project the Jira user can see"
    if not r.attempt("jira project", fix, project):
        return
    r.attempt(
        "jira issue types",
        f"set postmortem.issue_type {IN_CONFIG} to an issue type of {key}",
        lambda: _issue_types(catalog, key, found["project"]),
    )
    if pm.followups_as == "linked":
        r.attempt(
            "jira link type",
            f"set postmortem.link_type {IN_CONFIG} to a link type of this Jira",
            lambda: _link_type(tracker, pm.link_type),
        )
    if pm.private is not None:
        level = pm.private.security_level
        r.attempt(
            "jira security level",
            f"set postmortem.private.security_level {IN_CONFIG} to a level of {key}'s issue "
            "security scheme (its name or id)",
            lambda: _security_level(tracker, key, level),
        )
    desk = service_desk(settings, tracker)
    desk_found = desk is not None and check_service_desk(desk, pm.request_type, r)
    projects = {key: found["project"]}
    for service in catalog.services:
        if service.tracker != TrackerTarget():
            _check_service(tracker, desk, desk_found, catalog, service, projects, r)


def _check_service(
    tracker: JiraTracker,
    desk: JiraServiceDesk | None,
    desk_found: bool,
    catalog: Catalog,
    service: Service,
    projects: dict[str, Any],
    r: Recorder,
) -> None:
    """A service's own `tracker:`: the desk it needs, its project and what is made there."""
    where = f"services[{service.id}].tracker"
    name = f"jira tracker ({service.id})"
    chosen = route(catalog, service.id, has_desk=desk is not None)
    if isinstance(chosen, NeedsDesk):
        r.fail(
            name,
            f"{chosen.reason}: its post-mortems are not exported",
            f"{jira_service_desk.NOT_SET_UP} ({where}.kind {IN_CONFIG})",
        )
        return
    key = chosen.project or tracker.project

    def project() -> str:
        if key not in projects:
            projects[key] = _read(tracker, f"project/{key}", f"no Jira project {key}")
        found = f"{key} ({projects[key].get('name')})"
        if chosen.desk:
            return f"{service.id}'s post-mortems go to the service desk, its follow-ups to {found}"
        return f"{service.id}'s post-mortems go to {found}"

    fix = f"set {where}.project {IN_CONFIG} to the key of a project the Jira user can see"
    if not r.attempt(name, fix, project):
        return
    if chosen.project is not None and not (
        chosen.desk and catalog.postmortem.followups_as == "subtasks"
    ):
        r.attempt(
            f"jira issue types ({service.id})",
            f"set the postmortem issue types {IN_CONFIG} to types of {key}",
            lambda: _issue_types(catalog, key, projects[key], postmortem=not chosen.desk),
        )
    if chosen.desk and desk is not None and desk_found and service.tracker.request_type:
        r.attempt(
            f"jira request type ({service.id})",
            f"set {where}.request_type {IN_CONFIG} to a request type of the service desk",
            lambda: _request_type(desk, chosen.request_type),
        )


def check_service_desk(desk: JiraServiceDesk, request_type: str | None, r: Recorder) -> bool:
    """JIRA_SERVICE_DESK names a desk the user sees, and it has the catalog's request type.
    False: the desk itself was not found."""

    def found_desk() -> str:
        return _plainly(lambda: f"{desk.desk().key} ({desk.desk().name})")

    fix = "set JIRA_SERVICE_DESK to the key or id of a service project the Jira user is an agent of"
    if not r.attempt("jira service desk", fix, found_desk):
        return False

    r.attempt(
        "jira request type",
        f"set postmortem.request_type {IN_CONFIG} to a request type of the service desk",
        lambda: _request_type(desk, request_type),
    )
    return True


def _request_type(desk: JiraServiceDesk, request_type: str | None) -> str:
    found = _plainly(lambda: desk.request_type(request_type))
    said = f"request type “{found.name}” in {desk.desk().key}"
    if "labels" not in found.fields:
        raise Problem(
            f"{said} has no Labels field on its form: a retry after a lost answer cannot "
            "find the request it raised, and may raise a second",
            f"add the Labels field to the “{found.name}” request type's form",
            level=Level.WARNING,
        )
    return said


def _plainly(fn: Callable[[], T]) -> T:
    """The adapter's own words (they name the setting) as the check's detail."""
    try:
        return fn()
    except IntegrationError as exc:
        if exc.retryable:
            raise
        detail = str(exc).removeprefix(f"{exc.service}: {exc.code} (").removesuffix(")")
        raise Problem(detail) from exc


def _read(tracker: JiraTracker, path: str, absent: str) -> Any:
    try:
        return tracker.read(path)
    except IntegrationError as exc:
        if exc.code == "404":
            raise Problem(f"{absent} ({exc})") from exc
        raise


def _myself(tracker: JiraTracker) -> str:
    me = tracker.read("myself")
    who = me.get("emailAddress") or me.get("name") or me.get("displayName") or "?"
    return f"signed in to {tracker.url} as {who}"


def _issue_types(
    catalog: Catalog, key: str, project: dict[str, Any], *, postmortem: bool = True
) -> str:
    """The types the export creates must be in the project (its issue type scheme); with a
    service desk (`postmortem=False`) the post-mortem is the desk's request: only the linked
    follow-ups are made in the project."""
    pm = catalog.postmortem
    types = {str(t.get("name")): bool(t.get("subtask")) for t in project.get("issueTypes") or []}
    wanted: dict[str, tuple[str, bool]] = {}
    if postmortem:
        wanted[f"postmortem.issue_type {IN_CONFIG}"] = (pm.issue_type, False)
    if pm.followups_as == "linked":
        wanted[f"postmortem.followup_issue_type {IN_CONFIG}"] = (pm.followup_issue_type, False)
    elif postmortem:
        wanted[f"postmortem.followups_as {IN_CONFIG} (subtasks need a Sub-task type)"] = (
            "Sub-task",
            True,
        )
    has = ", ".join(sorted(types)) or "none"
    for setting, (name, subtask) in wanted.items():
        if name not in types or types[name] != subtask:
            raise Problem(
                f"project {key} has no {'sub-task ' if subtask else ''}issue type {name!r} "
                f"(it has {has})",
                f"set {setting} to one of its types, or add {name!r} to the project's issue "
                "type scheme",
            )
    names = sorted({name for name, _ in wanted.values()})
    return f"project {key} has {', '.join(names)}"


def _link_type(tracker: JiraTracker, wanted: str) -> str:
    answer = tracker.read("issueLinkType") or {}
    names = [str(t.get("name")) for t in answer.get("issueLinkTypes") or []]
    if wanted.lower() in (n.lower() for n in names):
        return f"link type {wanted!r} exists"
    raise Problem(
        f"Jira has no issue link type {wanted!r} (it has {', '.join(names) or 'none'})",
        f"set postmortem.link_type {IN_CONFIG} to one of them (follow-ups are linked with it)",
    )


def _security_level(tracker: JiraTracker, key: str, wanted: str) -> str:
    answer = _read(tracker, f"project/{key}/securitylevel", f"no Jira project {key}") or {}
    levels = answer.get("levels") or []
    if any(wanted in (str(x.get("id")), str(x.get("name"))) for x in levels):
        return f"security level {wanted!r} exists in {key}"
    names = ", ".join(str(x.get("name")) for x in levels) or "none"
    raise Problem(f"project {key} has no issue security level {wanted!r} (it has {names})")

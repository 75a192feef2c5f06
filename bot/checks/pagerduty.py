"""PagerDuty: the token, the user pages are made as (PAGERDUTY_FROM_EMAIL), and for each catalog
service the target it pages as the bot resolves it (its own ids, else the PAGERDUTY_* defaults):
the service, the escalation policy and the routing key exist. Read-only REST calls; a routing key
that is on no service (an Event Orchestration's), or any key when there is no REST token, is
tried with an Events API `resolve` of a dedup key no alert has, which PagerDuty drops (it opens
nothing)."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pagerduty
from pagerduty.errors import Error as PagerDutyError, HttpError

from bot.adapters.pagerduty import TIMEOUT, PagerDutyPager
from bot.checks.base import Level, Problem, Recorder
from bot.core.catalog import Catalog, PagerTarget
from bot.flows.paging import target_for
from bot.settings import Settings
from bot.wiring import paging_defaults

REST_FIX = "check PAGERDUTY_API_TOKEN and PAGERDUTY_API_URL (and PAGERDUTY_CA_BUNDLE)"
FROM_FIX = (
    "set PAGERDUTY_FROM_EMAIL to the email of a PagerDuty user (pages are made in their name)"
)
KEY_HELP = "the Integration Key of the service's Events API v2 integration"


def _where(service: str | None) -> dict[str, str]:
    """Where each id of a target is set: the catalog service's entry, else the environment."""
    if service is None:
        return {
            "service_id": "PAGERDUTY_SERVICE_ID",
            "escalation_policy_id": "PAGERDUTY_ESCALATION_POLICY_ID",
            "routing_key": "PAGERDUTY_ROUTING_KEY",
        }
    return {
        key: f"services[{service}].pagerduty.{key} in INCIDENTBOT_CONFIG (or {env})"
        for key, env in _where(None).items()
    }


def _get(rest: pagerduty.RestApiV2Client, path: str, **params: Any) -> Any:
    """The wrapped entity; None for a 404. Other errors are a failed check."""
    try:
        return rest.rget(path, params=params) if params else rest.rget(path)
    except HttpError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        if status == 404:
            return None
        raise Problem(f"GET /{path}: PagerDuty answered HTTP {status}") from exc
    except PagerDutyError as exc:
        raise Problem(f"GET /{path}: {exc}") from exc


def check_pagerduty(settings: Settings, catalog: Catalog | None, r: Recorder) -> None:
    defaults = paging_defaults(settings)
    targets: dict[str | None, PagerTarget] = {None: defaults.target(None)}
    if catalog is not None:
        for entry in catalog.services:
            target = target_for(catalog, defaults, entry.id)
            if target.kind == "pagerduty":  # another pager's services are not PagerDuty's
                targets[entry.id] = target
    mapped = any(t.service_id or t.escalation_policy_id or t.routing_key for t in targets.values())
    if settings.pagerduty_api_token is None:
        if not mapped:
            r.ok("pagerduty", "not configured: incidents are not paged")
            return
        _without_rest(settings, targets, r)
        return
    token = settings.pagerduty_api_token.get_secret_value()
    made: list[PagerDutyPager] = []

    def reach() -> str:
        made.append(
            PagerDutyPager(
                api_token=token,
                from_email=settings.pagerduty_from_email,
                api_url=settings.pagerduty_api_url,
                events_url=settings.pagerduty_events_url,
                ca_bundle=_ca_bundle(settings),
            )
        )
        return made[0].check()

    if not r.attempt("pagerduty", REST_FIX, reach):
        return
    rest = made[0].rest
    r.attempt("pagerduty from email", FROM_FIX, lambda: _from_user(rest, settings))
    lookup = _Lookup(rest, settings)
    for service, target in targets.items():
        name = f"pagerduty service {service}" if service else "pagerduty defaults"
        if service is None and not (
            target.service_id or target.escalation_policy_id or target.routing_key
        ):
            continue  # no defaults: each catalog service names its own
        r.attempt(name, REST_FIX, partial(_target, lookup, service, target))


def _ca_bundle(settings: Settings) -> Path | None:
    """PAGERDUTY_CA_BUNDLE when it is a readable file (a Problem otherwise)."""
    bundle = settings.pagerduty_ca_bundle
    if bundle is None:
        return None
    try:
        ssl.create_default_context(cafile=str(bundle))
    except (OSError, ssl.SSLError) as exc:
        raise Problem(
            f"PAGERDUTY_CA_BUNDLE={bundle}: not a readable PEM file ({exc})",
            "point PAGERDUTY_CA_BUNDLE at the PEM file of the CA PagerDuty's address is signed "
            "by, or unset it",
        ) from exc
    return bundle


def _verify(settings: Settings) -> ssl.SSLContext | bool:
    bundle = _ca_bundle(settings)
    return ssl.create_default_context(cafile=str(bundle)) if bundle else True


def _from_user(rest: pagerduty.RestApiV2Client, settings: Settings) -> str:
    email = settings.pagerduty_from_email
    if not email:
        raise Problem("PAGERDUTY_FROM_EMAIL is not set: PagerDuty refuses every page")
    users = _get(rest, "users", query=email) or []
    exact = [u for u in users if isinstance(u, dict) and u.get("email") == email]
    if exact:
        return f"{email} is PagerDuty user {exact[0].get('name')} ({exact[0].get('id')})"
    near = [u for u in users if str(u.get("email", "")).lower() == email.lower()]
    if near:
        raise Problem(
            f"PagerDuty spells it {near[0].get('email')}",
            f"set PAGERDUTY_FROM_EMAIL={near[0].get('email')}",
        )
    raise Problem(f"no PagerDuty user has the email {email}: pages would be refused")


class _Lookup:
    """The REST reads of one run, each made once (targets share the defaults)."""

    def __init__(self, rest: pagerduty.RestApiV2Client, settings: Settings) -> None:
        self.rest = rest
        self.settings = settings
        self._cache: dict[str, Any] = {}

    def get(self, path: str, **params: Any) -> Any:
        key = f"{path}?{sorted(params.items())}"
        if key not in self._cache:
            self._cache[key] = _get(self.rest, path, **params)
        return self._cache[key]

    def key_owner(self, routing_key: str) -> dict[str, Any] | None:
        """The service one of whose integrations has this routing key."""
        if "services" not in self._cache:
            try:
                self._cache["services"] = list(
                    self.rest.iter_all("services", params={"include[]": ["integrations"]})
                )
            except PagerDutyError as exc:
                raise Problem(f"GET /services: {exc}") from exc
        for service in self._cache["services"]:
            if routing_key in _keys(service):
                return dict(service)
        return None


def _keys(service: dict[str, Any]) -> set[str]:
    return {
        str(i["integration_key"])
        for i in service.get("integrations") or []
        if isinstance(i, dict) and i.get("integration_key")
    }


Found = tuple[Level, str, str]  # (level, detail, fix)


def _target(lookup: _Lookup, service: str | None, target: PagerTarget) -> str:
    """The ok line of a target; a Problem with the worst finding's level otherwise."""
    found = _findings(lookup, service, target)
    worst = max((level for level, _, _ in found), key=_rank, default=Level.OK)
    if worst is Level.OK:
        return "; ".join(detail for _, detail, _ in found)
    detail = "; ".join(d for level, d, _ in found if level is worst)
    fix = "; ".join(dict.fromkeys(f for level, _, f in found if level is worst and f))
    raise Problem(detail, fix, level=worst)


def _findings(lookup: _Lookup, service: str | None, target: PagerTarget) -> list[Found]:
    where = _where(service)
    found: list[Found] = []
    pd_service = None
    if target.service_id:
        pd_service = lookup.get(f"services/{target.service_id}", **{"include[]": ["integrations"]})
        if pd_service is None:
            found.append(_missing("service", target.service_id, where["service_id"]))
        else:
            found.append((Level.OK, f"service {pd_service.get('name')} ({target.service_id})", ""))
    if target.escalation_policy_id:
        policy = lookup.get(f"escalation_policies/{target.escalation_policy_id}")
        if policy is None:
            found.append(
                _missing(
                    "escalation policy", target.escalation_policy_id, where["escalation_policy_id"]
                )
            )
        else:
            found.append((Level.OK, f"policy {policy.get('name')}", ""))
    if target.routing_key:
        found.append(_routing_key(lookup, pd_service, target.routing_key, where["routing_key"]))
    if not (target.service_id or target.routing_key):
        found.append(
            (
                Level.WARNING,
                "no PagerDuty service nor routing key: its incidents are not paged",
                f"set {where['service_id']}",
            )
        )
    return found


def _missing(what: str, pd_id: str, where: str) -> Found:
    return Level.FAILED, f"no PagerDuty {what} {pd_id} (404)", f"fix {where}"


def _routing_key(lookup: _Lookup, pd_service: dict[str, Any] | None, key: str, where: str) -> Found:
    shown = f"routing key …{key[-4:]}"
    if pd_service is not None and key in _keys(pd_service):
        return Level.OK, f"{shown} of its Events API v2 integration", ""
    owner = lookup.key_owner(key)
    if owner is None:  # not on a service: an Event Orchestration's key, or no key at all
        try:
            _event_check(lookup.settings.pagerduty_events_url, key, _verify(lookup.settings))()
        except Problem as problem:
            return Level.FAILED, problem.detail, f"set {where} to {KEY_HELP}"
        return Level.OK, f"{shown}: on no service, yet the Events API accepts it", ""
    if pd_service is None:
        return Level.OK, f"{shown} of service {owner.get('name')}", ""
    return (
        Level.WARNING,
        f"the {shown} belongs to service {owner.get('name')}, not {pd_service.get('name')}: "
        "alerts and declared incidents page different services",
        f"check {where}",
    )


def _rank(level: Level) -> int:
    return [Level.OK, Level.WARNING, Level.FAILED].index(level)


def _without_rest(settings: Settings, targets: dict[str | None, PagerTarget], r: Recorder) -> None:
    """No REST token: declared incidents cannot page a service; routing keys still work."""
    services = sorted(s or "defaults" for s, t in targets.items() if t.service_id)
    if services:
        r.fail(
            "pagerduty",
            f"PAGERDUTY_API_TOKEN is not set, yet {', '.join(services)} page a PagerDuty service "
            "by id: declared incidents cannot page",
            "set PAGERDUTY_API_TOKEN (a REST API key) and PAGERDUTY_FROM_EMAIL",
        )
    else:
        r.ok("pagerduty", "no REST token: alerts page through routing keys only")
    try:
        verify = _verify(settings)
    except Problem as problem:
        r.fail("pagerduty events", problem.detail, problem.fix or "")
        return
    seen: set[str] = set()
    for service, target in targets.items():
        key = target.routing_key
        if not key or key in seen:
            continue
        seen.add(key)
        where = _where(service)["routing_key"]
        name = f"pagerduty service {service}" if service else "pagerduty defaults"
        r.attempt(
            name,
            f"set {where} to {KEY_HELP}",
            _event_check(settings.pagerduty_events_url, key, verify),
        )


def _event_check(url: str, key: str, verify: ssl.SSLContext | bool) -> Callable[[], str]:
    def run() -> str:
        client = pagerduty.EventsApiV2Client(key, base_url=url, verify=verify, timeout=TIMEOUT)
        client.retry.clear()  # one quick retry of a 429, none of a 5xx: a check waits for nothing
        client.retry[429] = 1
        client.max_http_attempts, client.max_network_attempts, client.sleep_timer = 2, 0, 0.5
        dedup = f"incidentbot-config-check-{uuid.uuid4().hex}"  # no alert has it: dropped
        try:
            client.send_event("resolve", dedup)
        except HttpError as exc:
            response = exc.response
            try:
                body = response.json() if response is not None else {}
            except ValueError:
                body = {}
            errors = body.get("errors") if isinstance(body, dict) else None
            status = response.status_code if response is not None else 0
            said = "; ".join(map(str, errors)) if errors else f"HTTP {status}"
            raise Problem(f"Events API refused routing key …{key[-4:]}: {said}") from exc
        return f"Events API accepts routing key …{key[-4:]}"

    return run

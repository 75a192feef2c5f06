"""`OpsgeniePager`: the Pager port over Opsgenie's Alert API v2 and Who-is-on-call API.

A page is an alert whose ``alias`` is our page key. Creating is asynchronous (202 and a
``requestId``): the answer is confirmed through ``GET /v2/alerts/requests/{id}``, or, when that
is not processed yet, by reading the alert by its alias. A retry looks the alias up before it
creates, and Opsgenie itself folds a second create into the open alert with that alias (its
``count`` goes up), so a lost answer never makes a second alert."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from bot.core.catalog import PagerTarget, Responder
from bot.flows.ports import (
    CannotPage,
    IntegrationError,
    OnCall,
    Opened,
    PagePlan,
    PageRef,
    PageRequest,
    PagerRefused,
)

from .client import SERVICE, OpsgenieClient, OpsgenieError

MESSAGE_LIMIT = 130
DESCRIPTION_LIMIT = 15000
NOTE_LIMIT = 25000
ALIAS = {"identifierType": "alias"}
ACTOR = "incidentbot"
CONFIRM_TRIES = 4  # request status reads after a create (the work is usually done at once)
CONFIRM_PAUSE = 0.25


def priority(severity_rank: int) -> str:
    """The catalog's most severe (rank 0) is P1; P5 is as low as Opsgenie goes."""
    return f"P{min(max(severity_rank, 0), 4) + 1}"


def encode(responders: Sequence[Responder]) -> str:
    """How a plan's responders are stored on PageRow.target: ``team:checkout,user:id=…``."""
    return ",".join(
        f"{r.type}:{r.name}" if r.name is not None else f"{r.type}:id={r.id}" for r in responders
    )


def decode(target: str) -> list[Responder]:
    found = []
    for part in filter(None, target.split(",")):
        kind, _, ref = part.partition(":")
        if kind in ("team", "user", "escalation", "schedule") and ref:
            is_id = ref.startswith("id=")
            found.append(
                Responder(
                    type=kind,  # checked just above (pydantic validates it too)
                    name=None if is_id else ref,
                    id=ref[3:] if is_id else None,
                )
            )
    return found


def alert_link(app_url: str, alert_id: str) -> str:
    """The alert's page in the web app at `app_url` (OPSGENIE_APP_URL): Opsgenie's
    ``/alert/detail/<id>/details``, or JSM Operations' ``/jira/ops/alerts/<id>``."""
    base = app_url.rstrip("/")
    if base.endswith("/jira/ops"):
        return f"{base}/alerts/{_segment(alert_id)}"
    return f"{base}/alert/detail/{_segment(alert_id)}/details"


def responder_json(responder: Responder) -> dict[str, str]:
    """Opsgenie's shape: users by ``username`` (their email) or id, the rest by name or id."""
    if responder.id is not None:
        return {"type": responder.type, "id": responder.id}
    key = "username" if responder.type == "user" else "name"
    return {"type": responder.type, key: str(responder.name)}


class OpsgeniePager:
    kind = "opsgenie"
    name = "Opsgenie"

    def __init__(
        self,
        client: OpsgenieClient,
        *,
        confirm_pause: float = CONFIRM_PAUSE,
        app_url: str | None = None,
    ) -> None:
        """`app_url`: the web app people open alerts in; unset, pages carry no link."""
        self.client = client
        self._pause = confirm_pause
        self.app_url = app_url

    def _opened(self, alert_id: str) -> Opened:
        url = alert_link(self.app_url, alert_id) if self.app_url else None
        return Opened(id=alert_id, url=url)

    # ------------------------------------------------------------------ plan
    def plan(
        self, target: PagerTarget, *, alert_born: bool, has_page: bool
    ) -> PagePlan | CannotPage:
        responders = list(target.responders)
        if not responders and target.schedule:
            responders = [Responder(type="schedule", name=target.schedule)]
        if not responders and has_page:
            return CannotPage(
                "no Opsgenie responders for this service",
                "set them in the catalog (pager: {kind: opsgenie, responders: [{type: team, "
                "name: …}]})",
            )
        # no responders on a first page: Opsgenie routes the alert itself (the API
        # integration's team and its routing rules), which is how a team pages every service
        return PagePlan("responders" if has_page else "alert", encode(responders))

    # ------------------------------------------------------------------ open
    def open(self, request: PageRequest) -> Opened:
        found = self._by_alias(request.key)
        if found is not None:
            return found
        responders = list(request.responders) or decode(request.plan.target)
        body: dict[str, Any] = {
            "message": request.title[:MESSAGE_LIMIT],
            "alias": request.key,
            "description": request.details[:DESCRIPTION_LIMIT],  # the links are in it already
            "priority": priority(request.severity_rank),
            "responders": [responder_json(r) for r in responders],
            "details": {
                "source": request.source,
                "detected_at": request.detected_at.isoformat(),
                **{text: url for text, url in request.links},
            },
            "source": ACTOR,
            "tags": [ACTOR],
            "user": ACTOR,
        }
        accepted = self.client.call("POST", "/v2/alerts", "create alert", json=body)
        opened = self._confirm(str(accepted.get("requestId") or ""))
        if opened is None:
            opened = self._by_alias(request.key)
        if opened is None:
            raise IntegrationError(
                SERVICE,
                "not_processed_yet",
                retryable=True,
                detail=f"create alert {request.key}: accepted, not processed yet",
            )
        return opened

    def _confirm(self, request_id: str) -> Opened | None:
        """The alert the create request made (None: not processed yet)."""
        for attempt in range(CONFIRM_TRIES if request_id else 0):
            if attempt:
                time.sleep(self._pause)
            try:
                status = self.client.call(
                    "GET", f"/v2/alerts/requests/{_segment(request_id)}", "read request status"
                )
            except OpsgenieError as exc:
                if exc.status == 404:  # "Request not found. It might not be processed, yet."
                    continue
                raise
            data = status.get("data") or {}
            if data.get("isSuccess") and data.get("alertId"):
                return self._opened(str(data["alertId"]))
            raise IntegrationError(
                SERVICE,
                "request_failed",
                retryable=False,
                detail=f"create alert: {data.get('status') or status}"[:300],
            )
        return None

    def _by_alias(self, alias: str) -> Opened | None:
        try:
            answer = self.client.call(
                "GET", f"/v2/alerts/{_segment(alias)}", "find alert", params=ALIAS
            )
        except OpsgenieError as exc:
            if exc.status == 404:
                return None
            raise
        data = answer.get("data") or {}
        return self._opened(str(data["id"])) if data.get("id") else None

    # ------------------------------------------------------------ the rest
    def add_responders(self, page: PageRef, plan: PagePlan, message: str) -> None:
        path, params = _alert(page)
        for responder in decode(plan.target):
            self.client.call(
                "POST",
                f"{path}/responders",
                "add responder",
                params=params,
                json={
                    "responder": responder_json(responder),
                    "user": ACTOR,
                    "source": ACTOR,
                    "note": message[:NOTE_LIMIT],
                },
            )

    def acknowledge(self, page: PageRef) -> None:
        path, params = _alert(page)
        body = {"user": ACTOR, "source": ACTOR, "note": "Acknowledged in the incident"}
        self.client.call("POST", f"{path}/acknowledge", "acknowledge", params=params, json=body)

    def resolve(self, page: PageRef) -> None:
        path, params = _alert(page)
        body = {"user": ACTOR, "source": ACTOR, "note": "Resolved in the incident"}
        self.client.call("POST", f"{path}/close", "close", params=params, json=body)

    def oncalls(self, target: PagerTarget) -> list[OnCall]:
        schedule = target.schedule or next(
            (f"{r.name}_schedule" for r in target.responders if r.type == "team" and r.name),
            None,
        )
        if schedule is None:
            raise PagerRefused(
                "no Opsgenie schedule for this service",
                "set pager.schedule in the catalog (or a team responder with a <team>_schedule)",
            )
        try:
            answer = self.client.call(
                "GET",
                f"/v2/schedules/{_segment(schedule)}/on-calls",
                "read on-calls",
                params={"scheduleIdentifierType": "name", "flat": "true"},
            )
        except OpsgenieError as exc:
            if exc.status == 404:
                raise PagerRefused(
                    f"Opsgenie has no schedule named {schedule}",
                    "set pager.schedule in the catalog to an existing schedule",
                ) from exc
            raise
        names = (answer.get("data") or {}).get("onCallRecipients") or []
        return [
            OnCall(
                name=str(name),
                email=str(name) if "@" in str(name) else None,
                level=1,
                via=schedule,
                until=None,
            )
            for name in names
        ]

    def person_email(self, user_id: str) -> str | None:
        """Opsgenie usernames are email addresses; a user id is looked up."""
        if "@" in user_id:
            return user_id
        try:
            answer = self.client.call("GET", f"/v2/users/{_segment(user_id)}", "read user")
        except OpsgenieError as exc:
            if exc.status == 404:
                return None
            raise
        username = str((answer.get("data") or {}).get("username") or "")
        return username if "@" in username else None


def _alert(page: PageRef) -> tuple[str, dict[str, str]]:
    """The alert's path: by its id when the bot knows it, else by our key (the alias)."""
    if page.pager_id:
        return f"/v2/alerts/{_segment(page.pager_id)}", {"identifierType": "id"}
    return f"/v2/alerts/{_segment(page.key)}", dict(ALIAS)


def _segment(text: str) -> str:
    """One path segment: a key or a schedule name with `/`, `?` or `#` stays in its place."""
    return quote(text, safe="")

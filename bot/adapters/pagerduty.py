"""The Pager port over the `pagerduty` package (python-pagerduty): REST v2 and Events v2.

How PagerDuty pages: an alert-born incident with a routing key goes as an Events v2 trigger
(dedup_key = our key); any other page is a REST incident on the service (incident_key = our
key, looked up before one is created); a second page on an incident that has one asks the
escalation policy's responders to join it.

The client would retry a 429 forever, sleeping in our worker thread; here it retries once, and
the outbox does the waiting (with PagerDuty's Retry-After when given), so a PagerDuty outage
holds one page, never a thread."""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pagerduty

from bot.adapters.pagerduty_client import (
    api_errors,
    pace,
    pagerduty_budgets,
    pagerduty_gate,
    tune,
)
from bot.core.catalog import PagerTarget
from bot.core.pacing import Budgets
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

TIMEOUT = 10.0
# PagerDuty's event severities, most severe first; the catalog's scale maps onto them by rank.
SEVERITIES = ("critical", "error", "warning", "info")
_ID = re.compile(r"^P[A-Z0-9]{5,13}$")  # a service id typed as is (`/incident page PABC123`)


@dataclass(frozen=True)
class PagerIncident:
    id: str
    html_url: str
    status: str


class PagerDutyPager:
    kind = "pagerduty"
    name = "PagerDuty"

    def __init__(
        self,
        *,
        api_token: str | None,
        from_email: str | None,
        api_url: str,
        events_url: str,
        ca_bundle: Path | None = None,
        budgets: Budgets | None = None,
    ) -> None:
        self._verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=str(ca_bundle)) if ca_bundle else True
        )
        self._pacer: Budgets = budgets if budgets is not None else pagerduty_budgets()
        self._gate = pagerduty_gate(self._pacer)
        self._events_url = events_url
        self._events: dict[str, pagerduty.EventsApiV2Client] = {}
        self._rest: pagerduty.RestApiV2Client | None = None
        if api_token:
            self._rest = pagerduty.RestApiV2Client(
                api_token,
                default_from=from_email,
                base_url=api_url,
                verify=self._verify,
                timeout=TIMEOUT,
            )
            tune(self._rest)
            # every HTTP request (each page of a listing, each retry) books its slot
            self._rest.event_hooks["request"].append(lambda _request: self._pace_rest())

    def _pace_rest(self) -> None:
        pace(self._gate, "rest")

    @property
    def rest(self) -> pagerduty.RestApiV2Client:
        if self._rest is None:
            raise IntegrationError(
                "pagerduty",
                "not_configured",
                retryable=False,
                detail="set PAGERDUTY_API_TOKEN and PAGERDUTY_FROM_EMAIL",
            )
        return self._rest

    def _events_client(self, routing_key: str) -> pagerduty.EventsApiV2Client:
        client = self._events.get(routing_key)
        if client is None:
            client = pagerduty.EventsApiV2Client(
                routing_key, base_url=self._events_url, verify=self._verify, timeout=TIMEOUT
            )
            tune(client)
            client.event_hooks["request"].append(
                lambda _request: pace(self._gate, "events", routing_key)
            )
            self._events[routing_key] = client
        return client

    # -- the Pager port ----------------------------------------------------------------------------
    def plan(
        self, target: PagerTarget, *, alert_born: bool, has_page: bool
    ) -> PagePlan | CannotPage:
        if has_page and target.escalation_policy_id:
            return PagePlan("responders", target.escalation_policy_id)
        if alert_born and target.routing_key and not has_page:
            return PagePlan("event", target.routing_key)
        if target.service_id:
            return PagePlan("incident", target.service_id)
        return CannotPage(
            "no PagerDuty routing key, service or escalation policy for it",
            "map the service in the catalog (its `pagerduty:` keys) or set PAGERDUTY_SERVICE_ID",
        )

    def target_named(self, text: str) -> PagerTarget | None:
        """A PagerDuty service id typed as is."""
        return PagerTarget(kind=self.kind, service_id=text) if _ID.match(text) else None

    def open(self, request: PageRequest) -> Opened:
        plan = request.plan
        severity = SEVERITIES[min(request.severity_rank, len(SEVERITIES) - 1)]
        if plan.kind == "event":
            self.trigger(
                routing_key=plan.target,
                dedup_key=request.key,
                summary=request.title,
                source=request.source,
                severity=severity,
                timestamp=request.detected_at,
                custom_details=dict(request.facts),
                links=[{"href": url, "text": text} for text, url in request.links],
            )
            return Opened(None, None)  # the incident's id comes with its webhook
        found = self.find_incident(incident_key=request.key)  # a lost answer must not page twice
        if found is None:
            policy = next(
                (r.id for r in request.responders if r.type == "escalation" and r.id), None
            )
            found = self.create_incident(
                service_id=plan.target,
                escalation_policy_id=policy,
                title=request.title,
                incident_key=request.key,
                urgency="high" if request.severity_rank <= 1 else "low",
                details=request.details,
            )
        return Opened(found.id, found.html_url or None)

    def add_responders(self, page: PageRef, plan: PagePlan, message: str) -> None:
        if page.pager_id is None:
            raise IntegrationError(
                "pagerduty", "no_incident_yet", retryable=True, detail="no incident to join yet"
            )
        self.request_responders(
            incident_id=page.pager_id, escalation_policy_id=plan.target, message=message
        )

    def acknowledge(self, page: PageRef) -> None:
        self._follow(page, "acknowledge", "acknowledged")

    def resolve(self, page: PageRef) -> None:
        self._follow(page, "resolve", "resolved")

    def _follow(self, page: PageRef, action: str, status: str) -> None:
        if page.kind == "event":
            self.event(routing_key=page.target, dedup_key=page.key, action=action)
        elif page.pager_id:
            self.set_status(incident_id=page.pager_id, status=status)

    def oncalls(self, target: PagerTarget) -> list[OnCall]:
        policy = target.escalation_policy_id or (
            self.escalation_policy_of(target.service_id) if target.service_id else None
        )
        if policy is None:
            raise PagerRefused(
                "No escalation policy known",
                "set PAGERDUTY_ESCALATION_POLICY_ID or map it in the catalog.",
            )
        return self.oncalls_of(escalation_policy_ids=[policy])

    def person_email(self, user_id: str) -> str | None:
        return self.user_email(user_id)

    # -- Events API v2 ---------------------------------------------------------------------------
    def trigger(
        self,
        *,
        routing_key: str,
        dedup_key: str,
        summary: str,
        source: str,
        severity: str,
        timestamp: datetime,
        custom_details: dict[str, object],
        links: list[dict[str, str]],
    ) -> None:
        payload = {
            "summary": summary[:1024],
            "source": source,
            "severity": severity,
            "timestamp": timestamp.isoformat(),
            "custom_details": custom_details,
        }
        with api_errors("trigger"):
            self._events_client(routing_key).send_event(
                "trigger", dedup_key, payload=payload, links=links, client="incidentbot"
            )

    def event(self, *, routing_key: str, dedup_key: str, action: str) -> None:
        with api_errors(action):
            self._events_client(routing_key).send_event(action, dedup_key)

    # -- REST API v2 -----------------------------------------------------------------------------
    def create_incident(
        self,
        *,
        service_id: str,
        escalation_policy_id: str | None,
        title: str,
        incident_key: str,
        urgency: str,
        details: str,
    ) -> PagerIncident:
        body: dict[str, Any] = {
            "type": "incident",
            "title": title[:255],
            "service": {"id": service_id, "type": "service_reference"},
            "incident_key": incident_key,
            "urgency": urgency,
            "body": {"type": "incident_body", "details": details},
        }
        if escalation_policy_id:
            body["escalation_policy"] = {
                "id": escalation_policy_id,
                "type": "escalation_policy_reference",
            }
        with api_errors("create incident"):
            created = self.rest.rpost("incidents", json={"incident": body})
        return _incident(created)

    def find_incident(self, *, incident_key: str) -> PagerIncident | None:
        with api_errors("find incident"):
            found = self.rest.rget("incidents", params={"incident_key": incident_key})
        return _incident(found[0]) if isinstance(found, list) and found else None

    def set_status(self, *, incident_id: str, status: str) -> None:
        with api_errors(f"set status {status}"):
            self.rest.rput(
                f"incidents/{incident_id}",
                json={"incident": {"type": "incident_reference", "status": status}},
            )

    def request_responders(
        self, *, incident_id: str, escalation_policy_id: str, message: str
    ) -> None:
        requester = self._requester_id()
        body = {
            "requester_id": requester,
            "message": message[:1000],
            "responder_request_targets": [
                {
                    "responder_request_target": {
                        "id": escalation_policy_id,
                        "type": "escalation_policy_reference",
                    }
                }
            ],
        }
        with api_errors("request responders"):
            self.rest.post(
                f"incidents/{incident_id}/responder_requests", json=body
            ).raise_for_status()

    def _requester_id(self) -> str:
        email = self.rest.default_from
        with api_errors("find the requesting user"):
            users = self.rest.rget("users", params={"query": email}) if email else []
        match = (
            next((u for u in users if isinstance(u, dict) and u.get("email") == email), None)
            if isinstance(users, list)
            else None
        )
        if match is None:
            raise IntegrationError(
                "pagerduty",
                "from_user_unknown",
                retryable=False,
                detail=f"no PagerDuty user with PAGERDUTY_FROM_EMAIL={email}",
            )
        return str(match["id"])

    def check(self) -> str:
        """Reach PagerDuty with the token: how many services it can see (first page)."""
        with api_errors("list services"):
            services = self.rest.rget("services", params={"limit": 25})
        return f"token accepted; sees {len(services)} service(s)"

    def escalation_policy_of(self, service_id: str) -> str | None:
        with api_errors("read service"):
            service = self.rest.rget(f"services/{service_id}")
        policy = service.get("escalation_policy") if isinstance(service, dict) else None
        return str(policy["id"]) if isinstance(policy, dict) and policy.get("id") else None

    def oncalls_of(self, *, escalation_policy_ids: list[str]) -> list[OnCall]:
        with api_errors("read on-calls"):
            entries = self.rest.list_all(
                "oncalls",
                params={"escalation_policy_ids[]": escalation_policy_ids, "include[]": ["users"]},
            )
        result = []
        for entry in entries:
            user = entry.get("user") or {}
            until = entry.get("end")
            result.append(
                OnCall(
                    name=str(user.get("name") or user.get("summary") or "?"),
                    email=user.get("email"),
                    level=int(entry.get("escalation_level") or 1),
                    via=str((entry.get("escalation_policy") or {}).get("summary") or ""),
                    until=datetime.fromisoformat(until) if until else None,
                )
            )
        return sorted(result, key=lambda o: (o.via, o.level, o.name))

    def user_email(self, user_id: str) -> str | None:
        with api_errors("read user"):
            user = self.rest.rget(f"users/{user_id}")
        return str(user.get("email")) if isinstance(user, dict) and user.get("email") else None


def _incident(data: Any) -> PagerIncident:
    if not isinstance(data, dict) or "id" not in data:
        raise IntegrationError(
            "pagerduty", "unexpected_answer", retryable=True, detail=str(data)[:200]
        )
    return PagerIncident(
        id=str(data["id"]),
        html_url=str(data.get("html_url") or ""),
        status=str(data.get("status") or ""),
    )

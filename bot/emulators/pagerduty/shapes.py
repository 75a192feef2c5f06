"""The JSON PagerDuty answers with (REST API v2) and sends (v3 webhook ``event.data``).

``self`` URLs point at the emulator (as they point at api.pagerduty.com for real, so a client
can follow them); ``html_url`` uses the account's ``<subdomain>.pagerduty.com`` web address.
"""

from __future__ import annotations

from .records import (
    JSON,
    Agent,
    EscalationPolicy,
    Incident,
    LogEntry,
    Note,
    Responder,
    ResponderRequest,
    Schedule,
    Service,
    User,
    iso,
)
from .state import Account, OnCall

_COLLECTION = {
    "user": "users",
    "service": "services",
    "escalation_policy": "escalation_policies",
    "schedule": "schedules",
    "incident": "incidents",
    "priority": "priorities",
}
_WEB_PATH = {"service": "service-directory"}


def web(acct: Account, path: str) -> str:
    return f"https://{acct.subdomain}.pagerduty.com/{path}"


def _summary(acct: Account, kind: str, oid: str) -> str:
    if kind == "user":
        return acct.users[oid].name
    if kind == "service":
        return acct.services[oid].name
    if kind == "escalation_policy":
        return acct.policies[oid].name
    if kind == "schedule":
        return acct.schedules[oid].name
    if kind == "priority":
        return acct.priorities[oid].name
    inc = acct.incidents[oid]
    return f"[#{inc.number}] {inc.title}"


def ref(acct: Account, kind: str, oid: str) -> JSON:
    """A ``<kind>_reference`` as PagerDuty embeds them."""
    collection = _COLLECTION[kind]
    html = (
        web(acct, "account/incident_priorities")
        if kind == "priority"
        else web(acct, f"{_WEB_PATH.get(kind, collection)}/{oid}")
    )
    return {
        "id": oid,
        "type": f"{kind}_reference",
        "summary": _summary(acct, kind, oid),
        "self": f"{acct.api_url}/{collection}/{oid}",
        "html_url": html,
    }


def agent_ref(acct: Account, agent: Agent) -> JSON | None:
    return None if agent is None else ref(acct, agent[0], agent[1])


def _full(acct: Account, kind: str, oid: str) -> JSON:
    data = ref(acct, kind, oid)
    data["type"] = kind
    return data


# ------------------------------------------------------------------ account
def user_json(acct: Account, user: User) -> JSON:
    data = _full(acct, "user", user.id)
    data.update(
        {
            "name": user.name,
            "email": user.email,
            "time_zone": user.time_zone,
            "color": user.color,
            "role": user.role,
            "avatar_url": f"https://secure.gravatar.com/avatar/{user.id.lower()}.png?d=mm&r=PG",
            "description": "",
            "invitation_sent": False,
            "job_title": user.job_title,
            "teams": [],
            "contact_methods": [],
            "notification_rules": [],
        }
    )
    return data


def schedule_json(acct: Account, sched: Schedule) -> JSON:
    data = _full(acct, "schedule", sched.id)
    policies = [
        ref(acct, "escalation_policy", p.id)
        for p in acct.policies.values()
        if any(t == ("schedule", sched.id) for r in p.rules for t in r.targets)
    ]
    data.update(
        {
            "name": sched.name,
            "time_zone": sched.time_zone,
            "description": "",
            "escalation_policies": policies,
            "users": [ref(acct, "user", sched.user_id)],
            "teams": [],
        }
    )
    return data


def policy_json(acct: Account, policy: EscalationPolicy) -> JSON:
    data = _full(acct, "escalation_policy", policy.id)
    data.update(
        {
            "name": policy.name,
            "description": policy.description,
            "num_loops": policy.num_loops,
            "on_call_handoff_notifications": "if_has_services",
            "escalation_rules": [
                {
                    "id": rule.id,
                    "escalation_delay_in_minutes": rule.delay_minutes,
                    "targets": [ref(acct, kind, tid) for kind, tid in rule.targets],
                }
                for rule in policy.rules
            ],
            "services": [ref(acct, "service", sid) for sid in acct.services_of(policy.id)],
            "teams": [],
        }
    )
    return data


def integration_json(acct: Account, iid: str, *, full: bool) -> JSON:
    integ = acct.integrations[iid]
    path = f"services/{integ.service_id}/integrations/{iid}"
    data: JSON = {
        "id": iid,
        "type": "events_api_v2_inbound_integration" + ("" if full else "_reference"),
        "summary": integ.name,
        "self": f"{acct.api_url}/{path}",
        "html_url": web(acct, path),
    }
    if full:
        data.update(
            {
                "name": integ.name,
                "created_at": iso(integ.created_at),
                "integration_key": integ.key,
                "service": ref(acct, "service", integ.service_id),
                "vendor": None,
            }
        )
    return data


def service_json(acct: Account, service: Service, *, integrations: bool = False) -> JSON:
    open_statuses = {
        i.status for i in acct.incidents.values() if i.service_id == service.id and i.is_open
    }
    status = (
        "critical" if "triggered" in open_statuses else "warning" if open_statuses else "active"
    )
    data = _full(acct, "service", service.id)
    last = service.last_incident_at
    data.update(
        {
            "name": service.name,
            "description": service.description,
            "auto_resolve_timeout": 14400,
            "acknowledgement_timeout": 1800,
            "created_at": iso(service.created_at),
            "updated_at": iso(service.created_at),
            "status": status,
            "last_incident_timestamp": iso(last) if last else None,
            "teams": [],
            "integrations": [
                integration_json(acct, iid, full=integrations) for iid in service.integration_ids
            ],
            "escalation_policy": ref(acct, "escalation_policy", service.escalation_policy_id),
            "incident_urgency_rule": {"type": "constant", "urgency": "high"},
            "support_hours": None,
            "scheduled_actions": [],
            "alert_creation": "create_alerts_and_incidents",
            "addons": [],
            "response_play": None,
        }
    )
    return data


def oncall_json(acct: Account, entry: OnCall) -> JSON:
    return {
        "escalation_policy": ref(acct, "escalation_policy", entry.escalation_policy_id),
        "escalation_level": entry.level,
        "schedule": ref(acct, "schedule", entry.schedule_id) if entry.schedule_id else None,
        "user": ref(acct, "user", entry.user_id),
        "start": iso(entry.start) if entry.start is not None else None,
        "end": iso(entry.end) if entry.end is not None else None,
    }


def priority_json(acct: Account, pid: str) -> JSON:
    prio = acct.priorities[pid]
    data = _full(acct, "priority", pid)
    data.update({"name": prio.name, "description": prio.description, "order": prio.order})
    return data


# ---------------------------------------------------------------- incidents
def responder_json(acct: Account, inc: Incident, responder: Responder) -> JSON:
    return {
        "state": responder.state,
        "user": ref(acct, "user", responder.user_id),
        "incident": ref(acct, "incident", inc.id),
        "updated_at": iso(responder.at),
        "message": responder.message,
        "requester": ref(acct, "user", responder.requester_id),
        "requested_at": iso(responder.at),
    }


def responder_request_json(acct: Account, inc: Incident, request: ResponderRequest) -> JSON:
    targets = []
    for kind, tid in request.targets:
        mine = [
            responder_json(acct, inc, r)
            for r in request.responders
            if (kind == "user" and r.user_id == tid and r.escalation_policy_id is None)
            or (kind == "escalation_policy" and r.escalation_policy_id == tid)
        ]
        summary = _summary(acct, "user" if kind == "user" else "escalation_policy", tid)
        target = {"type": kind, "id": tid, "summary": summary, "incidents_responders": mine}
        targets.append({"responder_request_target": target})
    return {
        "incident": ref(acct, "incident", inc.id),
        "requester": ref(acct, "user", request.requester_id),
        "requested_at": iso(request.at),
        "message": request.message,
        "responder_request_targets": targets,
    }


def log_entry_json(acct: Account, inc: Incident, entry: LogEntry) -> JSON:
    data: JSON = {
        "id": entry.id,
        "type": entry.type,
        "summary": entry.summary,
        "self": f"{acct.api_url}/log_entries/{entry.id}",
        "html_url": web(acct, f"incidents/{inc.id}/log_entries/{entry.id}"),
        "created_at": iso(entry.at),
        "agent": agent_ref(acct, entry.agent),
        "channel": dict(entry.channel),
        "service": ref(acct, "service", inc.service_id),
        "incident": ref(acct, "incident", inc.id),
        "teams": [],
        "contexts": [],
    }
    if entry.type in ("assign_log_entry", "escalate_log_entry"):
        data["assignees"] = [ref(acct, "user", uid) for uid in entry.user_ids]
    return data


def _log_ref(acct: Account, inc: Incident, entry: LogEntry) -> JSON:
    full = log_entry_json(acct, inc, entry)
    keys = ("id", "summary", "self", "html_url")
    return {key: full[key] for key in keys} | {"type": f"{entry.type}_reference"}


def note_json(acct: Account, note: Note) -> JSON:
    return {
        "id": note.id,
        "user": ref(acct, "user", note.user_id),
        "channel": {"summary": "The PagerDuty website or APIs"},
        "content": note.content,
        "created_at": iso(note.at),
    }


def incident_json(acct: Account, inc: Incident) -> JSON:
    first = next((e for e in inc.log if e.type == "trigger_log_entry"), None)
    data = _full(acct, "incident", inc.id)
    last_by = inc.last_change_by or ("service", inc.service_id)
    data.update(
        {
            "incident_number": inc.number,
            "title": inc.title,
            "description": inc.title,
            "created_at": iso(inc.created_at),
            "updated_at": iso(inc.updated_at),
            "status": inc.status,
            "incident_key": inc.incident_key,
            "service": ref(acct, "service", inc.service_id),
            "assignments": [
                {"at": iso(at), "assignee": ref(acct, "user", uid)} for uid, at in inc.assignments
            ],
            "assigned_via": "escalation_policy",
            "last_status_change_at": iso(inc.last_change_at),
            "last_status_change_by": ref(acct, last_by[0], last_by[1]),
            "resolved_at": iso(inc.resolved_at) if inc.resolved_at else None,
            "first_trigger_log_entry": _log_ref(acct, inc, first) if first else None,
            "alert_counts": {
                "all": inc.alerts,
                "triggered": inc.alerts if inc.is_open else 0,
                "resolved": 0 if inc.is_open else inc.alerts,
            },
            "is_mergeable": True,
            "escalation_policy": ref(acct, "escalation_policy", inc.escalation_policy_id),
            "teams": [],
            "pending_actions": [],
            "acknowledgements": [
                {"at": iso(at), "acknowledger": ref(acct, who[0], who[1])}
                for who, at in inc.acknowledgements
            ],
            "basic_alert_grouping": None,
            "alert_grouping": None,
            "priority": priority_json(acct, inc.priority_id) if inc.priority_id else None,
            "resolve_reason": inc.resolve_reason,
            "incidents_responders": [responder_json(acct, inc, r) for r in inc.responders],
            "responder_requests": [
                responder_request_json(acct, inc, r) for r in inc.responder_requests
            ],
            "subscriber_requests": [],
            "urgency": inc.urgency,
            "conference_bridge": None,
        }
    )
    if inc.details is not None:
        data["body"] = {"type": "incident_body", "details": inc.details}
    return data


# ------------------------------------------------------------- webhooks v3
def webhook_incident(acct: Account, inc: Incident) -> JSON:
    """``event.data`` of the ``incident.*`` webhook events (type ``incident``)."""
    return {
        "id": inc.id,
        "type": "incident",
        "self": f"{acct.api_url}/incidents/{inc.id}",
        "html_url": web(acct, f"incidents/{inc.id}"),
        "number": inc.number,
        "status": inc.status,
        "incident_key": inc.incident_key,
        "created_at": iso(inc.created_at),
        "title": inc.title,
        "service": ref(acct, "service", inc.service_id),
        "assignees": [ref(acct, "user", uid) for uid, _ in inc.assignments],
        "escalation_policy": ref(acct, "escalation_policy", inc.escalation_policy_id),
        "teams": [],
        "priority": ref(acct, "priority", inc.priority_id) if inc.priority_id else None,
        "urgency": inc.urgency,
        "conference_bridge": None,
        "resolve_reason": inc.resolve_reason,
    }


def webhook_responder(acct: Account, inc: Incident, responder: Responder) -> JSON:
    """``event.data`` of ``incident.responder.added|replied`` (type ``incident_responder``)."""
    policy = responder.escalation_policy_id
    return {
        "incident": ref(acct, "incident", inc.id),
        "user": ref(acct, "user", responder.user_id),
        "escalation_policy": ref(acct, "escalation_policy", policy) if policy else None,
        "message": responder.message,
        "state": responder.state,
        "type": "incident_responder",
    }


def webhook_note(acct: Account, inc: Incident, note: Note) -> JSON:
    """``event.data`` of ``incident.annotated`` (type ``incident_note``)."""
    return {
        "incident": ref(acct, "incident", inc.id),
        "id": note.id,
        "content": note.content,
        "trimmed": False,
        "type": "incident_note",
    }

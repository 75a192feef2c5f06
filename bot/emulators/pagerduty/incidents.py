"""The incident life cycle, as PagerDuty runs it: trigger, acknowledge, escalate, reassign,
delegate, resolve, reopen, un-acknowledge (ack timeout), priority, responders, notes.

Every change appends log entries and a :class:`Change` (one v3 webhook event) to the account.
The caller holds the emulator lock.
"""

from __future__ import annotations

from .records import JSON, Agent, Change, Incident, LogEntry, Note, Responder, ResponderRequest
from .state import Account, ApiError

API: JSON = {"type": "api"}
WEB: JSON = {"type": "website"}
TIMEOUT: JSON = {"type": "timeout"}
_VIA = {"api": "API", "events": "API", "web": "website"}


def _already_resolved() -> ApiError:
    return ApiError(400, "Incident Already Resolved", 1001)


def _agent_name(acct: Account, agent: Agent) -> str:
    if agent is None:
        return "PagerDuty"
    kind, aid = agent
    if kind == "user":
        return acct.users[aid].name
    return acct.services[aid].name


def _log(
    acct: Account,
    inc: Incident,
    kind: str,
    agent: Agent,
    channel: JSON,
    summary: str,
    user_ids: list[str] | None = None,
) -> None:
    at = acct.clock.now()
    inc.log.append(
        LogEntry(acct.ids.new("PLOG"), kind, at, agent, dict(channel), summary, user_ids or [])
    )
    inc.updated_at = at


def _status(acct: Account, inc: Incident, status: str, agent: Agent) -> None:
    now = acct.clock.now()
    inc.status = status
    inc.last_change_at = now
    inc.last_change_by = agent
    inc.updated_at = now


def _emit(
    acct: Account,
    inc: Incident,
    event_type: str,
    agent: Agent,
    client: JSON | None,
    responder: Responder | None = None,
    note: Note | None = None,
) -> None:
    acct.changes.append(
        Change(event_type, inc.id, agent, client, responder, note, acct.clock.now())
    )


def _assign(acct: Account, inc: Incident, user_ids: list[str]) -> None:
    now = acct.clock.now()
    inc.assignments = [(uid, now) for uid in user_ids]


def create(
    acct: Account,
    *,
    service_id: str,
    title: str,
    agent: Agent,
    channel: JSON,
    urgency: str = "high",
    incident_key: str | None = None,
    details: str | None = None,
    policy_id: str | None = None,
    assignees: list[str] | None = None,
    priority_id: str | None = None,
    origin: str = "api",
    client: JSON | None = None,
) -> Incident:
    """A new triggered incident assigned to the level-1 on-call of its escalation policy (or
    to ``assignees``). Assigned to the creating user only, it starts acknowledged."""
    service = acct.services[service_id]
    now = acct.clock.now()
    inc = Incident(
        id=acct.ids.new("PINC"),
        number=acct.next_number(),
        title=title,
        service_id=service_id,
        escalation_policy_id=policy_id or service.escalation_policy_id,
        incident_key=incident_key,
        urgency=urgency,
        created_at=now,
        details=details,
        priority_id=priority_id,
        origin="events" if origin == "events" else "web" if origin == "web" else "api",
    )
    inc.updated_at = inc.last_change_at = now
    inc.last_change_by = agent
    inc.alerts = 1 if origin == "events" else 0
    acct.incidents[inc.id] = inc
    service.last_incident_at = now
    users = assignees or acct.oncall_users(inc.escalation_policy_id, 1)
    _assign(acct, inc, users)
    _log(
        acct, inc, "trigger_log_entry", agent, channel, f"Triggered through the {_VIA[inc.origin]}."
    )
    _log(acct, inc, "assign_log_entry", agent, channel, "Assigned.", users)
    _emit(acct, inc, "incident.triggered", agent, client)
    if assignees and agent is not None and agent[0] == "user" and assignees == [agent[1]]:
        acknowledge(acct, inc, agent, channel, client)
    return inc


def log_trigger(acct: Account, inc: Incident, agent: Agent, channel: JSON) -> None:
    """A repeated trigger for an open alert: logged, nothing else changes."""
    _log(acct, inc, "trigger_log_entry", agent, channel, "Triggered again (same alert).")


def acknowledge(
    acct: Account, inc: Incident, agent: Agent, channel: JSON, client: JSON | None = None
) -> None:
    """Acknowledging again is accepted (a new acknowledger is added); resolved is an error.
    A user who acknowledges an incident not assigned to them becomes its assignee."""
    if inc.status == "resolved":
        raise _already_resolved()
    if inc.status == "acknowledged" and any(who == agent for who, _ in inc.acknowledgements):
        return
    if agent is not None:
        inc.acknowledgements.append((agent, acct.clock.now()))
        if agent[0] == "user" and all(u != agent[1] for u, _ in inc.assignments):
            _assign(acct, inc, [agent[1]])
    _status(acct, inc, "acknowledged", agent)
    _log(acct, inc, "acknowledge_log_entry", agent, channel, "Acknowledged.")
    _emit(acct, inc, "incident.acknowledged", agent, client)


def resolve(
    acct: Account,
    inc: Incident,
    agent: Agent,
    channel: JSON,
    client: JSON | None = None,
    resolution: str | None = None,
) -> None:
    if inc.status == "resolved":
        raise _already_resolved()
    _status(acct, inc, "resolved", agent)
    inc.resolved_at = inc.last_change_at
    inc.assignments = []
    inc.acknowledgements = []
    _log(acct, inc, "resolve_log_entry", agent, channel, resolution or "Resolved.")
    _emit(acct, inc, "incident.resolved", agent, client)


def unacknowledge(acct: Account, inc: Incident) -> None:
    """The acknowledgement timed out: back to triggered, assignees notified again."""
    if inc.status != "acknowledged":
        raise ValueError(f"{inc.id} is {inc.status}, not acknowledged")
    inc.acknowledgements = []
    _status(acct, inc, "triggered", None)
    _log(acct, inc, "unacknowledge_log_entry", None, TIMEOUT, "Unacknowledged (timeout).")
    _emit(acct, inc, "incident.unacknowledged", None, None)


def reopen(acct: Account, inc: Incident, agent: Agent, client: JSON | None = None) -> None:
    if inc.status != "resolved":
        raise ValueError(f"{inc.id} is {inc.status}, not resolved")
    inc.resolved_at = None
    inc.escalation_level = 1
    _assign(acct, inc, acct.oncall_users(inc.escalation_policy_id, 1))
    _status(acct, inc, "triggered", agent)
    _log(acct, inc, "reopen_log_entry", agent, WEB, "Reopened.")
    _emit(acct, inc, "incident.reopened", agent, client)


def escalate(
    acct: Account,
    inc: Incident,
    level: int,
    agent: Agent,
    channel: JSON,
    client: JSON | None = None,
) -> None:
    """Re-assigns to the on-call of ``level`` of the incident's policy and re-triggers it."""
    if inc.status == "resolved":
        raise _already_resolved()
    policy = acct.policies[inc.escalation_policy_id]
    if not 1 <= level <= len(policy.rules):
        raise ApiError(400, "Cannot Escalate", 1006, [f"Escalation level {level} is invalid"])
    users = acct.oncall_users(policy.id, level)
    inc.escalation_level = level
    inc.acknowledgements = []
    _assign(acct, inc, users)
    _status(acct, inc, "triggered", agent)
    _log(acct, inc, "escalate_log_entry", agent, channel, f"Escalated to level {level}.", users)
    _emit(acct, inc, "incident.escalated", agent, client)


def reassign(
    acct: Account,
    inc: Incident,
    user_ids: list[str],
    agent: Agent,
    channel: JSON,
    client: JSON | None = None,
) -> None:
    if inc.status == "resolved":
        raise _already_resolved()
    inc.acknowledgements = []
    _assign(acct, inc, user_ids)
    _status(acct, inc, "triggered", agent)
    _log(acct, inc, "assign_log_entry", agent, channel, "Reassigned.", user_ids)
    _emit(acct, inc, "incident.reassigned", agent, client)


def delegate(
    acct: Account,
    inc: Incident,
    policy_id: str,
    agent: Agent,
    channel: JSON,
    client: JSON | None = None,
) -> None:
    """Reassigns to another escalation policy (its level-1 on-call)."""
    if inc.status == "resolved":
        raise _already_resolved()
    inc.escalation_policy_id = policy_id
    inc.escalation_level = 1
    inc.acknowledgements = []
    users = acct.oncall_users(policy_id, 1)
    _assign(acct, inc, users)
    _status(acct, inc, "triggered", agent)
    _log(acct, inc, "assign_log_entry", agent, channel, "Delegated.", users)
    _emit(acct, inc, "incident.delegated", agent, client)


def set_priority(
    acct: Account, inc: Incident, priority_id: str | None, agent: Agent, client: JSON | None
) -> None:
    if inc.priority_id == priority_id:
        return
    inc.priority_id = priority_id
    inc.updated_at = acct.clock.now()
    _emit(acct, inc, "incident.priority_updated", agent, client)


def set_urgency(acct: Account, inc: Incident, urgency: str, agent: Agent) -> None:
    if inc.urgency != urgency:
        inc.urgency = urgency
        _log(acct, inc, "urgency_change_log_entry", agent, API, f"Urgency: {urgency}.")


def add_responders(
    acct: Account,
    inc: Incident,
    requester_id: str,
    message: str,
    targets: list[tuple[str, str]],
    client: JSON | None = None,
) -> ResponderRequest:
    """One responder request: every target user (an escalation policy target means its level-1
    on-call) is added as a pending responder."""
    now = acct.clock.now()
    agent: Agent = ("user", requester_id)
    request = ResponderRequest(requester_id, message, now, list(targets), [])
    for kind, target in targets:
        users = [target] if kind == "user" else acct.oncall_users(target, 1)
        policy = target if kind == "escalation_policy" else None
        for uid in users:
            responder = Responder(uid, requester_id, message, now, "pending", policy)
            inc.responders.append(responder)
            request.responders.append(responder)
    inc.responder_requests.append(request)
    user_ids = [r.user_id for r in request.responders]
    _log(acct, inc, "responder_request_log_entry", agent, API, message, user_ids)
    for responder in request.responders:
        _emit(acct, inc, "incident.responder.added", agent, client, responder)
    return request


def reply_responder(acct: Account, inc: Incident, user_id: str, accept: bool = True) -> None:
    pending = [r for r in inc.responders if r.user_id == user_id and r.state == "pending"]
    if not pending:
        raise ValueError(f"{user_id} has no pending responder request on {inc.id}")
    for responder in pending:
        responder.state = "joined" if accept else "declined"
        agent: Agent = ("user", user_id)
        _emit(acct, inc, "incident.responder.replied", agent, {"name": "PagerDuty"}, responder)


def add_note(
    acct: Account, inc: Incident, user_id: str, content: str, client: JSON | None = None
) -> Note:
    note = Note(acct.ids.new("PNOT"), user_id, content, acct.clock.now())
    inc.notes.append(note)
    _log(acct, inc, "annotate_log_entry", ("user", user_id), API, content)
    _emit(acct, inc, "incident.annotated", ("user", user_id), client, note=note)
    return note


def agent_name(acct: Account, agent: Agent) -> str:
    return _agent_name(acct, agent)

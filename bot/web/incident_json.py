"""The JSON API's incident documents (GET /api/incidents, GET /api/incidents/{id}), built from
the store's read models; their shapes are the OpenAPI document's (bot.web.openapi_schemas)."""

from __future__ import annotations

from typing import Any

from bot.core.milestones import ORDER
from bot.store.read_models import IncidentDetail, IncidentSummary
from bot.web.wording import said


def incident_summary(incident: IncidentSummary) -> dict[str, Any]:
    return {
        "id": incident.id,
        "title": incident.title,
        "severity": incident.severity,
        "status": incident.status,
        "private": incident.private,
        "drill": incident.drill,
        "source": incident.source,
        "channel": {
            "id": incident.conversation_id,
            "name": incident.conversation_name,
            "surface": incident.chat_surface,
        },
        "service": incident.service,
        "created_by": incident.created_by,
        "created_at": incident.created_at.isoformat(),
        "updated_at": incident.updated_at.isoformat(),
    }


def incident_detail(detail: IncidentDetail) -> dict[str, Any]:
    incident, stamps = detail.incident, detail.milestones
    return {
        **incident_summary(incident),
        "description": incident.description,
        "summary": incident.summary,
        "roles": dict(detail.roles),
        "milestones": {
            m.value: (
                {
                    "at": stamps[m].at.isoformat(),
                    "source": stamps[m].source.value,
                    "by": stamps[m].by,
                }
                if m in stamps
                else None
            )
            for m in ORDER
        },
        "alerts": [
            {
                "fingerprint": a.fingerprint,
                "name": a.name,
                "summary": a.summary,
                "status": a.status,
                "labels": dict(a.labels),
                "links": dict(a.links),
                "starts_at": a.starts_at.isoformat(),
                "ends_at": a.ends_at.isoformat() if a.ends_at else None,
            }
            for a in detail.alerts
        ],
        "pages": [
            {
                "pager": p.pager,
                "kind": p.kind,
                "service": p.service,
                "status": p.status,
                "pager_incident": p.pager_incident_id,
                "pagerduty_incident": p.pager_incident_id if p.pager == "pagerduty" else None,
                "html_url": p.html_url,
                "acknowledged_at": p.acknowledged_at.isoformat() if p.acknowledged_at else None,
            }
            for p in detail.pages
        ],
        "timeline": [
            {
                "id": item.id,
                "at": item.at.isoformat(),
                "kind": item.kind,
                "text": said(item.text),
                "actor": item.actor,
                "source": item.source,
                "data": dict(item.data),
            }
            for item in detail.timeline
        ],
    }

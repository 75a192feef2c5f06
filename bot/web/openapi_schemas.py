"""The components of the OpenAPI document (bot/web/openapi.py): the models' generated schemas,
the response bodies, and the helpers that write them."""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import models_json_schema

from bot.adapters.alert_sources.datadog import _Notification as DatadogNotification
from bot.adapters.alert_sources.newrelic import _Issue as NewRelicIssue
from bot.adapters.alert_sources.sns import SnsMessage
from bot.adapters.pagerduty_webhooks import MAX_EVENT_ID
from bot.core.alerts import _WireGroup
from bot.core.imports import ImportRow

JSON = "application/json"
REF = "#/components/schemas/"
# pydantic's model names -> the names in the document
RENAMED = {
    "_WireGroup": "AlertNotification",
    "_WireAlert": "Alert",
    "ImportRow": "ImportRow",
    "_Notification": "DatadogNotification",
    "_Org": "DatadogOrg",
    "_Issue": "NewRelicIssue",
    "SnsMessage": "SnsMessage",
}


def _model_schemas() -> dict[str, Any]:
    _, top = models_json_schema(
        [
            (_WireGroup, "validation"),
            (ImportRow, "validation"),
            (DatadogNotification, "validation"),
            (NewRelicIssue, "validation"),
            (SnsMessage, "validation"),
        ],
        ref_template=REF + "{model}",
    )
    text = json.dumps(top["$defs"])
    for old, new in RENAMED.items():
        text = text.replace(f'"{REF}{old}"', f'"{REF}{new}"')
    schemas: dict[str, Any] = json.loads(text)
    return {RENAMED[name]: {**schema, "title": RENAMED[name]} for name, schema in schemas.items()}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


def _obj(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("Error"), description)


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


SEE_OTHER = {"description": "Redirect (Location header)"}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds until this address may present a credential again",
        "schema": {"type": "integer", "minimum": 1},
    }
}
_TOO_MANY = (
    "Too many wrong credentials from the client's address within this minute "
    "(AUTH_FAILURES_PER_MINUTE): every credential it presents is refused until Retry-After"
)
THROTTLED = {**_error(_TOO_MANY), "headers": RETRY_AFTER}
THROTTLED_PAGE = {**_html(_TOO_MANY), "headers": RETRY_AFTER}
NULLABLE_STRING = {"type": ["string", "null"]}
ERRORS = {
    "400": _error("The body is not UTF-8, not JSON, or nested too deep"),
    "401": _error("Missing or wrong credential, or the route is off on this server"),
    "413": _error("The body is over the route's size limit"),
}

SCHEMAS: dict[str, Any] = {
    "Error": _obj(["error"], error={"type": "string"}),
    "WebhookResult": _obj(
        ["ok", "incident_id", "result"],
        ok={"type": "boolean"},
        incident_id={"type": ["integer", "null"]},
        result={"type": "string"},
        refusal={**_ref("Refusal"), "description": "Only when refused (ok false)"},
    ),
    "Refusal": _obj(
        ["what", "why", "fix", "who"],
        what={"type": "string", "description": "The action refused: `acknowledge the incident`"},
        why={"type": "string", "description": "Why, in a sentence (people as `@id`)"},
        fix={**NULLABLE_STRING, "description": "What to do instead, when there is something"},
        who={"type": "array", "items": {"type": "string"}, "description": "Ids `why` names"},
    ),
    "AlertProblems": _obj(
        ["error", "problems"],
        error={"type": "string"},
        problems={"type": "array", "items": {"type": "string"}},
    ),
    "PagerDutyWebhook": _obj(
        ["event"],
        event=_obj(
            ["id", "event_type", "data"],
            id={"type": "string", "minLength": 1, "maxLength": MAX_EVENT_ID},
            event_type={"type": "string"},
            agent={"type": "object"},
            data=_obj(
                ["id"],
                id={"type": "string", "pattern": "^[A-Za-z0-9]{1,32}$"},
                incident_key={"type": "string"},
                html_url={"type": "string"},
                status={"type": "string"},
                title={"type": "string"},
            ),
        ),
    ),
    "OpsgenieWebhook": _obj(
        ["action", "alert"],
        action={"type": "string", "minLength": 1},
        alert=_obj(
            ["alertId"],
            alertId={"type": "string", "pattern": "^[A-Za-z0-9_-]{1,100}$"},
            alias={"type": "string", "maxLength": 512},
            username={"type": "string"},
            userId={"type": "string"},
            updatedAt={"type": "integer", "description": "The action's time, epoch nanoseconds"},
        ),
    ),
    "IncidentSummary": _obj(
        [
            *("id", "title", "severity", "status", "private", "drill", "source", "channel"),
            *("service", "created_by", "created_at", "updated_at"),
        ],
        id={"type": "integer"},
        title={"type": "string"},
        severity={"type": "string"},
        status={"type": "string"},
        private={"type": "boolean"},
        drill={"type": "boolean"},
        source={"type": "string"},
        channel={
            **_obj(
                ["id", "name", "surface"],
                id=NULLABLE_STRING,
                name=NULLABLE_STRING,
                surface=NULLABLE_STRING,
            ),
            "description": "The incident's conversation on the chat surface (its id and name"
            " as the surface gives them; the store's conversation_id / conversation_name) and"
            " which surface that is (`slack`; null while it has none).",
        },
        service=NULLABLE_STRING,
        created_by=NULLABLE_STRING,
        created_at={"type": "string", "format": "date-time"},
        updated_at={"type": "string", "format": "date-time"},
    ),
    "IncidentList": _obj(
        ["incidents", "limit", "offset"],
        incidents={"type": "array", "items": _ref("IncidentSummary")},
        limit={"type": "integer", "minimum": 1, "maximum": 500},
        offset={"type": "integer", "minimum": 0},
    ),
    "IncidentDetail": {
        "allOf": [
            _ref("IncidentSummary"),
            _obj(
                ["description", "summary", "roles", "milestones", "alerts", "pages", "timeline"],
                description={"type": "string"},
                summary=NULLABLE_STRING,
                roles={"type": "object", "additionalProperties": {"type": "string"}},
                milestones={
                    "type": "object",
                    "additionalProperties": {
                        "oneOf": [
                            {"type": "null"},
                            _obj(
                                ["at", "source", "by"],
                                at={"type": "string", "format": "date-time"},
                                source={"type": "string"},
                                by=NULLABLE_STRING,
                            ),
                        ]
                    },
                },
                alerts={"type": "array", "items": {"type": "object"}},
                pages={"type": "array", "items": {"type": "object"}},
                timeline={"type": "array", "items": {"type": "object"}},
            ),
        ]
    },
    "MetricsReport": {
        "type": "object",
        "required": ["mttd", "mtta", "mttm", "mttr"],
        "additionalProperties": _obj(
            ["count", "mean_s", "median_s", "p90_s"],
            count={"type": "integer", "minimum": 0},
            mean_s={"type": ["number", "null"]},
            median_s={"type": ["number", "null"]},
            p90_s={"type": ["number", "null"]},
        ),
    },
    "ImportResult": _obj(
        ["imported", "skipped"],
        imported={"type": "integer", "minimum": 0},
        skipped={"type": "integer", "minimum": 0},
    ),
    "ImportErrors": _obj(
        ["errors"],
        errors={
            "type": "array",
            "items": _obj(
                ["index", "reason"], index={"type": "integer"}, reason={"type": "string"}
            ),
        },
    ),
    "Health": _obj(["ok", "database"], ok={"type": "boolean"}, database={"type": "string"}),
}

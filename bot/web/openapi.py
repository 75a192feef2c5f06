"""The OpenAPI 3.1 document of every HTTP route, served at `GET /openapi.json` (no auth).

The request bodies the bot validates with pydantic (the alert notifications, the import rows)
are generated from those models, so the document cannot drift from what the handlers take; the
paths, the PagerDuty event (checked by hand in bot.adapters.pagerduty_webhooks) and the
responses are written here, with the status codes the handlers really return.
tests/web/test_openapi.py checks that every route of the app is documented and nothing else;
tests/e2e/test_schemathesis.py sends schemathesis's cases to a running bot and checks each
answer against this document."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from pydantic.json_schema import models_json_schema
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.adapters.pagerduty_webhooks import MAX_EVENT_ID
from bot.core.alerts import _WireGroup
from bot.core.imports import ImportRow
from bot.web.auth import COOKIE
from bot.web.common import MAX_ID

JSON = "application/json"
REF = "#/components/schemas/"
# pydantic's model names -> the names in the document
RENAMED = {"_WireGroup": "AlertNotification", "_WireAlert": "Alert", "ImportRow": "ImportRow"}


def _model_schemas() -> dict[str, Any]:
    _, top = models_json_schema(
        [(_WireGroup, "validation"), (ImportRow, "validation")], ref_template=REF + "{model}"
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
        channel=_obj(["id", "name"], id=NULLABLE_STRING, name=NULLABLE_STRING),
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


def _alert_webhook(source: str, versions: list[str]) -> dict[str, Any]:
    # the versions each parser takes (bot.core.alerts.parse_alertmanager, parse_grafana)
    body = {"allOf": [_ref("AlertNotification"), _obj([], version={"enum": versions})]}
    return {
        "post": {
            "summary": f"A {source} webhook notification: opens, updates or resolves an incident",
            "security": [{"alertWebhookToken": []}],
            "requestBody": {
                "required": True,
                "content": {JSON: {"schema": body}},
            },
            "responses": {
                "200": _json(_ref("WebhookResult"), "Taken (ok false: taken but not acted on)"),
                **ERRORS,
                "422": _json(_ref("AlertProblems"), f"Not a {source} notification"),
            },
        }
    }


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


ID_PARAMETER = {
    "name": "incident_id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}
API_TOKEN: list[dict[str, list[str]]] = [{"apiToken": []}]
PAGE_RESPONSES = {
    "200": _html("The page"),
    "303": SEE_OTHER,
    "401": _html("Wrong bearer token, or the pages are off (no API_TOKEN)"),
}

PATHS: dict[str, Any] = {
    "/webhooks/alertmanager": _alert_webhook("alertmanager", ["4"]),
    "/webhooks/grafana": _alert_webhook("grafana", ["1", "4"]),
    "/webhooks/pagerduty": {
        "post": {
            "summary": "A PagerDuty v3 webhook event (signed with one of PAGERDUTY_WEBHOOK_SECRETS)",
            "security": [{"pagerDutySignature": []}],
            "requestBody": {
                "required": True,
                "content": {JSON: {"schema": _ref("PagerDutyWebhook")}},
            },
            "responses": {
                "200": _json(_ref("WebhookResult"), "Taken"),
                **ERRORS,
                "422": _error("Not a PagerDuty v3 webhook event"),
            },
        }
    },
    "/api/incidents": {
        "get": {
            "summary": "Incidents, newest first",
            "security": API_TOKEN,
            "parameters": [
                _query("limit", {"type": "integer", "default": 100}, "Clamped to 1..500"),
                _query("offset", {"type": "integer", "default": 0}, "Clamped to 0.."),
            ],
            "responses": {
                "200": _json(_ref("IncidentList"), "A page of incidents"),
                "400": _error("limit or offset is not a whole number"),
                "401": ERRORS["401"],
            },
        }
    },
    "/api/incidents/{incident_id}": {
        "get": {
            "summary": "One incident with its roles, milestones, alerts, pages and timeline",
            "security": API_TOKEN,
            "parameters": [ID_PARAMETER],
            "responses": {
                "200": _json(_ref("IncidentDetail"), "The incident"),
                "400": _error("The id is not a positive whole number"),
                "401": ERRORS["401"],
                "404": _error("No such incident"),
            },
        }
    },
    "/api/incidents/import": {
        "post": {
            "summary": "Backfill past incidents: all rows are stored, or none",
            "security": API_TOKEN,
            "requestBody": {
                "required": True,
                "content": {
                    JSON: {"schema": {"type": "array", "items": _ref("ImportRow")}},
                    "application/x-ndjson": {
                        "schema": {"type": "string", "description": "One ImportRow per line"}
                    },
                },
            },
            "responses": {
                "200": _json(_ref("ImportResult"), "Imported (rows already there are skipped)"),
                **ERRORS,
                "415": _error("Neither application/json nor JSON lines"),
                "422": _json(_ref("ImportErrors"), "Rows refused; nothing was stored"),
            },
        }
    },
    "/api/metrics": {
        "get": {
            "summary": "MTTD/MTTA/MTTM/MTTR, as `incidentbot report --format json`",
            "security": API_TOKEN,
            "parameters": [
                _query("since", {"type": "string"}, "A date or instant"),
                _query("until", {"type": "string"}, "A date or instant"),
                _query("severity", {"type": "string"}, "One of the catalog's severities"),
                _query("service", {"type": "string"}, "One of the catalog's services"),
            ],
            "responses": {
                "200": _json(_ref("MetricsReport"), "The report"),
                "400": _error("An unknown or malformed filter"),
                "401": ERRORS["401"],
            },
        }
    },
    "/healthz": {
        "get": {
            "summary": "Liveness and database reachability",
            "security": [],
            "responses": {
                "200": _json(_ref("Health"), "Healthy"),
                "503": _json(_ref("Health"), "The database is unreachable"),
            },
        }
    },
    "/metrics": {
        "get": {
            "summary": "Prometheus metrics",
            "security": [],
            "responses": {
                "200": {"description": "Exposition format", "content": {"text/plain": {}}}
            },
        }
    },
    "/openapi.json": {
        "get": {
            "summary": "This document",
            "security": [],
            "responses": {"200": _json({"type": "object"}, "The OpenAPI document")},
        }
    },
    "/slack/events": {
        "post": {
            "summary": "Slack's events, commands and interactions (Bolt; signed by Slack)",
            "security": [{"slackSignature": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                    JSON: {"schema": {"type": "object"}},
                },
            },
            "responses": {
                "200": {"description": "Acknowledged"},
                **ERRORS,
                "404": {"description": "No listener for this request"},
                "503": _error("Slack over HTTP is off (Socket Mode)"),
            },
        }
    },
    "/": {
        "get": {
            "summary": "The dashboard (HTML)",
            "security": [{"apiToken": []}, {"reviewSession": []}],
            "parameters": [
                _query(name, {"type": "string"}, "A dashboard filter")
                for name in ("severity", "status", "service", "period")
            ],
            "responses": {**PAGE_RESPONSES, "400": _html("A bad filter")},
        }
    },
    "/incidents/{incident_id}": {
        "get": {
            "summary": "An incident's review page (HTML)",
            "security": [{"apiToken": []}, {"reviewSession": []}],
            "parameters": [ID_PARAMETER],
            "responses": {**PAGE_RESPONSES, "404": _html("No such incident the viewer can see")},
        }
    },
    "/login": {
        "get": {
            "summary": "The login form (HTML)",
            "security": [],
            "parameters": [_query("next", {"type": "string"}, "Where to go once signed in")],
            "responses": {"200": _html("The form"), "303": SEE_OTHER},
        },
        "post": {
            "summary": "Sign in with the API token",
            "security": [],
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": _obj(["token"], token={"type": "string"}, next={"type": "string"})
                    }
                },
            },
            "responses": {
                "303": SEE_OTHER,
                "400": _html("Too many fields"),
                "401": _html("Not the API token"),
                "403": _html("Posted from another site"),
                "413": _html("The form is too large"),
                "415": _html("Not a form"),
            },
        },
    },
    "/logout": {
        "post": {
            "summary": "Sign out",
            "security": [],
            "responses": {"303": SEE_OTHER, "403": _html("Posted from another site")},
        }
    },
    "/review/login": {
        "get": {
            "summary": "A review link from Slack: signs its user in",
            "security": [],
            "parameters": [_query("t", {"type": "string"}, "The link's token")],
            "responses": {
                "200": _html("A link preview"),
                "303": SEE_OTHER,
                "400": _html("The link does not work"),
            },
        }
    },
    "/static/review.css": {
        "get": {
            "summary": "The review pages' stylesheet",
            "security": [],
            "responses": {"200": {"description": "CSS", "content": {"text/css": {}}}},
        }
    },
}

SECURITY_SCHEMES = {
    "apiToken": {"type": "http", "scheme": "bearer", "description": "API_TOKEN"},
    "alertWebhookToken": {"type": "http", "scheme": "bearer", "description": "ALERT_WEBHOOK_TOKEN"},
    "pagerDutySignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-PagerDuty-Signature",
        "description": "v1=<hex HMAC-SHA256 of the raw body> per secret, comma-separated",
    },
    "slackSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Slack-Signature",
        "description": "Slack's v0 signature, with X-Slack-Request-Timestamp",
    },
    "reviewSession": {"type": "apiKey", "in": "cookie", "name": COOKIE},
}


@cache
def document() -> dict[str, Any]:
    from importlib.metadata import version

    return {
        "openapi": "3.1.0",
        "info": {"title": "incidentbot", "version": version("incidentbot")},
        "paths": PATHS,
        "components": {
            "schemas": {**_model_schemas(), **SCHEMAS},
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def routes() -> list[Route]:
    async def openapi(_request: Request) -> Response:
        return JSONResponse(document())

    return [Route("/openapi.json", openapi, methods=["GET"])]

"""The OpenAPI 3.1 document of every HTTP route, served at `GET /openapi.json` (no auth).

The request bodies the bot validates with pydantic (the alert notifications, the import rows)
are generated from those models, so the document cannot drift from what the handlers take; the
paths, the PagerDuty event (checked by hand in bot.adapters.pagerduty_webhooks) and the
responses are written here, with the status codes the handlers really return.
tests/e2e/test_schemathesis.py checks that every route of the app is documented and nothing
else, and sends schemathesis's cases to a running bot, checking each answer against this
document. The components live in bot/web/openapi_schemas.py."""

from __future__ import annotations

from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.web.auth import COOKIE
from bot.web.common import MAX_ID
from bot.web.openapi_schemas import (
    ERRORS,
    JSON,
    SCHEMAS,
    SEE_OTHER,
    THROTTLED,
    THROTTLED_PAGE,
    _error,
    _html,
    _json,
    _model_schemas,
    _obj,
    _ref,
)
from bot.web.openapi_webhooks import WEBHOOK_PATHS


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
    "429": THROTTLED_PAGE,
}

PATHS: dict[str, Any] = {
    **WEBHOOK_PATHS,
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
                "429": THROTTLED,
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
                "429": THROTTLED,
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
                "429": THROTTLED,
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
                "429": THROTTLED,
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
            "summary": "Prometheus metrics (behind METRICS_TOKEN when set; else public and "
            "without private incidents)",
            "security": [{}, {"metricsToken": []}],
            "responses": {
                "200": {"description": "Exposition format", "content": {"text/plain": {}}},
                "401": _error("METRICS_TOKEN is set and the bearer token is missing or wrong"),
                "429": THROTTLED,
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
                "429": THROTTLED_PAGE,
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
    "metricsToken": {"type": "http", "scheme": "bearer", "description": "METRICS_TOKEN"},
    "opsgenieWebhookToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "OPSGENIE_WEBHOOK_TOKEN",
    },
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

"""The webhooks' operations in the OpenAPI document (bot/web/openapi.py): the alert sources,
CloudWatch through Amazon SNS, and the pagers' webhooks."""

from __future__ import annotations

from typing import Any

from bot.web.openapi_schemas import ERRORS, JSON, _error, _json, _obj, _ref


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


def _source_webhook(source: str, schema: str) -> dict[str, Any]:
    """Datadog and New Relic (bot.web.alert_sources): bearer ALERT_WEBHOOK_TOKEN."""
    return {
        "post": {
            "summary": f"A {source} notification: opens, updates or resolves an incident",
            "security": [{"alertWebhookToken": []}],
            "requestBody": {"required": True, "content": {JSON: {"schema": _ref(schema)}}},
            "responses": {
                "200": _json(_ref("WebhookResult"), "Taken (incident_id null: not acted on)"),
                **ERRORS,
                "422": _json(_ref("AlertProblems"), f"Not a {source} notification"),
            },
        }
    }


CLOUDWATCH = {
    "post": {
        "summary": (
            "An Amazon SNS message (CloudWatch alarm state changes; SNS sends it as text/plain): "
            "its SNS signature is verified, a SubscriptionConfirmation for a topic of "
            "SNS_TOPIC_ARNS is confirmed, an ALARM opens or joins an incident, OK resolves it"
        ),
        "requestBody": {
            "required": True,
            "content": {
                JSON: {"schema": _ref("SnsMessage")},
                "text/plain": {"schema": {"type": "string", "description": "The same JSON"}},
            },
        },
        "responses": {
            "200": _json(_ref("WebhookResult"), "Taken (incident_id null: not acted on)"),
            "400": ERRORS["400"],
            "401": _error("Unsigned, a signature that does not match, or SNS_TOPIC_ARNS unset"),
            "403": _error(
                "A topic not in SNS_TOPIC_ARNS, or a certificate or SubscribeURL not https on "
                "a host of SNS_CERT_HOSTS"
            ),
            "413": ERRORS["413"],
            "422": _json(_ref("AlertProblems"), "Not an SNS message, or not a CloudWatch alarm"),
            "503": _error("Amazon SNS (the certificate or the SubscribeURL) could not be reached"),
        },
    }
}


def _pager_webhook(
    summary: str, security: str, schema: str, taken: str, refused: dict[str, Any]
) -> dict[str, Any]:
    """A pager's webhook: its own authentication, its payload, 422 when it is not one."""
    return {
        "post": {
            "summary": summary,
            "security": [{security: []}],
            "requestBody": {"required": True, "content": {JSON: {"schema": _ref(schema)}}},
            "responses": {
                "200": _json(_ref("WebhookResult"), taken),
                **ERRORS,
                "422": refused,
            },
        }
    }


WEBHOOK_PATHS: dict[str, Any] = {
    "/webhooks/alertmanager": _alert_webhook("alertmanager", ["4"]),
    "/webhooks/grafana": _alert_webhook("grafana", ["1", "4"]),
    "/webhooks/datadog": _source_webhook("Datadog", "DatadogNotification"),
    "/webhooks/newrelic": _source_webhook("New Relic", "NewRelicIssue"),
    "/webhooks/cloudwatch": CLOUDWATCH,
    "/webhooks/pagerduty": _pager_webhook(
        "A PagerDuty v3 webhook event (signed with one of PAGERDUTY_WEBHOOK_SECRETS)",
        "pagerDutySignature",
        "PagerDutyWebhook",
        "Taken",
        _error("Not a PagerDuty v3 webhook event"),
    ),
    "/webhooks/opsgenie": _pager_webhook(
        "An Opsgenie outgoing Webhook integration payload (custom header "
        "Authorization: Bearer OPSGENIE_WEBHOOK_TOKEN); actions not followed are ignored",
        "opsgenieWebhookToken",
        "OpsgenieWebhook",
        "Taken, or ignored",
        _json(_ref("AlertProblems"), "Not an Opsgenie webhook payload"),
    ),
}

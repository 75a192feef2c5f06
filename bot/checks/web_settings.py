"""Settings the bot starts without, each a warning naming what stops working without it (as the
web routes and the Slack listeners behave when it is unset)."""

from __future__ import annotations

from bot.checks.base import Recorder
from bot.settings import Settings

API_OFF = (
    "API_TOKEN is not set: /api/incidents, /api/metrics and /api/incidents/import answer 401, "
    "nobody can sign in to the review pages (dashboard, incident pages), and /incident review "
    "answers that the review page is off"
)
PUBLIC_URL_OFF = (
    "PUBLIC_URL is not set: incident cards, announcements, PagerDuty incidents and post-mortems "
    "carry no review-page link, and /incident review sign-in links are relative (they do not "
    "open from Slack)"
)
ALERTS_OFF = (
    "ALERT_WEBHOOK_TOKEN is not set: /webhooks/alertmanager, /webhooks/grafana, /webhooks/datadog "
    "and /webhooks/newrelic answer 401, so no alert from them ever opens an incident "
    "(CloudWatch through SNS is verified by its signature instead)"
)


def check_web_settings(settings: Settings, r: Recorder) -> None:
    if settings.api_token is None:
        r.warn("api token", API_OFF, "set API_TOKEN to a long random secret")
    else:
        r.ok("api token", "API_TOKEN set: the API and the review pages are on")
    if not settings.public_url:
        r.warn(
            "public url",
            PUBLIC_URL_OFF,
            "set PUBLIC_URL to the address people reach the bot at (https://…)",
        )
    else:
        r.ok("public url", f"PUBLIC_URL={settings.public_url}: review links point there")
    if settings.alert_webhook_token is None:
        r.warn(
            "alert webhook token",
            ALERTS_OFF,
            "set ALERT_WEBHOOK_TOKEN and give it to each alert source as its bearer token",
        )
    else:
        r.ok("alert webhook token", "ALERT_WEBHOOK_TOKEN set: alert webhooks are on")
    if settings.sns_topic_arns.strip():
        topics = [t for t in settings.sns_topic_arns.split(",") if t.strip()]
        r.ok("sns topics", f"CloudWatch alarms taken from {len(topics)} SNS topic(s)")

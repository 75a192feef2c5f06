"""Settings from the environment (or a `.env` file), read once at start-up."""

from __future__ import annotations

import base64
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot import package_data, setting_rules as rules
from bot.catalog_file import load_catalog
from bot.core.catalog import Catalog, catalog_from_mapping


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = "sqlite:///incidentbot.db"
    incidentbot_config: Path | None = None
    # unset: the playbooks and templates that ship with the bot (bot/package_data.py)
    playbooks_dir: Path = Field(default_factory=package_data.playbooks_dir)
    public_url: str | None = None

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    slack_incidents_channel: str | None = None

    alert_webhook_token: SecretStr | None = None

    pagerduty_api_token: SecretStr | None = None
    pagerduty_from_email: str | None = None
    pagerduty_api_url: str = "https://api.pagerduty.com"
    pagerduty_events_url: str = "https://events.pagerduty.com"
    pagerduty_webhook_secrets: SecretStr | None = (
        None  # comma-separated: old and new during rotation
    )
    pagerduty_ca_bundle: Path | None = None
    pagerduty_routing_key: SecretStr | None = None
    pagerduty_service_id: str | None = None
    pagerduty_escalation_policy_id: str | None = None

    # Opsgenie / Jira Service Management Operations: an API integration's key, the API's
    # region (EU: https://api.eu.opsgenie.com), and the bearer token the outgoing Webhook
    # integration sends as its custom header (POST /webhooks/opsgenie)
    opsgenie_api_key: SecretStr | None = None
    opsgenie_api_url: str = "https://api.opsgenie.com"
    opsgenie_webhook_token: SecretStr | None = None
    # The web app people open alerts in (https://<your-site>.app.opsgenie.com; JSM Operations:
    # https://<site>.atlassian.net/jira/ops): set, each Opsgenie page links to its alert
    opsgenie_app_url: str | None = None

    jira_url: str | None = None
    jira_project: str | None = None
    jira_email: str | None = None  # Cloud: with JIRA_API_TOKEN
    jira_api_token: SecretStr | None = None
    jira_pat: SecretStr | None = None  # Data Center: a personal access token
    jira_ca_bundle: Path | None = None
    jira_api_version: int = Field(default=2, ge=2, le=3)  # 2: wiki markup; 3: ADF (Cloud)
    jira_timeout: float = Field(default=10.0, gt=0)  # seconds; a slower answer is retried later
    # A service project's key or id: post-mortems are raised there as requests (the catalog's
    # postmortem.request_type); follow-ups stay issues of JIRA_PROJECT.
    jira_service_desk: str | None = None
    postmortem_templates_dir: Path = Field(default_factory=package_data.postmortem_templates_dir)

    api_token: SecretStr | None = None
    # SIGTERM: seconds `serve` keeps working off answered requests before it exits (under a
    # typical orchestrator's 30 s); what is left stays in the inbox for the next sweep.
    shutdown_grace: float = Field(default=20.0, ge=0, le=3600)
    metrics_token: SecretStr | None = None  # set: GET /metrics wants `Authorization: Bearer` it
    # Behind a reverse proxy: the header it appends the client's address to (X-Forwarded-For);
    # the right-most entry is the address failed credentials are counted against.
    trusted_proxy_header: str | None = None
    auth_failures_per_minute: int = Field(default=10, ge=1)  # then 429 until the minute ends
    log_level: str = Field(default="INFO")
    log_format: str = Field(default="json", pattern="^(json|console)$")  # one JSON object per line

    # CloudWatch alarms through Amazon SNS (POST /webhooks/cloudwatch): the topic ARNs taken
    # (comma-separated; empty: off), the hosts signing certificates and subscription
    # confirmations may come from (comma-separated, `*` one DNS label; empty: the default
    # sns.*.amazonaws.com, sns.*.amazonaws.com.cn), and a CA bundle to trust for them.
    sns_topic_arns: str = ""
    sns_cert_hosts: str = ""
    sns_ca_bundle: Path | None = None

    # Values checked as they load: a bad one is named with its fix (bot/setting_rules.py)
    @field_validator("database_url")
    @classmethod
    def _usable_database(cls, value: str) -> str:
        return rules.database_url(value)

    @field_validator("pagerduty_ca_bundle", "jira_ca_bundle", "sns_ca_bundle", mode="before")
    @classmethod
    def _pem_file(cls, value: object) -> Path | None:
        return rules.ca_bundle(value)

    @model_validator(mode="after")
    def _given_folders(self) -> Settings:
        for name in sorted({"playbooks_dir", "postmortem_templates_dir"} & self.model_fields_set):
            rules.folder(name.upper(), getattr(self, name), may_be_missing=name == "playbooks_dir")
        return self

    @field_validator("pagerduty_routing_key")
    @classmethod
    def _routing_key_length(cls, value: SecretStr | None) -> SecretStr | None:
        rules.routing_key(value.get_secret_value() if value is not None else None)
        return value

    @field_validator("opsgenie_app_url")
    @classmethod
    def _opsgenie_app(cls, value: str | None) -> str | None:
        return rules.opsgenie_app_url(value)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        return rules.log_level(value)

    def catalog(self) -> Catalog:
        if self.incidentbot_config is None:
            return catalog_from_mapping(None)
        return load_catalog(self.incidentbot_config)

    def webhook_secrets(self) -> list[str]:
        raw = (
            self.pagerduty_webhook_secrets.get_secret_value()
            if self.pagerduty_webhook_secrets
            else ""
        )
        return [part.strip() for part in raw.split(",") if part.strip()]

    def missing_for_slack(self) -> list[str]:
        missing = []
        if self.slack_bot_token is None:
            missing.append("SLACK_BOT_TOKEN")
        if self.slack_signing_secret is None and self.slack_app_token is None:
            missing.append("SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)")
        return missing

    def secret_values(self) -> list[str]:
        """Every secret this process holds (the log formatter redacts them)."""
        values = [
            getattr(self, name).get_secret_value()
            for name, field in type(self).model_fields.items()
            if getattr(self, name) is not None and "SecretStr" in str(field.annotation)
        ]
        found = [part.strip() for value in values for part in value.split(",") if part.strip()]
        if self.jira_email and self.jira_api_token:  # Jira Cloud's `Authorization: Basic …`
            pair = f"{self.jira_email}:{self.jira_api_token.get_secret_value()}"
            found.append(base64.b64encode(pair.encode("latin-1", "replace")).decode())
        return found

    def configure_logging(self) -> None:
        from bot.logs import configure

        configure(self.log_level, self.log_format, self.secret_values())

"""The only importers of the vendor SDKs: Slack, PagerDuty, Jira."""

"""Opsgenie (Jira Service Management Operations) as a pager: the REST client, the `Pager` port
over the Alert API v2, and the outgoing Webhook integration's payloads parsed into `PagerEvent`."""

from .client import OpsgenieClient, OpsgenieError
from .pager import OpsgeniePager

__all__ = ["OpsgenieClient", "OpsgenieError", "OpsgeniePager"]

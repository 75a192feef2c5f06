"""A loopback PagerDuty emulator (stdlib + trustme) for incidentbot's tests and local runs.

with PagerDutyEmulator() as pd:
    rest = RestApiV2Client(pd.api_token, default_from="alice@example.com", base_url=pd.url,
                           verify=pd.ssl_context())
    events = EventsApiV2Client(pd.routing_key("checkout-api"), base_url=pd.url,
                               verify=pd.ssl_context())
    pd.subscribe("http://127.0.0.1:8123/pagerduty/webhooks")
    pd.acknowledge(incident_id, "alice")  # the on-call human, in PagerDuty's UI
"""

from .emulator import PagerDutyEmulator
from .faults import Fault
from .server import PagerDutyCall
from .webhooks import Subscription, WebhookDelivery, signature

__all__ = [
    "Fault",
    "PagerDutyCall",
    "PagerDutyEmulator",
    "Subscription",
    "WebhookDelivery",
    "signature",
]

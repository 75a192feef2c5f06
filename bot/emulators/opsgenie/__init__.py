"""A loopback Opsgenie emulator (stdlib only) for incidentbot's tests and local runs.

with OpsgenieEmulator() as og:
    client = httpx.Client(base_url=og.url, headers={"Authorization": f"GenieKey {og.api_key}"})
    og.add_webhook("http://127.0.0.1:8080/webhooks/opsgenie",
                   headers={"Authorization": "Bearer <OPSGENIE_WEBHOOK_TOKEN>"})
    og.acknowledge(alias, "bob@example.com")  # the on-call, in Opsgenie's app
"""

from .emulator import OpsgenieEmulator
from .server import Fault, OpsgenieCall
from .webhooks import Delivery, Integration

__all__ = ["Delivery", "Fault", "Integration", "OpsgenieCall", "OpsgenieEmulator"]

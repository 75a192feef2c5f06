"""``PagerDutyEmulator``: a loopback PagerDuty for tests — REST API v2 and Events API v2 over
HTTPS, a seeded account, v3 webhooks to the bot, and the on-call humans."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable, Iterable
from typing import Self

from ..common.facade import LifecycleMixin
from . import shapes
from .faults import Fault
from .humans import HumansMixin
from .records import JSON, Clock, iso_ms
from .server import ApiServer, PagerDutyCall
from .state import Account
from .tls import Tls
from .webhooks import Dispatcher, Subscription, WebhookDelivery, WebhookEvent

MAX_ATTEMPTS = 5  # PagerDuty: "retried up to 4 times (total of 5 attempts)"


class PagerDutyEmulator(LifecycleMixin[PagerDutyCall], HumansMixin):
    """A faithful-enough PagerDuty on 127.0.0.1 (stdlib + trustme, thread-safe).

    ``RestApiV2Client(token, default_from="alice@example.com", base_url=emu.url,
    verify=emu.ssl_context())`` and ``EventsApiV2Client(emu.routing_key("checkout-api"),
    base_url=emu.url, verify=emu.ssl_context())`` talk to it: ``url`` is the base URL of both
    the REST and the Events API. ``rate_limits`` enforces 960 REST requests/min per token and
    120 events/min per routing key.
    """

    scheme = "https"
    _api: ApiServer

    def __init__(
        self,
        api_token: str = "pd-test-token",  # noqa: S107
        webhook_secret: str = "pd-webhook-secret",  # noqa: S107
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        seed: bool = True,
        rate_limits: bool = False,
        latency: float = 0.0,
        subdomain: str = "incidentbot-emu",
        webhook_timeout_s: float = 5.0,
        async_webhooks: bool = False,
    ) -> None:
        self._lock = threading.RLock()
        self.account = Account(subdomain=subdomain)
        if seed:
            self.account.seed()
        self.api_token = api_token
        self.webhook_secret = webhook_secret
        self.tls = Tls([host])
        self._webhooks = Dispatcher(timeout_s=webhook_timeout_s, asynchronous=async_webhooks)
        self._api = ApiServer(
            acct=self.account,
            lock=self._lock,
            api_token=api_token,
            host=host,
            port=port,
            tls=self.tls.server_context,
            after_change=self._deliver,
        )
        self._api.rate_limits = rate_limits
        self._api.latency = latency

    def use_clock(self, now: Callable[[], float]) -> None:
        """PagerDuty's clock (epoch seconds): a test shares its scripted clock with the bot, so
        an acknowledgement "one minute after the page" is one minute on both sides."""
        with self._lock:
            self.account.clock = Clock(now)

    # ------------------------------------------------------------ lifecycle
    def start(self) -> Self:
        super().start()
        with self._lock:
            self.account.api_url = self.url
        return self

    def stop(self) -> None:
        super().stop()
        self._webhooks.stop()
        self.tls.cleanup()

    # ----------------------------------------------------------- properties
    @property
    def ca_bundle(self) -> str:
        """Path of a PEM file with the emulator's CA certificate (removed on stop)."""
        return self.tls.ca_bundle

    @property
    def ca_pem(self) -> str:
        return self.tls.ca_pem

    def ssl_context(self) -> ssl.SSLContext:
        """A client ``SSLContext`` trusting the emulator: pass it as ``verify=``."""
        return self.tls.client_context()

    def set_rate_limit(self, scope: str, *, per_minute: float, burst: int | None = None) -> None:
        """``scope``: ``"rest"`` (per API token) or ``"events"`` (per routing key)."""
        self._api.limiter.set_limit(scope, per_minute=per_minute, burst=burst)

    # -------------------------------------------------------------- faults
    def fail(
        self,
        route: str,
        *,
        status: int = 500,
        times: int = 1,
        delay: float = 0.0,
        body: str | None = None,
        apply: bool = False,
    ) -> None:
        """Queues ``times`` failures for ``route`` (``"PUT /incidents/{id}"``, ``"POST
        /v2/enqueue"``, ``"*"``…); ``status=0`` drops the connection. See :class:`Fault`."""
        self._api.faults.add(Fault(route, status, delay, body, apply), times)

    def pending_faults(self, route: str | None = None) -> int:
        return self._api.faults.pending(route)

    # ---------------------------------------------------------- call record
    def calls_to(self, route: str) -> list[PagerDutyCall]:
        return self._calls_where(lambda c: c.route == route)

    # ------------------------------------------------------------- account
    def add_user(
        self,
        name: str,
        *,
        email: str | None = None,
        time_zone: str = "UTC",
        role: str = "user",
        job_title: str = "",
    ) -> str:
        """``name`` is the full name; the email defaults to ``<first name>@example.com``."""
        address = email or f"{name.split()[0].lower()}@example.com"
        with self._lock:
            return self.account.add_user(name, address, time_zone, role, job_title)

    def add_escalation_policy(
        self, name: str, *, primary: str, backup: str | None = None, schedule: bool = True
    ) -> str:
        with self._lock:
            first = self.account.require_user(primary).id
            second = self.account.require_user(backup).id if backup else None
            return self.account.add_policy(name, primary=first, backup=second, schedule=schedule)

    def add_service(self, name: str, *, escalation_policy_id: str | None = None) -> JSON:
        """A service with an Events API v2 integration; without a policy, a new one puts the
        first user on call. Returns ids and the routing key."""
        with self._lock:
            policy = escalation_policy_id
            if policy is None:
                first = next(iter(self.account.users))
                policy = self.account.add_policy(f"{name} escalation", primary=first)
            sid = self.account.add_service(name, policy)
            service = self.account.services[sid]
            return {
                "id": sid,
                "name": name,
                "escalation_policy_id": policy,
                "integration_id": service.integration_ids[0],
                "routing_key": self.account.routing_key(sid),
            }

    def set_oncall(self, escalation_policy_id: str, user_id: str, level: int = 1) -> None:
        with self._lock:
            self.account.set_oncall(escalation_policy_id, user_id, level)

    def oncall(self, escalation_policy_id: str, level: int = 1) -> list[str]:
        with self._lock:
            return self.account.oncall_users(escalation_policy_id, level)

    def user_id(self, name: str) -> str:
        """Id of a user by first name (``"alice"``), full name or email."""
        with self._lock:
            return self.account.require_user(name).id

    def service_id(self, name: str) -> str:
        with self._lock:
            found = self.account.service_named(name)
            if found is None:
                raise KeyError(f"no service {name!r}")
            return found.id

    def escalation_policy_id(self, service: str) -> str:
        with self._lock:
            return self.account.services[self.service_id(service)].escalation_policy_id

    def routing_key(self, service: str) -> str:
        """The Events API v2 integration key of a service (by name or id)."""
        with self._lock:
            return self.account.routing_key(self.service_id(service))

    @property
    def routing_keys(self) -> dict[str, str]:
        with self._lock:
            return {s.name: self.account.routing_key(s.id) for s in self.account.services.values()}

    # ----------------------------------------------------------- inspectors
    def incidents(self, *, status: str | None = None, service: str | None = None) -> list[JSON]:
        with self._lock:
            sid = self.service_id(service) if service else None
            return [
                shapes.incident_json(self.account, inc)
                for inc in self.account.incidents.values()
                if (status is None or inc.status == status)
                and (sid is None or inc.service_id == sid)
            ]

    def incident(self, incident_id: str) -> JSON | None:
        with self._lock:
            inc = self.account.incidents.get(incident_id)
            return shapes.incident_json(self.account, inc) if inc else None

    def incident_by_key(self, key: str, *, service: str | None = None) -> JSON | None:
        """The most recent incident with ``incident_key == key`` (open or not)."""
        found = [i for i in self.incidents(service=service) if i["incident_key"] == key]
        return found[-1] if found else None

    def log_entries(self, incident_id: str) -> list[JSON]:
        with self._lock:
            inc = self.account.incidents[incident_id]
            return [shapes.log_entry_json(self.account, inc, e) for e in inc.log]

    def events(self) -> list[JSON]:
        """Every Events API v2 event accepted, with ``dedup_key``, ``service_id`` and
        ``incident_id`` (None when PagerDuty dropped it, e.g. a resolve for no open alert)."""
        with self._lock:
            return [dict(e) for e in self.account.events]

    # ------------------------------------------------------------ webhooks
    def subscribe(
        self,
        url: str,
        *,
        secrets: Iterable[str] | None = None,
        events: Iterable[str] | None = None,
        services: Iterable[str] | None = None,
        signature: str | None = None,
        unsigned: bool = False,
        custom_headers: dict[str, str] | None = None,
    ) -> str:
        """A v3 webhook subscription (account-wide unless ``services``); returns its id.
        ``secrets`` default to ``[webhook_secret]``; several sign like a secret rotation."""
        with self._lock:
            sid = self.account.ids.new("PWHS")
            service_ids = frozenset(self.service_id(s) for s in services) if services else None
        self._webhooks.subscribe(
            Subscription(
                sid,
                url,
                list(secrets) if secrets is not None else [self.webhook_secret],
                frozenset(events) if events is not None else None,
                service_ids,
                signature,
                unsigned,
                dict(custom_headers or {}),
            )
        )
        return sid

    def subscription(self, subscription_id: str) -> Subscription:
        """The live subscription: change ``secrets``, ``url``, ``active`` … in place."""
        return self._webhooks.subscriptions[subscription_id]

    def webhook_deliveries(
        self,
        *,
        subscription_id: str | None = None,
        event_type: str | None = None,
        incident_id: str | None = None,
    ) -> list[WebhookDelivery]:
        return [
            d
            for d in list(self._webhooks.deliveries)
            if (subscription_id is None or d.subscription_id == subscription_id)
            and (event_type is None or d.event_type == event_type)
            and (incident_id is None or d.incident_id == incident_id)
        ]

    def webhook_events(self, *, incident_id: str | None = None) -> list[JSON]:
        """Every v3 event generated (``{"event": {...}}``), subscribed to or not."""
        return [
            e.payload
            for e in list(self._webhooks.events.values())
            if incident_id is None or e.incident_id == incident_id
        ]

    def redeliver(
        self,
        event_id: str,
        *,
        subscription_id: str | None = None,
        signature: str | None = None,
        unsigned: bool = False,
    ) -> list[WebhookDelivery]:
        """Sends the identical bytes again (same ``X-Webhook-Id``), like PagerDuty's retries."""
        subs = [subscription_id] if subscription_id else None
        return self._webhooks.redeliver(
            event_id, subs, signature_override=signature, unsigned=unsigned
        )

    def retry_failed_webhooks(self) -> list[WebhookDelivery]:
        """One more attempt for every webhook whose last attempt PagerDuty would retry
        (timeout, connection error, 429, 5xx) and that has attempts left (5 in all)."""
        last: dict[tuple[str, str], WebhookDelivery] = {}
        for delivery in list(self._webhooks.deliveries):
            last[(delivery.event_id, delivery.subscription_id)] = delivery
        out: list[WebhookDelivery] = []
        for (event_id, sub_id), delivery in last.items():
            if delivery.retryable and delivery.attempt < MAX_ATTEMPTS:
                out += self._webhooks.redeliver(event_id, [sub_id])
        return out

    def wait_for_webhooks(self, timeout: float = 5.0) -> bool:
        """With ``async_webhooks=True``: True once everything queued has been delivered."""
        return self._webhooks.wait_idle(timeout)

    def _deliver(self) -> None:
        """Turns pending changes into v3 events (under the lock), then delivers them."""
        with self._lock:
            acct = self.account
            while acct.changes:
                change = acct.changes.popleft()
                inc = acct.incidents[change.incident_id]
                if change.responder is not None:
                    data = shapes.webhook_responder(acct, inc, change.responder)
                elif change.note is not None:
                    data = shapes.webhook_note(acct, inc, change.note)
                else:
                    data = shapes.webhook_incident(acct, inc)
                event_id = acct.ids.ulid()
                event = {
                    "id": event_id,
                    "event_type": change.event_type,
                    "resource_type": "incident",
                    "occurred_at": iso_ms(change.at or acct.clock.now()),
                    "agent": shapes.agent_ref(acct, change.agent),
                    "client": change.client,
                    "data": data,
                }
                body = json.dumps({"event": event}, separators=(",", ":"), ensure_ascii=False)
                self._webhooks.publish(
                    WebhookEvent(event_id, change.event_type, inc.id, inc.service_id, body.encode())
                )
        self._webhooks.drain()

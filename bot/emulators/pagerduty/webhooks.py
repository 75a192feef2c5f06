"""Webhooks v3, PagerDuty → the bot: subscriptions, signing, ordered delivery, redelivery.

Delivery is synchronous by default: the thread that changed an incident delivers the webhooks
before it answers (a REST request) or returns (a test helper). Re-entrant changes (the bot
calling the REST API while handling a webhook) are queued and delivered, in order, by the
thread already delivering, so nothing deadlocks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

USER_AGENT = "PagerDuty-Webhook/V3.0"
_NAMESPACE = uuid.UUID("5c1d7d0e-8a53-4c43-9b3e-4d9a2f6c0b7e")


def signature(secret: str, body: bytes) -> str:
    """PagerDuty's v1 webhook signature: ``v1=`` + hex HMAC-SHA256(secret, raw body)."""
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class Subscription:
    id: str
    url: str
    secrets: list[str]
    events: frozenset[str] | None = None  # None: every event type
    service_ids: frozenset[str] | None = None  # None: the whole account
    signature: str | None = None  # forced X-PagerDuty-Signature (forgery tests)
    unsigned: bool = False
    custom_headers: dict[str, str] = field(default_factory=dict)
    active: bool = True

    def wants(self, event_type: str, service_id: str) -> bool:
        return (
            self.active
            and (self.events is None or event_type in self.events)
            and (self.service_ids is None or service_id in self.service_ids)
        )


@dataclass
class WebhookEvent:
    """One outbound event (``{"event": {...}}``) and its exact bytes."""

    id: str
    event_type: str
    incident_id: str
    service_id: str
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


@dataclass
class WebhookDelivery:
    """One delivery attempt. ``status`` is 0 when there was no HTTP answer (``error`` says
    why: ``timeout`` or the connection error)."""

    event_id: str
    event_type: str
    incident_id: str
    subscription_id: str
    webhook_id: str
    url: str
    attempt: int
    body: bytes
    headers: dict[str, str]
    status: int
    response_body: str
    error: str | None
    time: float

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        """PagerDuty retries timeouts, connection errors, 429 and 5xx; it drops other 4xx."""
        return self.status == 0 or self.status == 429 or self.status >= 500

    @property
    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _post(
    url: str, body: bytes, headers: dict[str, str], timeout: float
) -> tuple[int, str, str | None]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8", "replace"), None
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace"), None
    except urllib.error.URLError as exc:
        timed_out = isinstance(exc.reason, TimeoutError)
        return 0, "", "timeout" if timed_out else f"connection_error: {exc.reason}"
    except TimeoutError:
        return 0, "", "timeout"
    except OSError as exc:
        return 0, "", f"connection_error: {exc}"


class Dispatcher:
    def __init__(self, *, timeout_s: float = 5.0, asynchronous: bool = False) -> None:
        self.timeout_s = timeout_s
        self.subscriptions: dict[str, Subscription] = {}
        self.events: dict[str, WebhookEvent] = {}
        self.deliveries: list[WebhookDelivery] = []
        self._queue: deque[tuple[WebhookEvent, str]] = deque()
        self._lock = threading.Lock()  # subscriptions, events, deliveries, queue
        self._delivering = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._busy = 0
        self._asynchronous = asynchronous
        self._wake = threading.Event()
        self._stopped = False
        self._worker: threading.Thread | None = None
        if asynchronous:
            self._worker = threading.Thread(target=self._work, name="pd-webhooks", daemon=True)
            self._worker.start()

    # --------------------------------------------------------------- config
    def subscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self.subscriptions[subscription.id] = subscription

    # -------------------------------------------------------------- enqueue
    def publish(self, event: WebhookEvent) -> None:
        with self._lock:
            self.events[event.id] = event
            for sub in self.subscriptions.values():
                if sub.wants(event.event_type, event.service_id):
                    self._queue.append((event, sub.id))

    def drain(self) -> None:
        """Delivers everything queued, in order (sync mode); returns at once when another
        thread is delivering (it will deliver what this one queued)."""
        if self._asynchronous:
            self._wake.set()
            return
        while True:
            if not self._delivering.acquire(blocking=False):
                return
            try:
                while (item := self._pop()) is not None:
                    self._send(*item)
            finally:
                self._delivering.release()
            with self._lock:
                if not self._queue:
                    return

    def _pop(self) -> tuple[WebhookEvent, str] | None:
        with self._lock:
            if not self._queue:
                return None
            self._busy += 1
            return self._queue.popleft()

    def _work(self) -> None:
        while not self._stopped:
            self._wake.wait(0.2)
            self._wake.clear()
            while (item := self._pop()) is not None:
                self._send(*item)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """True once nothing is queued or being delivered."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()
        if self._worker is not None:
            self._worker.join(timeout=5)

    # -------------------------------------------------------------- deliver
    def _headers(
        self,
        event: WebhookEvent,
        sub: Subscription,
        signature_override: str | None,
        unsigned: bool,
    ) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "X-Webhook-Id": str(uuid.uuid5(_NAMESPACE, f"{event.id}:{sub.id}")),
            "X-Webhook-Subscription": sub.id,
        }
        forced = signature_override or sub.signature
        if not (unsigned or sub.unsigned):
            signed = ",".join(signature(secret, event.body) for secret in sub.secrets)
            headers["X-PagerDuty-Signature"] = forced or signed
        headers.update(sub.custom_headers)
        return headers

    def _send(
        self,
        event: WebhookEvent,
        sub_id: str,
        *,
        signature_override: str | None = None,
        unsigned: bool = False,
        counted: bool = True,
    ) -> WebhookDelivery:
        try:
            with self._lock:
                sub = self.subscriptions[sub_id]
                attempt = 1 + sum(
                    1
                    for d in self.deliveries
                    if d.event_id == event.id and d.subscription_id == sub_id
                )
            headers = self._headers(event, sub, signature_override, unsigned)
            status, text, error = _post(sub.url, event.body, headers, self.timeout_s)
            delivery = WebhookDelivery(
                event.id,
                event.event_type,
                event.incident_id,
                sub.id,
                headers["X-Webhook-Id"],
                sub.url,
                attempt,
                event.body,
                headers,
                status,
                text,
                error,
                time.time(),
            )
            with self._lock:
                self.deliveries.append(delivery)
            return delivery
        finally:
            if counted:
                with self._idle:
                    self._busy -= 1
                    self._idle.notify_all()

    def redeliver(
        self,
        event_id: str,
        subscription_ids: Iterable[str] | None = None,
        *,
        signature_override: str | None = None,
        unsigned: bool = False,
    ) -> list[WebhookDelivery]:
        """Sends the event's identical bytes again (same ``X-Webhook-Id``), as PagerDuty's
        retries do, to every subscription it was delivered to (or ``subscription_ids``)."""
        with self._lock:
            event = self.events[event_id]
            if subscription_ids is None:
                targets = list(
                    dict.fromkeys(
                        d.subscription_id for d in self.deliveries if d.event_id == event_id
                    )
                )
            else:
                targets = list(subscription_ids)
        return [
            self._send(
                event, sid, signature_override=signature_override, unsigned=unsigned, counted=False
            )
            for sid in targets
        ]

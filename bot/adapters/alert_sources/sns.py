"""Amazon SNS over HTTPS: every message's signature verified, subscriptions confirmed only for
the topics the bot was told to take.

A message is believed only when all of this holds, checked in this order (the cheap refusals
first, so a stranger's message never makes the bot fetch anything):
1. its `TopicArn` is one of `SNS_TOPIC_ARNS` (else 403);
2. it is signed: `SignatureVersion` 1 (SHA1withRSA) or 2 (SHA256withRSA), a base64 `Signature`
   (else 401);
3. its `SigningCertURL` is `https://`, on a host matching `SNS_CERT_HOSTS` (default
   `sns.<region>.amazonaws.com`), a `.pem` path (else 403);
4. the certificate there (fetched over verified TLS — `SNS_CA_BUNDLE` or the system's trust —
   without following redirects, then cached) is current and holds the RSA key that signed the
   canonical string of the message (else 401).
A `SubscriptionConfirmation` is then confirmed by a GET of its `SubscribeURL`, which must itself
be `https://` on an allowed host: the bot never calls an address a message merely names.

The canonical string is `Key\\nValue\\n` for each signed field, in SNS's fixed order: for a
`Notification` Message, MessageId, Subject (only when present), Timestamp, TopicArn, Type; for a
`SubscriptionConfirmation` or `UnsubscribeConfirmation` Message, MessageId, SubscribeURL,
Timestamp, Token, TopicArn, Type."""

from __future__ import annotations

import base64
import binascii
import http.client
import re
import ssl
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pydantic import Field

from bot.adapters.alert_sources.common import Wire, validate

DEFAULT_CERT_HOSTS = ("sns.*.amazonaws.com", "sns.*.amazonaws.com.cn")
MAX_CERT = 64_000
TIMEOUT = 5.0
CACHED_CERTS = 32
NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}


class Refused(Exception):
    """The message is not believed (401: unsigned or a bad signature; 403: not ours to take)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Unreachable(Exception):
    """The certificate or the SubscribeURL could not be fetched (SNS will retry)."""


class SnsMessage(Wire):
    Type: Literal["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"]
    MessageId: str = Field(min_length=1, max_length=200)
    TopicArn: str = Field(min_length=1, max_length=1000)
    Message: str = Field(max_length=262_144)  # SNS caps a message at 256 KB
    Timestamp: str = Field(max_length=64)
    Subject: str | None = None
    SubscribeURL: str | None = Field(default=None, max_length=4000)
    Token: str | None = Field(default=None, max_length=4000)
    SignatureVersion: str = Field(default="", max_length=8)
    Signature: str = Field(default="", max_length=4000)
    SigningCertURL: str = Field(default="", max_length=2000)


def parse_message(payload: Any) -> SnsMessage:
    return validate(SnsMessage, payload)


def string_to_sign(message: SnsMessage) -> bytes:
    fields = NOTIFICATION_FIELDS if message.Type == "Notification" else CONFIRMATION_FIELDS
    values: Mapping[str, str | None] = message.model_dump()
    out = []
    for name in fields:
        value = values.get(name)
        if value is None:
            if name == "Subject":
                continue
            raise Refused(401, f"{message.Type} without {name}: not a signed SNS message")
        out.append(f"{name}\n{value}\n")
    return "".join(out).encode("utf-8")


def host_pattern(patterns: Iterable[str]) -> re.Pattern[str]:
    """`sns.*.amazonaws.com` → a host matcher where `*` is one DNS label."""
    parts = [
        r"[a-z0-9-]+".join(re.escape(piece) for piece in p.strip().lower().split("*"))
        for p in patterns
        if p.strip()
    ]
    return re.compile("|".join(f"(?:{p})" for p in parts) or r"(?!)")


@dataclass
class SnsGate:
    """Settings: the topics taken, the hosts certificates and confirmations may come from,
    and the CA bundle to trust when fetching them (None: the system's)."""

    topic_arns: frozenset[str]
    cert_hosts: tuple[str, ...] = DEFAULT_CERT_HOSTS
    ca_bundle: str | None = None

    def __post_init__(self) -> None:
        self._hosts = host_pattern(self.cert_hosts)
        self._certs: OrderedDict[str, rsa.RSAPublicKey] = OrderedDict()
        self._lock = threading.Lock()
        self._context: ssl.SSLContext | None = None

    @property
    def on(self) -> bool:
        return bool(self.topic_arns)

    # -- the checks ------------------------------------------------------------------------

    def screen(self, message: SnsMessage) -> None:
        """Refusals that need no network: topic, signature form, certificate address."""
        if message.TopicArn not in self.topic_arns:
            raise Refused(403, f"topic {message.TopicArn[:200]!r} is not in SNS_TOPIC_ARNS")
        if message.SignatureVersion not in _HASHES or not message.Signature:
            raise Refused(401, "unsigned: SignatureVersion 1 or 2 and a Signature are required")
        self.allowed_url(message.SigningCertURL, "SigningCertURL")
        if not urlsplit(message.SigningCertURL).path.endswith(".pem"):
            raise Refused(403, "SigningCertURL: not a .pem certificate")

    def allowed_url(self, url: str, what: str) -> None:
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            parts.port  # noqa: B018  (raises on a port that is not a number)
        except ValueError:
            raise Refused(403, f"{what}: not a URL") from None
        if parts.scheme != "https":
            raise Refused(403, f"{what}: only https:// is fetched, not {parts.scheme or '—'}")
        if parts.username or parts.password or not self._hosts.fullmatch(host):
            raise Refused(403, f"{what}: host {host[:100]!r} does not match SNS_CERT_HOSTS")

    def verify(self, message: SnsMessage) -> None:
        """Screen, then check the signature (fetching the certificate once per URL)."""
        self.screen(message)
        data = string_to_sign(message)
        try:
            signature = base64.b64decode(message.Signature, validate=True)
        except (binascii.Error, ValueError):
            raise Refused(401, "Signature is not base64") from None
        key = self.certificate_key(message.SigningCertURL)
        try:
            key.verify(signature, data, padding.PKCS1v15(), _HASHES[message.SignatureVersion]())
        except InvalidSignature:
            raise Refused(401, "the signature does not match the message") from None

    def certificate_key(self, url: str) -> rsa.RSAPublicKey:
        with self._lock:
            key = self._certs.get(url)
            if key is not None:
                self._certs.move_to_end(url)
                return key
        status, body = self.get(url, MAX_CERT)
        if status != 200:
            raise Refused(403, f"SigningCertURL answered {status}")
        try:
            cert = x509.load_pem_x509_certificate(body)
        except ValueError:
            raise Refused(403, "SigningCertURL: not a PEM certificate") from None
        now = datetime.now(UTC)
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise Refused(403, "the signing certificate is not currently valid")
        public = cert.public_key()
        if not isinstance(public, rsa.RSAPublicKey):
            raise Refused(403, "the signing certificate does not hold an RSA key")
        with self._lock:
            self._certs[url] = public
            while len(self._certs) > CACHED_CERTS:
                self._certs.popitem(last=False)
        return public

    def confirm(self, message: SnsMessage) -> None:
        """GET the SubscribeURL (an allowed https host) of a verified SubscriptionConfirmation."""
        url = message.SubscribeURL or ""
        self.allowed_url(url, "SubscribeURL")
        status, _ = self.get(url, 100_000)
        if status != 200:
            raise Unreachable(f"SubscribeURL answered {status}")

    # -- HTTPS -----------------------------------------------------------------------------

    def get(self, url: str, limit: int) -> tuple[int, bytes]:
        """One GET over verified TLS, no redirects followed, at most `limit` bytes read."""
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path = f"{path}?{parts.query}"
        connection = http.client.HTTPSConnection(
            parts.hostname or "", parts.port, timeout=TIMEOUT, context=self._ssl()
        )
        try:
            connection.request("GET", path, headers={"User-Agent": "incidentbot"})
            response = connection.getresponse()
            body = response.read(limit + 1)
        except (OSError, http.client.HTTPException) as exc:
            raise Unreachable(f"{parts.hostname}: {exc}") from exc
        finally:
            connection.close()
        if len(body) > limit:
            raise Refused(403, f"{parts.hostname} answered more than {limit} bytes")
        return response.status, body

    def _ssl(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = ssl.create_default_context(cafile=self.ca_bundle)
        return self._context


def gate_from(topic_arns: str, cert_hosts: str | None, ca_bundle: str | None) -> SnsGate:
    """From the settings' comma-separated values."""
    topics = frozenset(t.strip() for t in topic_arns.split(",") if t.strip())
    hosts = tuple(h.strip() for h in (cert_hosts or "").split(",") if h.strip())
    return SnsGate(topics, hosts or DEFAULT_CERT_HOSTS, ca_bundle)

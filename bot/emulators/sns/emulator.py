"""Amazon SNS, as far as an HTTPS subscriber sees it (stdlib, trustme and cryptography).

It serves, over TLS on loopback (a throw-away trustme CA; clients trust `ca_bundle`):
- its signing certificate at `cert_url` (`/SimpleNotificationService-<hash>.pem`, as SNS names it);
- `GET /?Action=ConfirmSubscription&TopicArn=…&Token=…`, the SubscribeURL a subscriber visits to
  confirm; each visit is recorded (`confirmations`) and answered with SNS's XML.
It builds `Notification`, `SubscriptionConfirmation` and `UnsubscribeConfirmation` messages
signed exactly like SNS: RSA PKCS#1 v1.5 over the canonical string of the message's fields with
SHA1 (SignatureVersion 1) or SHA256 (2), base64 — and posts them to an endpoint with SNS's headers
(`x-amz-sns-message-type`, `-message-id`, `-topic-arn`; `Content-Type: text/plain`)."""

from __future__ import annotations

import base64
import http.client
import json
import shutil
import ssl
import tempfile
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

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


@dataclass(frozen=True)
class Delivery:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


class SnsEmulator:
    def __init__(
        self, *, region: str = "us-east-1", account: str = "123456789012", host: str = "127.0.0.1"
    ) -> None:
        self.region, self.account, self.host = region, account, host
        self._ca = trustme.CA(organization_name="incidentbot SNS emulator")
        self._server_cert = self._ca.issue_cert("127.0.0.1", "localhost", "::1")
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.cert_pem = _self_signed(self._key)
        self._lock = threading.Lock()
        self.confirmations: list[dict[str, str]] = []
        self.cert_fetches = 0
        self._server: ThreadingHTTPServer | None = None
        self._dir = Path(tempfile.mkdtemp(prefix="sns-emulator-"))
        (self._dir / "ca.pem").write_bytes(self._ca.cert_pem.bytes())

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> SnsEmulator:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                emulator._get(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer((self.host, 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._server_cert.configure_cert(context)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True, name="sns-emulator").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> SnsEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        return f"https://{self.host}:{self._server.server_address[1]}"

    @property
    def ca_bundle(self) -> str:
        """A PEM file holding the CA that signed the emulator's TLS certificate."""
        return str(self._dir / "ca.pem")

    @property
    def cert_url(self) -> str:
        return f"{self.url}/SimpleNotificationService-{self._cert_hash()}.pem"

    def topic_arn(self, name: str) -> str:
        return f"arn:aws:sns:{self.region}:{self.account}:{name}"

    # -- messages --------------------------------------------------------------------------

    def notification(
        self,
        topic_arn: str,
        message: str,
        *,
        subject: str | None = None,
        version: int = 1,
        cert_url: str | None = None,
    ) -> dict[str, str]:
        body = {
            "Type": "Notification",
            "MessageId": str(uuid.uuid4()),
            "TopicArn": topic_arn,
            "Message": message,
            "Timestamp": _now(),
        }
        if subject is not None:
            body["Subject"] = subject
        body["UnsubscribeURL"] = (
            f"{self.url}/?Action=Unsubscribe&SubscriptionArn={quote(topic_arn)}:{uuid.uuid4()}"
        )
        return self.sign(body, version=version, cert_url=cert_url)

    def subscription_confirmation(
        self, topic_arn: str, *, version: int = 1, kind: str = "SubscriptionConfirmation"
    ) -> dict[str, str]:
        token = uuid.uuid4().hex * 4
        body = {
            "Type": kind,
            "MessageId": str(uuid.uuid4()),
            "Token": token,
            "TopicArn": topic_arn,
            "Message": (
                f"You have chosen to subscribe to the topic {topic_arn}.\n"
                "To confirm the subscription, visit the SubscribeURL included in this message."
            ),
            "SubscribeURL": (
                f"{self.url}/?Action=ConfirmSubscription&TopicArn={quote(topic_arn)}&Token={token}"
            ),
            "Timestamp": _now(),
        }
        return self.sign(body, version=version)

    def sign(
        self, body: dict[str, str], *, version: int = 1, cert_url: str | None = None
    ) -> dict[str, str]:
        fields = NOTIFICATION_FIELDS if body["Type"] == "Notification" else CONFIRMATION_FIELDS
        text = "".join(f"{name}\n{body[name]}\n" for name in fields if name in body)
        digest = hashes.SHA1() if version == 1 else hashes.SHA256()  # noqa: S303  (SNS v1 is SHA1)
        signature = self._key.sign(text.encode(), padding.PKCS1v15(), digest)
        return {
            **body,
            "SignatureVersion": str(version),
            "Signature": base64.b64encode(signature).decode(),
            "SigningCertURL": cert_url or self.cert_url,
        }

    def deliver(self, endpoint: str, message: dict[str, str]) -> Delivery:
        """POST the message to an HTTP(S) endpoint as SNS does."""
        parts = urlsplit(endpoint)
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        connection = cls(parts.hostname or "", parts.port, timeout=30)
        headers = {
            "Content-Type": "text/plain; charset=UTF-8",
            "User-Agent": "Amazon Simple Notification Service Agent",
            "x-amz-sns-message-type": message.get("Type", ""),
            "x-amz-sns-message-id": message.get("MessageId", ""),
            "x-amz-sns-topic-arn": message.get("TopicArn", ""),
        }
        try:
            connection.request(
                "POST", parts.path or "/", body=json.dumps(message).encode(), headers=headers
            )
            response = connection.getresponse()
            return Delivery(response.status, response.read().decode())
        finally:
            connection.close()

    # -- serving ---------------------------------------------------------------------------

    def _get(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == f"/SimpleNotificationService-{self._cert_hash()}.pem":
            with self._lock:
                self.cert_fetches += 1
            self._answer(request, 200, self.cert_pem, "application/x-x509-ca-cert")
        elif parts.path == "/" and query.get("Action") == "ConfirmSubscription":
            with self._lock:
                self.confirmations.append(query)
            arn = f"{query.get('TopicArn', '')}:{uuid.uuid4()}"
            xml = (
                '<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
                f"<ConfirmSubscriptionResult><SubscriptionArn>{arn}</SubscriptionArn>"
                "</ConfirmSubscriptionResult><ResponseMetadata><RequestId>"
                f"{uuid.uuid4()}</RequestId></ResponseMetadata></ConfirmSubscriptionResponse>"
            )
            self._answer(request, 200, xml.encode(), "text/xml")
        else:
            self._answer(request, 404, b"Not Found", "text/plain")

    @staticmethod
    def _answer(request: BaseHTTPRequestHandler, status: int, body: bytes, kind: str) -> None:
        request.send_response(status)
        request.send_header("Content-Type", kind)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def _cert_hash(self) -> str:
        return hashes_hex(self.cert_pem)[:32]


def hashes_hex(data: bytes) -> str:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize().hex()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _self_signed(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)

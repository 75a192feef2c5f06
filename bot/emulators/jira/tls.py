"""TLS for the emulator: a throw-away CA (trustme) and a server certificate for loopback.

Jira sites speak HTTPS; clients trust the emulator through ``ca_bundle`` (a PEM file: the
``jira`` client's ``options={"verify": path}`` and ``requests`` need a path) or an
``ssl.SSLContext`` built from it (``httpx``, ``urllib``).
"""

from __future__ import annotations

import shutil
import ssl
import tempfile
from collections.abc import Iterable
from pathlib import Path

import trustme


class Tls:
    def __init__(self, hosts: Iterable[str]) -> None:
        names = ["127.0.0.1", "localhost", "::1"]
        names += [h for h in hosts if h and h not in names and h not in ("0.0.0.0", "::")]
        self._ca = trustme.CA(organization_name="incidentbot Jira emulator")
        self._cert = self._ca.issue_cert(*names)
        self.ca_pem = self._ca.cert_pem.bytes().decode()
        self._dir: Path | None = None

    @property
    def ca_bundle(self) -> str:
        """Path of a PEM file holding the CA certificate (written on first use)."""
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="jira-emulator-"))
            (self._dir / "ca.pem").write_text(self.ca_pem)
        return str(self._dir / "ca.pem")

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._cert.configure_cert(context)
        return context

    def client_context(self) -> ssl.SSLContext:
        """An ``ssl.SSLContext`` trusting only the emulator's CA."""
        context = ssl.create_default_context()
        self._ca.configure_trust(context)
        return context

    def cleanup(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

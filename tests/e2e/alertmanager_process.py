"""A real Prometheus Alertmanager on loopback, for the end-to-end tests: started from a config
dict with a temporary storage path, clustering off, a free port, and always stopped.

Its log (stderr and stdout, to a file so a chatty process can never block on a full pipe) is kept
for failure messages: `logs()`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

BINARIES = ("prometheus-alertmanager", "alertmanager")  # Debian's name, then upstream's
REQUIRE_ENV = "INCIDENTBOT_REQUIRE_ALERTMANAGER"
START_ATTEMPTS = 3  # a free port can be taken between our look and Alertmanager's bind


def find_binary() -> str | None:
    for name in BINARIES:
        found = shutil.which(name)
        if found:
            return found
    return None


def required() -> bool:
    """CI sets INCIDENTBOT_REQUIRE_ALERTMANAGER=1: then a missing binary fails, not skips."""
    return os.environ.get(REQUIRE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AlertmanagerError(RuntimeError):
    pass


class Alertmanager:
    def __init__(
        self, binary: str, config: dict[str, Any], workdir: Path, *, ready_timeout: float = 15.0
    ) -> None:
        self.binary = binary
        self.config = config
        self.workdir = workdir
        self.ready_timeout = ready_timeout
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None
        self._log = workdir / "alertmanager.log"

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Alertmanager:
        self.workdir.mkdir(parents=True, exist_ok=True)
        config_file = self.workdir / "alertmanager.yml"
        config_file.write_text(yaml.safe_dump(self.config, sort_keys=False), encoding="utf-8")
        for attempt in range(1, START_ATTEMPTS + 1):
            port = free_port()
            self.url = f"http://127.0.0.1:{port}"
            storage = self.workdir / f"data-{attempt}"
            with self._log.open("ab") as log:
                log.write(f"--- start attempt {attempt} on {self.url} ---\n".encode())
                log.flush()
                self._process = subprocess.Popen(
                    [
                        self.binary,
                        f"--config.file={config_file}",
                        f"--storage.path={storage}",
                        f"--web.listen-address=127.0.0.1:{port}",
                        f"--web.external-url={self.url}",
                        "--cluster.listen-address=",  # empty: no gossip, no second port
                        "--log.level=debug",  # every flush and delivery, for failure messages
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            if self._wait_ready():
                return self
            exited = self._process.poll() is not None
            self.stop()
            if not (exited and "address already in use" in self.logs()):
                break
        raise AlertmanagerError(f"Alertmanager did not become ready:\n{self.logs()}")

    def _wait_ready(self) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def __enter__(self) -> Alertmanager:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def logs(self) -> str:
        try:
            return self._log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return "(no log)"

    # -- API -------------------------------------------------------------------------------------

    def post_alerts(self, alerts: Iterable[dict[str, Any]]) -> None:
        """API v2: what Prometheus does on each evaluation; `endsAt` in the past resolves."""
        response = httpx.post(f"{self.url}/api/v2/alerts", json=list(alerts), timeout=10)
        if response.status_code != 200:
            raise AlertmanagerError(
                f"POST /api/v2/alerts: {response.status_code} {response.text}\n{self.logs()}"
            )

    def alerts(self) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/api/v2/alerts", timeout=10)
        response.raise_for_status()
        return list(response.json())

    def metric(self, name: str, **labels: str) -> float:
        """The sum of the samples of `name` (a counter's name without `_total` works too) whose
        labels include `labels`."""
        return metric(httpx.get(f"{self.url}/metrics", timeout=10).text, name, **labels)


def metric(exposition: str, name: str, **labels: str) -> float:
    """Sum the samples called `name` (or `name_total`) carrying `labels`, in Prometheus text."""
    names = {name, f"{name}_total"}
    return sum(
        sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name in names and labels.items() <= sample.labels.items()
    )

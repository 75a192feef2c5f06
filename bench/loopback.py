"""Shared by the benchmarks: free ports, raw HTTP/1.1 requests timed from write to full answer
(no client library in the measurement), and percentiles."""

from __future__ import annotations

import asyncio
import socket
import statistics
import subprocess
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(port: int, proc: subprocess.Popen[bytes], seconds: float, where: str) -> None:
    """Until the bot on `port` answers /healthz; RuntimeError naming `where` to look if it died
    or is still silent after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"the bot did not start; see {where}") from None
            time.sleep(0.2)


def request_bytes(
    port: int, path: str, body: bytes, headers: dict[str, str], *, keep_alive: bool = False
) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Content-Length: {len(body)}",
        "Connection: keep-alive" if keep_alive else "Connection: close",
    ]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def timed(port: int, request: bytes, go: asyncio.Event | None = None) -> tuple[int, float]:
    """Connect, wait for `go` if given, then time write → complete response. (status, ms)"""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    if go is not None:
        await go.wait()
    status, elapsed = await timed_on(reader, writer, request)
    writer.close()
    return status, elapsed


async def timed_on(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, float]:
    """On an open connection (kept alive): time write → complete response. (status, ms)"""
    began = time.perf_counter()
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lengths = [
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    ]
    await reader.readexactly(lengths[0] if lengths else 0)
    elapsed = (time.perf_counter() - began) * 1000
    return int(head.split(b" ", 2)[1]), elapsed


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]

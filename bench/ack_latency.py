"""How fast does `/incident` get its ack under load, compared with a bare Bolt app?

Three processes on loopback: the Slack emulator (serving the Web API the bot calls), the app
under test (`incidentbot serve`, or a bare Bolt app hosted the same way), and this client. The
client sends Slack-signed `/incident declare` slash commands, 50 at a time, from one asyncio loop,
and times each HTTP answer. The bot does the real work after each ack (incident row, channel,
card, topic, announcement), so its acks compete with that work, as in production; the bare app
only acks. Rounds alternate between the two apps so drift on the machine hits both alike.
Target: bot p99 ≤ 2 × bare Bolt p99, and < 100 ms.

    .venv/bin/python bench/ack_latency.py [--rounds 10] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from loopback import free_port, pct, request_bytes, timed

from bot.emulators.slack import sign

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-signing-secret"
TEXT = "declare sev3 Bench incident {n}"
TOKEN = "xoxb-bench"
# The emulator's seeded workspace: alice, bob, carol in #general.
TEAM, GENERAL, USERS = "T000000001", "C000000001", ["U000000002", "U000000003", "U000000004"]


def wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: server exited with {proc.returncode}")
        try:
            httpx.post(url, content=b"", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def slash_command(emulator: str, n: int, text: str) -> tuple[bytes, dict[str, str]]:
    fields = {
        "token": "bench",
        "team_id": TEAM,
        "team_domain": "bench",
        "channel_id": GENERAL,
        "channel_name": "general",
        "user_id": USERS[n % len(USERS)],
        "user_name": "bench",
        "command": "/incident",
        "text": text,
        "api_app_id": "A000000001",
        "is_enterprise_install": "false",
        "response_url": f"{emulator}/response/bench-{n}",
        "trigger_id": f"{n}.{secrets.token_hex(8)}",
    }
    body = urlencode(fields).encode()
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": sign(SECRET, ts, body),
    }
    return body, headers


async def one(port: int, path: str, request: bytes, go: asyncio.Event) -> float:
    status, elapsed = await timed(port, request, go)
    if status != 200:
        raise RuntimeError(f"{path} answered {status}")
    return elapsed


async def burst(url: str, emulator: str, start: int, concurrency: int, text: str) -> list[float]:
    parsed = httpx.URL(url)
    port = parsed.port or 80
    requests = []
    for n in range(start, start + concurrency):  # built and signed before the clock starts
        body, headers = slash_command(emulator, n, text.format(n=n))
        requests.append(request_bytes(port, parsed.path, body, headers))
    go = asyncio.Event()
    tasks = [asyncio.create_task(one(port, parsed.path, r, go)) for r in requests]
    await asyncio.sleep(0.2)  # every connection is open
    go.set()
    return list(await asyncio.gather(*tasks))


async def measure(
    urls: dict[str, str], emulator: str, args: argparse.Namespace
) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {name: [] for name in urls}
    n = 0
    for round_no in range(args.rounds + 1):  # round 0 warms up: imports, pools, first auth.test
        for name, url in urls.items():
            latencies = await burst(url, emulator, n, args.concurrency, args.text)
            n += args.concurrency
            if round_no:
                results[name] += latencies
            await asyncio.sleep(args.gap)  # the bot gets on with the work those acks started
    return results


def work_done(path: str) -> tuple[int, int]:
    """What the bot really did behind its acks: incidents stored, channels made."""
    with sqlite3.connect(path) as db:
        incidents = db.execute("SELECT count(*) FROM incident").fetchone()[0]
        channels = db.execute("SELECT count(*) FROM incident WHERE card_ts IS NOT NULL").fetchone()[
            0
        ]
    return int(incidents), int(channels)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between bursts")
    parser.add_argument("--text", default=TEXT, help="the /incident text; {n} numbers the request")
    parser.add_argument(
        "--worst", action="store_true", help="print the slowest requests (round, index, ms)"
    )
    args = parser.parse_args()

    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            emu_port = free_port()
            emulator = f"http://127.0.0.1:{emu_port}"
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "bot.emulators.slack",
                        "--port",
                        str(emu_port),
                        "--signing-secret",
                        SECRET,
                        "--bot-token",
                        TOKEN,
                    ],
                    stdout=subprocess.DEVNULL,
                )
            )
            env = {
                **os.environ,
                "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
                "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": f"{emulator}/api/",
                "SLACK_INCIDENTS_CHANNEL": "general",
                "LOG_LEVEL": "WARNING",
            }
            subprocess.run(
                [sys.executable, "-m", "bot", "db", "upgrade"],
                env=env,
                check=True,
                capture_output=True,
            )
            urls = {}
            for name, cmd in (
                ("bare Bolt", [sys.executable, str(ROOT / "bench" / "bare_bolt.py")]),
                (
                    "incidentbot",
                    [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port"],
                ),
            ):
                port = free_port()
                procs.append(subprocess.Popen([*cmd, str(port)], env=env, cwd=tmp))
                urls[name] = f"http://127.0.0.1:{port}/slack/events"
                wait_up(urls[name], procs[-1])
            results = asyncio.run(measure(urls, emulator, args))
            time.sleep(args.gap * 4)
            declared, channels = work_done(f"{tmp}/bench.db")
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=10)

    print(
        f"/incident declare acks: {args.concurrency} concurrent signed requests × {args.rounds} rounds per app"
    )
    print(f"{'':12} {'n':>5} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in results.items():
        print(
            f"{name:12} {len(values):5d} {pct(values, 50):8.1f} {pct(values, 90):8.1f} {pct(values, 99):8.1f} {max(values):8.1f}"
        )
    bot, bare = results["incidentbot"], results["bare Bolt"]
    print(
        f"behind its acks the bot declared {declared} incidents; {channels} have their channel and card so far"
    )
    if args.worst:
        for name, values in results.items():
            worst = sorted(range(len(values)), key=values.__getitem__)[-8:]
            print(
                name,
                [(i // args.concurrency, i % args.concurrency, round(values[i])) for i in worst],
            )
    ratio = pct(bot, 99) / pct(bare, 99)
    verdict = "meets" if ratio <= 2 and pct(bot, 99) < 100 else "MISSES"
    print(
        f"p99 ratio bot / bare Bolt: {ratio:.2f} (target ≤ 2.00 and bot p99 < 100 ms): {verdict} the target"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

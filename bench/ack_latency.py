"""How fast does `/incident` get its ack under load, compared with a bare Bolt app?

Both run as real `serve`-like processes on loopback; the Slack emulator (in this process) sends
the same signed slash commands, 50 at a time, and times each HTTP answer. The bot does the real
work after each ack (declare → channel, card, topic, announcement against the emulator), so its
acks compete with that work, as in production. Target: bot p99 ≤ 2 × bare Bolt p99, and < 100 ms.

    .venv/bin/python bench/ack_latency.py [--rounds 6] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bot.emulators.slack import SlackEmulator

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            httpx.post(url, content=b"", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def run(
    emulator: SlackEmulator,
    url: str,
    users: list[str],
    channel: str,
    text: str,
    rounds: int,
    concurrency: int,
) -> list[float]:
    emulator.bot_url = url
    latencies: list[float] = []
    lock = threading.Lock()
    for round_no in range(rounds + 1):  # round 0 warms up (imports, first auth.test, pools)
        barrier = threading.Barrier(concurrency)

        def one(i: int, barrier: threading.Barrier, round_no: int) -> None:
            barrier.wait()
            start = time.perf_counter()
            reply = emulator.send_command(users[i % len(users)], channel, f"{text} {round_no}-{i}")
            elapsed = time.perf_counter() - start
            if reply.status != 200:
                raise RuntimeError(f"{url} answered {reply.status}: {reply.body[:200]}")
            if round_no:
                with lock:
                    latencies.append(elapsed * 1000)

        threads = [
            threading.Thread(target=one, args=(i, barrier, round_no)) for i in range(concurrency)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        time.sleep(0.5)  # let the bot finish the work those acks started before the next burst
    return latencies


def p(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]
        if len(values) > 1
        else values[0]
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()

    with SlackEmulator() as emulator, tempfile.TemporaryDirectory() as tmp:
        feed = emulator.add_channel("incidents")
        users = [emulator.user_id(n) for n in ("alice", "bob", "carol")]
        general = emulator.channel_by_name("general")["id"]  # type: ignore[index]
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp}/bench.db",
            "SLACK_BOT_TOKEN": emulator.bot_token,
            "SLACK_SIGNING_SECRET": emulator.signing_secret,
            "SLACK_API_URL": emulator.api_url,
            "SLACK_INCIDENTS_CHANNEL": feed,
            "LOG_LEVEL": "WARNING",
        }
        incidentbot = [sys.executable, "-m", "bot"]
        subprocess.run([*incidentbot, "db", "upgrade"], env=env, check=True, capture_output=True)
        results = {}
        for name, cmd in (
            ("bare Bolt", [sys.executable, str(ROOT / "bench" / "bare_bolt.py")]),
            ("incidentbot", [*incidentbot, "serve", "--host", "127.0.0.1", "--port"]),
        ):
            port = free_port()
            proc = subprocess.Popen([*cmd, str(port)], env=env, cwd=tmp)
            try:
                url = f"http://127.0.0.1:{port}/slack/events"
                wait_up(url, proc)
                results[name] = run(
                    emulator,
                    url,
                    users,
                    general,
                    "declare sev3 Bench",
                    args.rounds,
                    args.concurrency,
                )
            finally:
                proc.terminate()
                proc.wait(timeout=10)

    print(
        f"/incident declare acks, {args.concurrency} concurrent signed requests × {args.rounds} rounds"
    )
    print(f"{'':12} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in results.items():
        print(
            f"{name:12} {len(values):5d} {p(values, 50):8.1f} {p(values, 99):8.1f} {max(values):8.1f}"
        )
    bot, bare = results["incidentbot"], results["bare Bolt"]
    ratio = p(bot, 99) / p(bare, 99)
    verdict = "meets" if ratio <= 2 and p(bot, 99) < 100 else "MISSES"
    print(
        f"ratio p99 bot / bare Bolt: {ratio:.2f} (target ≤ 2.00, and bot p99 < 100 ms): {verdict} the target"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

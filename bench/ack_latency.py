"""How fast does `/incident` get its ack under load, compared with bare Bolt apps?

Processes on loopback: the Slack emulator (serving the Web API the bot calls), three apps under
test and this client. The apps:

- incidentbot       `incidentbot serve` (a black box over HTTP), on SQLite or PostgreSQL;
- bare AsyncApp     the fastest bare Bolt host: `AsyncApp` + Bolt's async Starlette handler
                    under uvicorn (bench/bare_async_bolt.py), only acks;
- bare threadpool   a sync Bolt `App` dispatched in Starlette's thread pool under uvicorn, the
                    way the bot hosts Bolt (bench/bare_bolt.py), only acks.

The client sends Slack-signed `/incident declare` slash commands, 50 at a time, from one asyncio
loop, and times each HTTP answer (write → full response, raw sockets). The bot does the real work
after each ack (incident row, channel, card, topic, announcement), so its acks compete with that
work, as in production; the bare apps only ack. Rounds alternate between the apps, in a rotating
order, so drift on the machine hits all alike. Round 0 warms up and is not counted. While the
bare apps answer, the bot is paused (SIGSTOP, once the work behind its last burst has quietened
or --settle seconds have passed): otherwise that work, on the same cores, slows the baselines
and flatters the ratios. Its own acks still compete with whatever work is left.
Targets: bot p99 ≤ 1.3 × bare AsyncApp p99, and < 100 ms; on SQLite and on PostgreSQL.

    .venv/bin/python bench/ack_latency.py [--db sqlite|postgres|both] [--pg-db bench]
        [--rounds 10] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time

import bench_db
import httpx
from loopback import free_port, pct, request_bytes, timed
from processes import bot_env, command_fields, cpu_seconds, slash_command, start, stop, upgrade

SECRET = "bench-signing-secret"
TEXT = "declare sev3 Bench incident {n}"
TOKEN = "xoxb-bench"
# The emulator's seeded workspace: alice, bob, carol in #general.
TEAM, GENERAL, USERS = "T000000001", "C000000001", ["U000000002", "U000000003", "U000000004"]
APPS = ("bare AsyncApp", "bare threadpool", "incidentbot")
RATIO_TARGET, P99_TARGET_MS = 1.3, 100.0


async def one(port: int, path: str, request: bytes, go: asyncio.Event) -> float:
    status, elapsed = await timed(port, request, go)
    if status != 200:
        raise RuntimeError(f"{path} answered {status}")
    return elapsed


async def burst(url: str, emulator: str, start_n: int, concurrency: int, text: str) -> list[float]:
    parsed = httpx.URL(url)
    port = parsed.port or 80
    requests = []
    for n in range(start_n, start_n + concurrency):  # built and signed before the clock starts
        fields = command_fields(
            team=TEAM,
            channel=GENERAL,
            user=USERS[n % len(USERS)],
            text=text.format(n=n),
            response_url=f"{emulator}/response/bench-{n}",
            trigger_id=f"{n}.{secrets.token_hex(8)}",
        )
        body, headers = slash_command(SECRET, fields)
        requests.append(request_bytes(port, parsed.path, body, headers))
    go = asyncio.Event()
    tasks = [asyncio.create_task(one(port, parsed.path, r, go)) for r in requests]
    await asyncio.sleep(0.2)  # every connection is open
    go.set()
    return list(await asyncio.gather(*tasks))


async def settle(pid: int, most: float) -> None:
    """Until process `pid` uses under 10% of a core over 100 ms, or `most` seconds have passed."""
    deadline = time.monotonic() + most
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        await asyncio.sleep(0.1)
        if cpu_seconds(pid) - before < 0.01:
            return


async def measure(
    urls: dict[str, str], bot_pid: int, emulator: str, args: argparse.Namespace
) -> dict[str, list[float]]:
    """Rounds of one burst per app. Unless --no-pause, the bot is stopped (SIGSTOP) while the
    bare apps answer, once its own work has quietened (at most --settle s): the work behind its
    acks would otherwise slow the baselines down, and flatter the ratios."""
    results: dict[str, list[float]] = {name: [] for name in urls}
    names = list(urls)
    n = 0
    for round_no in range(args.rounds + 1):  # round 0 warms up: imports, pools, first auth.test
        shift = round_no % len(names)
        for name in names[shift:] + names[:shift]:
            if not args.no_pause:
                os.kill(bot_pid, signal.SIGCONT if name == "incidentbot" else signal.SIGSTOP)
            latencies = await burst(urls[name], emulator, n, args.concurrency, args.text)
            n += args.concurrency
            if round_no:
                results[name] += latencies
            await asyncio.sleep(args.gap)  # the bot gets on with the work those acks started
            if name == "incidentbot" and not args.no_pause:
                await settle(bot_pid, args.settle)
    os.kill(bot_pid, signal.SIGCONT)
    return results


def run(kind: str, args: argparse.Namespace) -> tuple[dict[str, list[float]], int, int]:
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory() as tmp:
        database_url = bench_db.fresh(kind, tmp, args.pg_db)
        try:
            emu_port = free_port()
            emulator = f"http://127.0.0.1:{emu_port}"
            procs.append(
                subprocess.Popen(
                    [
                        *(sys.executable, "-m", "bot.emulators.slack"),
                        *("--port", str(emu_port), "--signing-secret", SECRET),
                        *("--bot-token", TOKEN),
                    ],
                    stdout=subprocess.DEVNULL,
                )
            )
            env = bot_env(database_url, f"{emulator}/api/", TOKEN, SECRET, "general")
            env["LOG_LEVEL"] = "ERROR"  # a paused bot's scheduler warns of missed runs
            upgrade(env)
            urls, pids = {}, {}
            for name in APPS:
                proc, urls[name] = start(name, env, tmp)
                procs.append(proc)
                pids[name] = proc.pid
            results = asyncio.run(measure(urls, pids["incidentbot"], emulator, args))
            time.sleep(args.gap * 4)
            declared = bench_db.count(database_url, "SELECT count(*) FROM incident")
            channels = bench_db.count(
                database_url, "SELECT count(*) FROM incident WHERE card_message_id IS NOT NULL"
            )
        finally:
            stop(procs)
    return results, declared, channels


def report(kind: str, results: dict[str, list[float]], declared: int, channels: int) -> str:
    row = "{:16} {:>5} {:>8} {:>8} {:>8} {:>8}"
    print(f"\n== {kind}: bot on {kind}; bare apps keep no database")
    print(row.format("", "n", "p50 ms", "p90 ms", "p99 ms", "max ms"))
    for name, v in results.items():
        print(
            row.format(
                name,
                len(v),
                *(f"{x:.1f}" for x in (pct(v, 50), pct(v, 90), pct(v, 99), max(v))),
            )
        )
    print(
        f"behind its acks the bot declared {declared} incidents; {channels} have their card so far"
    )
    bot = pct(results["incidentbot"], 99)
    to_async = bot / pct(results["bare AsyncApp"], 99)
    to_pool = bot / pct(results["bare threadpool"], 99)
    met = to_async <= RATIO_TARGET and bot < P99_TARGET_MS
    print(f"bot p99 / bare AsyncApp p99    {to_async:.2f}  (target ≤ {RATIO_TARGET})")
    print(f"bot p99 / bare threadpool p99  {to_pool:.2f}")
    print(f"bot p99                        {bot:.1f} ms  (target < {P99_TARGET_MS:.0f} ms)")
    verdict = "meets" if met else "MISSES"
    print(f"{kind}: {verdict} the target")
    return f"{kind:9} bot p99 {bot:6.1f} ms  ×{to_async:.2f} AsyncApp  ×{to_pool:.2f} threadpool  {verdict}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    bench_db.add_arguments(parser, default="both")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--gap", type=float, default=0.5, help="seconds between bursts")
    parser.add_argument(
        "--settle", type=float, default=3.0, help="most seconds to let the bot's work quieten"
    )
    parser.add_argument(
        "--no-pause",
        action="store_true",
        help="leave the bot running while the bare apps answer (its work then slows them)",
    )
    parser.add_argument("--text", default=TEXT, help="the /incident text; {n} numbers the request")
    parser.add_argument(
        "--worst", action="store_true", help="print the slowest requests (round, index, ms)"
    )
    args = parser.parse_args()

    print(
        f"/incident declare acks: {args.concurrency} concurrent signed requests × {args.rounds}"
        f" rounds per app, apps alternating; load average {os.getloadavg()[0]:.2f} on"
        f" {os.cpu_count()} cores (a shared machine inflates and scatters these figures)"
    )
    summary = []
    for kind in bench_db.kinds(args.db):
        results, declared, channels = run(kind, args)
        summary.append(report(kind, results, declared, channels))
        if args.worst:
            for name, v in results.items():
                worst = sorted(range(len(v)), key=v.__getitem__)[-8:]
                c = args.concurrency
                print(name, [(1 + i // c, i % c, round(v[i])) for i in worst])
    print("\n" + "\n".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())

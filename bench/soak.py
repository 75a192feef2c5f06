"""Soak: half an hour of incident response compressed into a few minutes, on a scripted clock.

The bot runs in processes of its own, started through `bench/soak_bot.py` (the CLI's `serve`
and `scheduler` code paths with a clock this driver moves; see its docstring for what differs
from production): on SQLite `serve` with its in-process scheduler (the single-process set-up),
on PostgreSQL `serve` plus a separate `scheduler` (leader lock, timers every second, outbox
sweep every 5 s) — `--scheduler` picks either. The web process's RSS is sampled on its own.
The Slack, PagerDuty and Jira emulators run in this process with random faults on 5% of the
bot's calls (`--fault-rate`): Slack 429 + Retry-After, 5xx and timeouts; PagerDuty 5xx, 429 and
timeouts; Jira 503, 429 and timeouts. A timeout does the work and loses the answer, as a slow
server does. Timers run at a third of their shipped cadence (catalog reminders, re-page, the
playbooks' due times) so that they come due within each incident's compressed life.

The script, on the scripted clock (incidents open over the first 15 minutes, live 11):
  * incidents: 90% opened by Alertmanager groups (the alerts shared among them; each group is
    re-sent whole as it grows, once repeated unchanged, then partly and, for two groups in
    three, fully resolved), 10% declared with `/incident declare`; every 15th group is a SEV1
    error-rate incident nobody updates (its reminders and playbook steps run on their own);
  * signed Slack requests from the emulator's users: slash commands (ack, note, status,
    severity, roles, follow-up, resolve, close), clicks on the card's and the checklists'
    buttons, 📌 reactions; most incidents end resolved, many closed (Jira export, archive);
  * a few acknowledgements by the on-call in PagerDuty (its webhooks come back to the bot).
The clock runs at 30 min / `--seconds` and waits when the people fall behind their script or
when the bot has more than `--max-backlog` effects it could deliver now; past 70% of the budget
no new incident starts, at its end the rest of the script is dropped and the scale reached is
printed. Then the faults stop and the outbox is drained: the clock stands still and jumps past
each backoff until nothing is pending and the web process is idle.

The audit compares what the database says should exist with what the emulators hold. Lost:
effects still pending after the drain or given up (with or without a notice in the channel),
and done effects missing — channel, card, card refresh, announcement, lines, checklists,
mitigation proposals, DMs, pinned texts, archives, PagerDuty incidents, acks and resolves, Jira
issues — timers due but never fired, notes acknowledged but never on the timeline. Duplicates:
channels per incident, cards, announcements, lines, checklists, proposals, reminders per
timer, PagerDuty incidents per key (and ones no page asked for), Jira issues per label; each
with its cause where the records tell (a lost answer retried, or a lease that ran out). It
prints p50/p99 of the Slack requests' and the alert webhooks' acks as the client saw them, how
late the timeline and the timers run, the web process's RSS (target < 150 MB; after the first
third of the main phase against the end, and samples between), CPU, throughput and wall time.
Exit status 1 when anything was lost or doubled.

Modules: soak_run (set-up, main phase, drain), soak_script (the script, faults, timers at a
third), soak_people (the people's requests), soak_measure (constants, latencies, RSS, the
background watch), soak_audit + soak_audit_more, soak_report; soak_bot (the bot's processes
and the shared scripted clock).

The default is the issue's scale, 200 incidents / 20,000 alerts / 5,000 Slack requests, at the
pace of 30 scripted minutes in `--seconds` (180) of wall time. On this 2-core machine the bot
does not keep that pace, so the clock waits for it and the main phase takes longer; `--budget`
(480 s) caps it: past 70% of it no new incident starts, at its end the rest of the script is
dropped, and the report says so ("NOT the full scale") with the scale reached.
`--no-timeouts` takes the timeouts (lost answers) out of the fault mix.

    .venv/bin/python bench/soak.py [--db sqlite|postgres] [--incidents 200] [--alerts 20000]
        [--interactions 5000] [--fault-rate 0.05] [--no-timeouts] [--seconds 180]
        [--budget 480] [--seed 7] [--scheduler separate|in-process] [--profile]
        [--trace-memory] [--malloc-arenas N]

PostgreSQL: its own database (INCIDENTBOT_SOAK_POSTGRES, default
postgresql+psycopg://postgres@127.0.0.1:5432/incidentbot_soak), emptied first. The logs, the
SQLite database and the bot's playbooks and catalog stay in the temporary folder printed last.
"""

from __future__ import annotations

import argparse
import sys
import time

from soak_audit import audit
from soak_report import report
from soak_run import Soak


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--alerts", type=int, default=20_000, help="distinct alerts")
    parser.add_argument("--interactions", type=int, default=5_000, help="Slack requests")
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument(
        "--no-timeouts",
        action="store_true",
        help="no timeouts (lost answers) among the faults: only 429s and 5xx",
    )
    parser.add_argument(
        "--seconds", type=float, default=180.0, help="wall seconds for the scripted 30 minutes"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=480.0,
        help="wall seconds at most for the main phase (the clock waits when the bot is behind)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=12, help="client threads")
    parser.add_argument(
        "--scheduler",
        choices=["separate", "in-process"],
        help="the scheduler as its own process (default on PostgreSQL) or inside serve "
        "(default on SQLite, the single-process set-up)",
    )
    parser.add_argument(
        "--drain", type=float, default=300.0, help="wall seconds at most (it ends when idle)"
    )
    parser.add_argument(
        "--trace-memory",
        action="store_true",
        help="tracemalloc in the web process; what grew is written to bot.log (slower)",
    )
    parser.add_argument(
        "--malloc-arenas",
        type=int,
        help="MALLOC_ARENA_MAX for the bot's processes (glibc's default: 8 per CPU)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="sample the web process's threads; where they spent the run goes to bot.log",
    )
    parser.add_argument(
        "--max-backlog",
        type=int,
        default=150,
        help="due effects above which the scripted clock waits for the bot",
    )
    args = parser.parse_args()
    args.scheduler = args.scheduler or ("separate" if args.db == "postgres" else "in-process")
    began = time.monotonic()
    soak = Soak(args)
    soak.start()
    try:
        soak.run()
        soak.drain()
    finally:
        soak.stop()
    result = audit(soak)
    report(soak, result, time.monotonic() - began)
    print(f"\nlogs and database: {soak.tmp}")
    return 1 if result.lost or result.dup else 0


if __name__ == "__main__":
    sys.exit(main())

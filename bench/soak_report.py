"""The soak's printout: scale reached, lost and duplicate effects, ack latencies, RSS samples and
trend, CPU and throughput."""

from __future__ import annotations

import os
import statistics
from typing import Any

from loopback import pct


def report(soak: Any, result: Any, wall: float) -> None:
    args, lat = soak.args, soak.lat
    slack_ms = lat.all_slack()
    share = min(args.incidents / 200, args.alerts / 20_000, args.interactions / 5_000)
    print(
        f"\n== soak on {args.db} ({args.scheduler} scheduler): {args.incidents} incidents, "
        f"{args.alerts} alerts, {args.interactions} Slack requests planned ({share:.0%} of the "
        f"issue's 200 / 20,000 / 5,000), faults {args.fault_rate:.0%}"
        f"{' (no timeouts)' if args.no_timeouts else ''}, seed {args.seed}"
    )
    done = sum(len(v) for v in lat.slack.values())
    full = not soak.cut and not soak.unfinished
    print(
        f"scale reached             {'FULL: ' if full else ''}{soak.started} of {args.incidents} "
        f"incidents, {sum(soak.distinct.values())} of {args.alerts} alerts "
        f"({soak.counts['alerts sent']} sent in {soak.counts['alert deliveries']} deliveries), "
        f"{done} of {args.interactions} Slack requests"
        + (
            ""
            if full
            else f"\n                          NOT the full scale: the --budget {args.budget:.0f} s "
            f"ran out ({soak.cut} incidents never started, {soak.dropped} steps of those under way "
            "dropped); a larger --budget goes further"
        )
    )
    scale = "full scale" if full else "cut to the budget"
    print(
        f"scripted time             {soak.scripted_minutes:.1f} min in {soak.main_wall:.0f} s "
        f"(×{soak.rate:.0f}; clock held {soak.held:.0f} s for the load) — {scale}"
    )
    print(
        f"drain                     {soak.drain_wall:.0f} s (faults off; the clock stood still and "
        f"jumped {soak.jumped / 60:.1f} min past backoffs and leases)"
    )
    print(f"wall time                 {wall:.0f} s in all")
    print(f"\nLOST EFFECTS              {sum(result.lost.values())}   (must be 0)")
    for what, n in result.lost.most_common():
        print(f"  {n:6d}  {what}")
    print(f"DUPLICATE EFFECTS         {sum(result.dup.values())}   (must be 0)")
    for what, n in result.dup.most_common():
        why = ", ".join(f"{k} {cause}" for cause, k in result.causes[what].most_common())
        print(f"  {n:6d}  {what}  ({why})")
    for example in result.examples:
        print(f"    e.g. {example}")
    print(
        f"\nSlack acks (client side)  p50 {pct(slack_ms, 50):.1f} ms, p99 {pct(slack_ms, 99):.1f} ms, "
        f"max {max(slack_ms):.0f} ms over {done} requests"
        + (f"; not 200: {dict(lat.failed)}" if lat.failed else "")
    )
    for kind, values in sorted(lat.slack.items()):
        print(
            f"  {kind:12} {len(values):6d}  p50 {pct(values, 50):6.1f} ms  p99 {pct(values, 99):6.1f} ms"
        )
    print(
        f"alert webhooks            p50 {pct(lat.alerts, 50):.1f} ms, p99 {pct(lat.alerts, 99):.1f} ms "
        f"over {len(lat.alerts)} deliveries"
    )
    if len(result.note_delays) > 1:
        d = result.note_delays
        print(
            f"note → timeline entry      p50 {pct(d, 50):.0f} s, p99 {pct(d, 99):.0f} s, max "
            f"{max(d):.0f} s of scripted time over {len(d)} notes (the entry's time is when the "
            "bot got to the command, not when it was sent)"
        )
    if len(result.timer_late) > 1:
        late = result.timer_late
        print(
            f"timers fired late by        p50 {pct(late, 50):.0f} s, p99 {pct(late, 99):.0f} s, max "
            f"{max(late):.0f} s of scripted time over {len(late)} timers (the scheduler ticks every "
            f"wall second: {soak.rate:.0f} s scripted)"
        )
    for job, (n, error) in result.job_failures.items():
        print(f"SCHEDULER: the {job} job failed {n} times in bot.log, e.g. {error[:150]}")
    rss = [s[2] for s in soak.samples if s[2]]
    print(
        f"\nweb process RSS           before {soak.rss_before:.0f} MB, after {soak.rss_after:.0f} MB, "
        f"peak {max(rss):.0f} MB (target < 150 MB)"
    )
    main = [s for s in soak.samples if s[0] <= soak.main_wall and s[2]]
    third = next((s for s in main if s[0] >= soak.main_wall / 3), None)
    if third is not None:
        print(
            f"  growth trend              {third[2]:.0f} MB after the first third of the main "
            f"phase ({third[0]:.0f} s), {soak.rss_after:.0f} MB at the end: "
            f"{soak.rss_after - third[2]:+.0f} MB"
        )
    late = [s for s in main if s[0] >= soak.main_wall / 3]
    if len(late) >= 3:
        xs, ys = [s[0] / 60 for s in late], [s[2] for s in late]
        slope = statistics.linear_regression(xs, ys).slope
        print(f"  slope after the 1st third {slope:+.1f} MB per wall minute (main phase)")
    shown = soak.samples[:: max(1, len(soak.samples) // 10)]
    print("  wall s  scripted min  web MB  scheduler MB  outbox pending")
    for wall_s, minute, web, sched, pending in shown:
        print(f"  {wall_s:6.0f}  {minute:12.1f}  {web:6.0f}  {sched:12.0f}  {pending:14d}")
    c, info = soak.counts, result.info
    main = soak.main_wall
    calls = {"Slack": soak.slack.calls, "PagerDuty": soak.pd.calls, "Jira": soak.jira.calls}
    web, sched, driver, busy, total = soak.cpu_main
    where = f"scheduler {sched:.0f} s" if soak.scheduler else "scheduler inside serve"
    print(
        f"\nCPU in the main phase      web {web:.0f} s, {where}, driver and "
        f"emulators {driver:.0f} s; machine busy {busy / total:.0%} of {os.cpu_count()} CPUs, "
        f"load average {soak.load[0]:.1f} (other work on the machine counts too)"
    )
    print("throughput (main phase)")
    print(
        f"  alerts                  {c['alerts sent']} in {c['alert deliveries']} deliveries: "
        f"{c['alerts sent'] / main:.0f} alerts/s, {c['alert deliveries'] / main:.1f} deliveries/s"
    )
    print(f"  Slack requests to bot   {done}: {done / main:.1f}/s")
    print(
        f"  outbox effects          {info['outbox effects']}: {info['outbox effects'] / main:.1f}/s"
    )
    print(
        "  calls the bot made      "
        + ", ".join(f"{k} {len(v)} ({len(v) / main:.0f}/s)" for k, v in calls.items())
    )
    print(
        "  faults injected         "
        + ", ".join(
            f"{k} {sum(injected.values())} of {calls} ({dict(injected)})"
            for k, (calls, injected) in soak.faults_main.items()
        )
    )
    print(
        f"  made                    {info['incidents']} incidents, {info['pages']} pages → "
        f"{info['PagerDuty incidents']} PagerDuty incidents, {info['Jira issues']} Jira issues, "
        f"{info['lines posted']} lines"
    )
    given = {k: v for k, v in info.items() if k.startswith("given up")}
    extra = {k: info[k] for k in ("orphan channels (card-less)", "unexpected lines") if info[k]}
    if given or extra:
        print(f"  noted                   {given | extra}")
    print("  what the people did     " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))

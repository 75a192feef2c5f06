"""What the soak does to the bot: its script (incidents opened by alert groups or declared, the
people's Slack requests, on-call acks in PagerDuty, on a scripted half hour), the catalog and
playbooks with timers at a third, and the random faults the emulators inject."""

from __future__ import annotations

import argparse
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from soak_measure import CLIENT_TIMEOUT, ROOT

from bot.core.catalog import catalog_from_mapping
from bot.core.playbooks import parse_duration
from bot.emulators.jira import JiraEmulator
from bot.emulators.jira.faults import Fault as JiraFault
from bot.emulators.pagerduty import PagerDutyEmulator
from bot.emulators.pagerduty.faults import Fault as PagerFault
from bot.emulators.slack import SlackEmulator
from bot.emulators.slack.faults import Fault as SlackFault
from bot.playbook_files import lint

# -- faults -----------------------------------------------------------------------------------


class RandomFaults:
    """Stands in for an emulator's fault book: each call fails with probability `rate`, with
    a fault drawn from `mix` ((name, weight, make(key) -> Fault))."""

    def __init__(
        self, rate: float, mix: list[tuple[str, float, Callable[[str], Any]]], seed: int
    ) -> None:
        self.rate = rate
        self.mix = mix
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.injected: Counter[str] = Counter()
        self.calls = 0

    def take(self, key: str) -> Any:
        with self.lock:
            self.calls += 1
            if key == "auth.test" or self.rng.random() >= self.rate:
                return None
            name, _, make = self.rng.choices(self.mix, weights=[w for _, w, _ in self.mix])[0]
            self.injected[name] += 1
            return make(key)

    def take_for(self, method: str, path: str, route: str) -> Any:  # the Jira book's lookup
        return self.take(route)

    def pending(self, key: str | None = None) -> int:
        return 0

    def add(self, fault: Any, times: int) -> None:
        raise RuntimeError("the soak draws its own faults")

    def clear(self) -> None:
        self.rate = 0.0


def inject_faults(
    slack: SlackEmulator,
    pd: PagerDutyEmulator,
    jira: JiraEmulator,
    rate: float,
    seed: int,
    *,
    timeouts: bool = True,
) -> dict[str, RandomFaults]:
    """Random faults on `rate` of each emulator's calls; without `timeouts`, only the errors
    (the timeouts' share goes to the others): no call is carried out with its answer lost."""
    late = CLIENT_TIMEOUT + 0.4  # answered after the client gave up
    rng = random.Random(seed)
    books = {
        "Slack": RandomFaults(
            rate,
            [
                ("429", 0.4, lambda m: SlackFault(m, status=429, retry_after=rng.randint(1, 3))),
                ("5xx", 0.4, lambda m: SlackFault(m, status=rng.choice((500, 502, 503)))),
                ("timeout", 0.2, lambda m: SlackFault(m, error=None, delay=late, apply=True)),
            ],
            seed + 1,
        ),
        "PagerDuty": RandomFaults(
            rate,
            [
                ("5xx", 0.5, lambda r: PagerFault(r, status=rng.choice((500, 502, 503)))),
                ("429", 0.3, lambda r: PagerFault(r, status=429)),
                ("timeout", 0.2, lambda r: PagerFault(r, status=0, delay=late, apply=True)),
            ],
            seed + 2,
        ),
        "Jira": RandomFaults(
            rate,
            [
                ("503", 0.6, lambda r: JiraFault(503)),
                ("429", 0.2, lambda r: JiraFault(429, retry_after=rng.randint(1, 3))),
                ("timeout", 0.2, lambda r: JiraFault(0, delay=late, apply=True)),
            ],
            seed + 3,
        ),
    }
    if not timeouts:
        for book in books.values():
            book.mix = [m for m in book.mix if m[0] != "timeout"]
    slack._api.faults = books["Slack"]  # type: ignore[assignment]
    pd._api.faults = books["PagerDuty"]  # type: ignore[assignment]
    jira._api.faults = jira._api.book = books["Jira"]  # type: ignore[assignment]
    return books


# -- the script -------------------------------------------------------------------------------

GROUP_KINDS = (  # alertname, extra labels: two playbooks match, three kinds do not
    ("CheckoutHigh5xx", {}),
    ("KubePodCrashLooping", {}),
    ("PaymentsLatencyHigh", {}),
    ("StripeApiErrors", {"dependency": "stripe"}),
    ("DiskWillFillIn4h", {}),
)
SERVICES = ("checkout-api", "payments", "search", "inventory")  # inventory: PagerDuty default
SEVERITIES = ("critical", "error", "warning")  # SEV1, SEV2 (both paged at once), SEV3
# An incident's life, in scripted minutes after it opens: its alert group grows (share of its
# alerts firing; 1.5: Alertmanager repeats the group unchanged), partly resolves at 6, fully at
# 8.5 for two groups in three; people act from 0.7 on, resolve at 11, close at 11.5.
GROWTH = ((0.0, 0.1), (0.5, 0.3), (1.5, 0.3), (2.0, 0.6), (3.0, 0.85), (4.5, 1.0))
FILLERS = (  # what people do between the ack and the end, with weights
    ("note", 0.30),
    ("pin", 0.20),
    ("checklist", 0.14),
    ("followup", 0.10),
    ("status", 0.08),
    ("severity", 0.08),
    ("role", 0.05),
    ("status_form", 0.05),
)


@dataclass
class Step:
    at: float  # scripted seconds after the start
    kind: str  # deliver declare slash button checklist pin pd_ack
    arg: Any = None


@dataclass
class Script:
    n: int
    title: str
    steps: list[Step]
    commander: str  # who declares or takes command, and closes (only they may)
    group: dict[str, Any] | None = None
    pos: int = 0
    incident_id: int | None = None
    waiting_since: float | None = None


def plan(
    args: argparse.Namespace, start: datetime, rng: random.Random, users: list[str]
) -> list[Script]:
    declared = max(1, args.incidents // 10) if args.incidents >= 10 else 0
    groups = args.incidents - declared
    sizes = [args.alerts // groups + (g < args.alerts % groups) for g in range(groups)]
    per = [
        args.interactions // args.incidents + (i < args.interactions % args.incidents)
        for i in range(args.incidents)
    ]
    kinds = ["alert"] * groups + ["declared"] * declared
    rng.shuffle(kinds)
    scripts, g, d = [], 0, 0
    for n, born in enumerate(kinds):
        t0 = 15 * 60.0 * n / args.incidents + rng.uniform(0, 5)  # openings over 15 min
        steps: list[Step] = []
        group = None
        if born == "alert":
            alertname, extra = GROUP_KINDS[g % len(GROUP_KINDS)]
            service = SERVICES[(g // len(GROUP_KINDS)) % len(SERVICES)]
            severity = SEVERITIES[g % len(SEVERITIES)]
            title = f"{alertname} on {service} soak group {g:03d}"
            group = {
                "g": g,
                "alertname": alertname,
                "labels": {"alertname": alertname, "service": service, "severity": severity}
                | extra,
                "size": sizes[g],
                "title": title,
                "starts": start + timedelta(seconds=t0 - 60),
            }
            growth = [(at, share, 0.0) for at, share in GROWTH] + [(6.0, 1.0, 0.4)]
            if g % 3:
                growth.append((8.5, 1.0, 1.0))
            steps += [Step(t0 + at * 60, "deliver", (f, r)) for at, f, r in growth]
            g += 1
        else:
            service = SERVICES[d % len(SERVICES)]
            title = f"Soak declared incident {d:03d} on {service}"
            steps.append(Step(t0, "declare", f"declare sev{2 + d % 2} {title}"))
            d += 1
        resolve, close = rng.random() < 0.8, rng.random() < 0.6
        ends = [
            Step(t0 + 42, rng.choice(("slash", "button")), "ack"),
            Step(t0 + 60, rng.choice(("slash", "button")), "commander"),
        ]
        if resolve:
            ends.append(Step(t0 + 10.8 * 60, "slash", "status monitoring"))
            ends.append(Step(t0 + 11 * 60, rng.choice(("slash", "button")), "resolve"))
            if close:
                ends.append(Step(t0 + 11.5 * 60, rng.choice(("slash", "button")), "close"))
        budget = per[n] - len(ends) - (born == "declared")
        # Every 15th group is a SEV1 error-rate incident nobody updates (no status or severity
        # change): its status-update reminders and its playbook's steps run on their own.
        quiet = group is not None and group["g"] % 15 == 0
        fillers = [f for f in FILLERS if not quiet or f[0] not in ("status", "severity")]
        names, weights = zip(*fillers, strict=True)
        for _ in range(max(0, budget)):
            kind = rng.choices(names, weights=weights)[0]
            steps.append(Step(t0 + rng.uniform(70, 10.5 * 60), "filler", kind))
        if rng.random() < 0.15:
            steps.append(Step(t0 + 30, "pd_ack"))  # the on-call acks in PagerDuty first
        steps += ends
        steps.sort(key=lambda s: s.at)
        scripts.append(Script(n, title, steps, rng.choice(users), group))
    return scripts


def alert_body(group: dict[str, Any], firing_share: float, resolved_share: float, now: datetime):
    size = group["size"]
    shown = max(1, round(size * firing_share))
    resolved = round(size * resolved_share)
    alerts = []
    for i in range(shown):
        done = i < resolved
        alerts.append(
            {
                "status": "resolved" if done else "firing",
                "labels": {**group["labels"], "instance": f"node-{i:03d}"},
                "annotations": {
                    "summary": f"{group['alertname']} node-{i:03d} group {group['g']:03d}",
                    "runbook_url": f"https://runbooks.example.com/{group['alertname']}",
                },
                "startsAt": (group["starts"] + timedelta(seconds=i)).isoformat(),
                "endsAt": (now - timedelta(seconds=5)).isoformat()
                if done
                else "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph",
                "fingerprint": f"{group['g']:04x}{i:04x}",
            }
        )
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{group["alertname"]}",group="{group["g"]:03d}"}}',
        "status": "firing" if firing else "resolved",
        "receiver": "incidentbot",
        "groupLabels": {"alertname": group["alertname"], "group": f"{group['g']:03d}"},
        "commonLabels": group["labels"],
        "commonAnnotations": {"summary": group["title"]},
        "externalURL": "http://alertmanager:9093",
        "alerts": alerts,
    }


def timers_at_a_third(tmp: Path, catalog: dict[str, Any]) -> tuple[Path, Path]:
    """The catalog (PagerDuty's services mapped) and the shipped playbooks, with every timer a
    third as long — status updates every 5/10/20 min, the commander nudge at 2, re-pages at 4,
    playbook steps due at a third of their time — so that each incident's reminders, re-pages
    and due steps come within its compressed life."""
    catalog = {
        **catalog,
        "reminders": {"status_update": {"SEV1": 5, "SEV2": 10, "SEV3": 20}, "commander_nudge": 2},
        "paging": {"ack_timeout_minutes": 4},
    }
    path = tmp / "catalog.yaml"
    path.write_text(yaml.safe_dump(catalog))
    folder = tmp / "playbooks"
    folder.mkdir()

    def third(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: f"{int(parse_duration(v).total_seconds() // 3)}s"
                if k in ("due_after", "every", "after", "acknowledge_after") and isinstance(v, str)
                else third(v)
                for k, v in node.items()
            }
        return [third(v) for v in node] if isinstance(node, list) else node

    for source in sorted((ROOT / "playbooks").glob("*.yaml")):
        data = third(yaml.safe_load(source.read_text(encoding="utf-8")))
        (folder / source.name).write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    problems = lint(folder, catalog_from_mapping(catalog))
    if problems:
        raise RuntimeError(f"the soak's playbooks do not lint: {problems}")
    return path, folder

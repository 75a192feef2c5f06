"""`incidentbot demo`: a whole incident, offline, over real HTTP against the Slack emulator.

Declare (form) → roles → acknowledge → status changes → 📌 → follow-ups → playbook checklist →
reminder → severity → resolve → close; then the channel as people saw it, the timeline, the
milestones with MTTx, and the post-mortem as the close drafted it into Jira (the emulator)."""

from __future__ import annotations

import json
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.table import Table
from rich.text import Text

from bot.adapters.slack import blocks as b
from bot.demo_report import DemoFailed, console, expect, heading, humane, need, only, report
from bot.sandbox import ALERT_TOKEN, Sandbox, ScriptedClock
from bot.store import incidents as q


def run_demo(keep: Path | None = None, serve: bool = False) -> int:
    """``serve``: after the story the bot stays up, its dashboard and review page a sign-in away,
    until Ctrl-C (or SIGTERM)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="incidentbot-demo-") as tmp:
        path = keep or Path(tmp) / "demo.db"
        path.unlink(missing_ok=True)
        clock = ScriptedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2))
        try:
            with Sandbox(f"sqlite:///{path}", clock=clock) as sandbox:
                incident_id = _play(sandbox, clock)
                console.print(
                    f"\n[green]Demo finished in {time.monotonic() - started:.1f} s.[/green]"
                )
                if serve:
                    _serve(sandbox, incident_id)
                else:
                    console.print(
                        "The bot stops now, so the links above no longer open: run"
                        " `incidentbot demo --serve` to keep it up and open the review page."
                    )
        except DemoFailed as failure:
            console.print(f"[bold red]Demo failed:[/bold red] {failure}")
            return 1
    return 0


def _serve(sb: Sandbox, incident_id: int) -> None:
    from bot.sandbox_run import acting_lines, serve_in_foreground, sign_in_lines

    heading("The demo's bot, still running")
    console.file.flush()
    lines = [*sign_in_lines(sb, incident_id), "", *acting_lines(sb), ""]
    serve_in_foreground(sb, lines)


def _play(sb: Sandbox, clock: ScriptedClock) -> int:
    slack = sb.slack
    alice, bob, carol = (slack.user_id(name) for name in ("alice", "bob", "carol"))  # seeded people
    names = {
        alice: "alice",
        bob: "bob",
        carol: "carol",
        slack.bot_user_id: "incidentbot",
        "alertmanager": "alertmanager",
        "scheduler": "scheduler",
        "incidentbot": "incidentbot",
    }
    heading(
        "[bold]incidentbot demo[/bold] — an offline incident (SQLite, Slack and PagerDuty emulators)"
    )

    def step(who: str, what: str) -> None:
        console.print(f"[dim]{clock.now():%H:%M}[/dim] [bold]{who}[/bold] {what}")

    def command(user: str, channel: str, text: str, minutes: float = 0) -> Any:
        clock.advance(minutes=minutes)
        step(names[user], humane(f"/incident {text}", names, {}))
        reply = slack.send_command(user, channel, text)
        expect(reply.status == 200, f"/incident {text} was answered {reply.status}")
        sb.settle()
        return reply

    # 1. Prometheus fires: Alertmanager posts the group to the bot, as its webhook receiver does.
    impact = clock.now() - timedelta(minutes=4)
    first = _am_alert("checkout-7d9f", impact, "firing")
    step("alertmanager", "POST /webhooks/alertmanager — CheckoutHigh5xx (critical) on checkout-api")
    _alertmanager(sb, [first])
    with sb.bot.db.read() as session:
        incident = only(q.list_incidents(session=session), "the incident opened by the alert")
    channel, card_ts = incident.conversation_id, incident.card_message_id
    expect(
        channel is not None and card_ts is not None, "the incident channel and card were not made"
    )
    assert channel is not None and card_ts is not None
    pd = sb.pagerduty
    expect(len(pd.incidents()) == 1, "PagerDuty was not paged exactly once")
    pd_incident = pd.incidents()[0]
    step(
        "incidentbot",
        f"opened #{need(slack.channel(channel), 'the channel')['name']} and paged PagerDuty ({pd_incident['id']})",
    )

    # 2. The on-call acknowledges in PagerDuty; its signed webhook stamps acknowledged_at.
    clock.advance(minutes=3)
    step("alice", "acknowledges the page in the PagerDuty app")
    pd.acknowledge(pd_incident["id"], pd.user_id("alice"))
    sb.settle()
    clock.advance(minutes=1)
    step("alertmanager", "a second instance fires in the same group")
    _alertmanager(
        sb, [first, _am_alert("checkout-4c21", clock.now() - timedelta(minutes=1), "firing")]
    )

    # 3. Roles, investigation, a pinned message, a note.
    slack.join(channel, alice)
    command(bob, channel, "comms", minutes=1)
    command(alice, channel, f"scribe <@{carol}|carol>", minutes=0.5)
    command(alice, channel, "status identified", minutes=5)
    clock.advance(minutes=1)
    slack.join(channel, carol)
    said = slack.post_user_message(
        carol, channel, "Deploy 2026.11.26-3 lines up exactly with the 500s; rolling back."
    )
    step("carol", "says the deploy lines up with the errors; alice reacts with :pushpin:")
    slack.add_reaction(alice, channel, said, "pushpin")
    sb.settle()
    command(carol, channel, "note Rollback to 2026.11.26-2 started", minutes=2)
    due = (clock.now() + timedelta(days=7)).date().isoformat()
    command(
        carol, channel, f"followup Add a canary stage for checkout deploys <@{bob}|bob> due {due}"
    )
    step("alice", "makes a follow-up of carol's message with the Add follow-up shortcut")
    slack.message_shortcut(alice, channel, said, "incident.add_followup")
    sb.settle()
    form = only(slack.views(alice), "the follow-up form")
    slack.submit_view(
        alice, form["id"], {"text": "Alert when a deploy and a 5xx rise line up", "owner": carol}
    )
    sb.settle()

    # The high-error-rate playbook attached itself; the team works its checklist.
    board = _checklist(slack, channel)
    step("alice", "ticks [Done] on 'Quantify the impact' in the playbook checklist")
    slack.click_button(
        alice, channel, board["ts"], "playbook.done", block_id="step.quantify-impact.actions"
    )
    sb.settle()
    step("carol", "skips 'Check saturation and upstreams': the deploy explains it")
    slack.join(channel, carol)
    slack.click_button(
        carol, channel, board["ts"], "playbook.skip", block_id="step.check-saturation.actions"
    )
    sb.settle()
    form = only(slack.views(carol), "the skip form")
    slack.submit_view(
        carol, form["id"], {"reason": "The deploy explains the errors; saturation is normal"}
    )
    sb.settle()

    # Nobody has posted a status update for a while: the scheduler reminds the commander.
    clock.advance(minutes=12)  # 15 min after the last status change
    fired = sb.bot.timers.fire_due()
    sb.bot.flows.deliver(incident.id or 0)
    step("scheduler", f"fires {fired} due reminder(s): the SEV1 status update is due every 15 min")

    # 4. The alerts resolve; the bot proposes the mitigation time, alice accepts it.
    clock.advance(minutes=6)
    ended = clock.now() - timedelta(minutes=1)
    step("alertmanager", "both alerts resolved (send_resolved)")
    _alertmanager(
        sb,
        [
            _am_alert("checkout-7d9f", impact, "resolved", ended),
            _am_alert("checkout-4c21", impact, "resolved", ended),
        ],
    )
    proposal = next(
        m
        for m in slack.messages(channel)
        if any(bl.get("block_id") == "mitigation.actions" for bl in m.get("blocks") or [])
    )
    clock.advance(minutes=1)
    step("alice", f"clicks [Mark mitigated at {ended:%H:%M} UTC]")
    slack.click_button(alice, channel, proposal["ts"], b.ACCEPT_MITIGATION)
    sb.settle()

    # 5. Severity through the card's button and its form; resolve; close.
    clock.advance(minutes=3)
    step("alice", "clicks [Change severity] → SEV2 (customers were hit, but not all)")
    slack.click_button(alice, channel, card_ts, b.CHANGE_SEVERITY)
    sb.settle()
    form = only(slack.views(alice), "the severity form")
    slack.submit_view(alice, form["id"], {"severity": "SEV2"})
    sb.settle()
    command(
        alice,
        channel,
        "resolve Rolled back to 2026.11.26-2; error rate back to baseline",
        minutes=15,
    )
    expect(
        need(pd.incident(pd_incident["id"]), "the PagerDuty incident")["status"] == "resolved",
        "PagerDuty's incident was not resolved",
    )
    command(alice, channel, "close", minutes=30)
    report(sb, incident.id, channel, names)
    _postmortem(sb, incident.id or 0)
    return incident.id or 0


def _postmortem(sb: Sandbox, incident_id: int) -> None:
    """Closing drafted the post-mortem into Jira (the emulator): show it as Jira has it."""
    jira = sb.jira
    issues = jira.issues()
    postmortem = only(
        [i for i in issues if "postmortem" in i["fields"]["labels"]], "the post-mortem issue"
    )
    key = postmortem["key"]
    heading(f"Jira {key} — {postmortem['fields']['summary']}")
    console.print(Text(postmortem["fields"]["description"]))
    table = Table(title=f"Follow-ups linked to {key}")
    for column in ("key", "summary", "assignee", "link"):
        table.add_column(column)
    followups = [i for i in issues if "postmortem-followup" in i["fields"]["labels"]]
    for issue in followups:
        link = next(
            (
                str(x["type"])
                for x in jira.links
                if {x["inwardIssue"], x["outwardIssue"]} == {key, issue["key"]}
            ),
            "—",
        )
        assignee = (issue["fields"].get("assignee") or {}).get("displayName", "—")
        table.add_row(issue["key"], issue["fields"]["summary"], assignee, link)
    console.print(table)
    remote = [r["object"]["title"] for r in jira.remote_links(key)]
    console.print(f"Links on {key}: " + ", ".join(remote))
    # carol's typed one, alice's from the shortcut, and the playbook's error-budget review
    expect(len(followups) == 3, f"{len(followups)} follow-ups in Jira, not 3")
    expect(all(r != "—" for r in remote), "the post-mortem has no links back")
    incident = sb.bot.flows.incident(incident_id)
    expect(
        incident is not None and incident.postmortem_key == key,
        "the incident does not know its post-mortem",
    )


def _checklist(slack: Any, channel: str) -> dict[str, Any]:
    boards = [
        m
        for m in slack.messages(channel)
        if any(b.get("block_id") == "checklist.head" for b in m.get("blocks") or [])
    ]
    return only(boards, "the playbook checklist")  # type: ignore[no-any-return]


def _am_alert(
    instance: str, starts: datetime, status: str, ends: datetime | None = None
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {
            "alertname": "CheckoutHigh5xx",
            "service": "checkout-api",
            "severity": "critical",
            "instance": instance,
        },
        "annotations": {
            "summary": "Checkout API 5xx ratio above 5%",
            "runbook_url": "https://runbooks.example.com/checkout-5xx",
        },
        "startsAt": starts.isoformat(),
        "endsAt": (ends or datetime(1, 1, 1, tzinfo=UTC)).isoformat(),
        "generatorURL": "http://prometheus:9090/graph?g0.expr=job%3Acheckout_5xx%3Aratio5m+%3E+0.05",
        "fingerprint": f"demo-{instance}",
    }


def _alertmanager(sb: Sandbox, alerts: list[dict[str, Any]]) -> None:
    payload = {
        "version": "4",
        "groupKey": '{}:{alertname="CheckoutHigh5xx", service="checkout-api"}',
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "receiver": "incidentbot",
        "groupLabels": {"alertname": "CheckoutHigh5xx", "service": "checkout-api"},
        "commonLabels": {
            "alertname": "CheckoutHigh5xx",
            "service": "checkout-api",
            "severity": "critical",
        },
        "commonAnnotations": {"summary": "Checkout API 5xx ratio above 5%"},
        "externalURL": "http://alertmanager:9093",
        "alerts": alerts,
    }
    # urllib, not httpx: the demo runs on the runtime dependencies alone (an installed wheel)
    request = urllib.request.Request(  # noqa: S310  (the sandbox, on loopback)
        f"{sb.url}/webhooks/alertmanager",
        data=json.dumps(payload).encode(),
        headers={"Authorization": f"Bearer {ALERT_TOKEN}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    expect(
        status == 200,
        f"the alert webhook was answered {status}: {body.decode(errors='replace')}",
    )
    sb.settle()

"""The soak's audit, continued: pins filled, channels archived, every due timer fired, one
PagerDuty incident per key and each page followed, one Jira issue per label."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from typing import Any

from soak_measure import as_json, aware
from sqlalchemy import text

from bot.flows import chat_effects as fx


def audit_more(
    out: Any,
    soak: Any,
    rows: list[dict[str, Any]],
    incidents: dict[int, Any],
    channels: dict[str, Any],
    pins: dict[int, Any],
    pages: list[dict[str, Any]],
    followups: list[dict[str, Any]],
    log: str,
) -> None:
    # 5. pins, archives
    for row in rows:
        if not row["done_at"] or row["failed"]:
            continue
        if row["kind"] == fx.FILL_PIN:
            data = pins.get(row["payload"]["entry_id"])
            if data is not None and not as_json(data).get("fetched"):
                out.miss("pinned message text", f"#{row['id']}")
        if row["kind"] == fx.ARCHIVE:
            inc = incidents[row["incident_id"]]
            if inc.conversation_id and not channels[inc.conversation_id].is_archived:
                out.miss("channel archive", f"incident {inc.id}")

    # 6. timers: every one due by the end has fired (a reminder never lost)
    with soak.db.engine.connect() as conn:
        overdue = conn.execute(
            text("SELECT id, incident_id, kind, due_at FROM timer WHERE fired_at IS NULL")
        ).all()
        fired = conn.execute(
            text("SELECT due_at, fired_at FROM timer WHERE outcome = 'fired'")
        ).all()
    end = soak.clock.now()
    for timer in overdue:
        if aware(timer.due_at) <= end - timedelta(seconds=5):
            out.miss(
                "timer due but never fired", f"#{timer.id} {timer.kind} of {timer.incident_id}"
            )
    out.timer_late = [(aware(t.fired_at) - aware(t.due_at)).total_seconds() for t in fired]
    for job in ("timers", "outbox sweep"):
        failures = re.findall(
            rf"\[error\s*\] {job} failed.*?\n(?:.*\n)*?(\w+(?:\.\w+)*Error: [^\n]*)", log
        )
        if failures:
            out.job_failures[job] = (len(failures), Counter(failures).most_common(1)[0][0])

    # every reminder once: no two reminders of one kind for one incident at one instant (a timer
    # fired twice); the lines check above saw each reminder's line posted exactly once
    reminded = Counter(
        (r["incident_id"], str(r["payload"]["data"].get("reminder")), r["payload"]["at"])
        for r in rows
        if r["kind"] == fx.POST_LINE and r["payload"].get("kind") == "reminder"
    )
    for (iid, kind, at), n in reminded.items():
        out.double("reminder (a timer fired twice)", n - 1, f"incident {iid} {kind} at {at}")
    out.info["reminders"] = sum(reminded.values())

    # 7. PagerDuty: one incident per key, and every page landed and followed
    pd_incidents = soak.pd.incidents()
    per_key = Counter(i["incident_key"] for i in pd_incidents if i.get("incident_key"))
    for key, n in per_key.items():
        out.double("PagerDuty incident for one key", n - 1, key)
    by_key = {i["incident_key"]: i for i in pd_incidents}
    keys_paged = {p["key"] for p in pages}
    for key in {k for k in by_key if k} - keys_paged:
        out.double("PagerDuty incident no page asked for", 1, str(key))
    for page in pages:
        if page["kind"] == "responders" or page["status"] in ("pending", "failed"):
            continue
        found = by_key.get(page["key"])
        if found is None:
            out.miss("PagerDuty incident", page["key"])
        elif page["status"] == "resolved" and found["status"] != "resolved":
            out.miss("PagerDuty resolve", page["key"])
        elif page["status"] == "acknowledged" and found["status"] == "triggered":
            out.miss("PagerDuty acknowledge", page["key"])
    out.info["pages"] = len(pages)
    out.info["PagerDuty incidents"] = len(pd_incidents)

    # 8. Jira: one issue per label, every export and follow-up there
    issues = soak.jira.issues()
    per_label: Counter[str] = Counter()
    for issue in issues:
        labels = issue["fields"]["labels"]
        mine = [
            label
            for label in labels
            if label.startswith("incidentbot-followup-")
            or ("postmortem" in labels and label.startswith("incidentbot-"))
        ]
        per_label.update(mine)
    for label, n in per_label.items():
        out.double("Jira issue for one label", n - 1, label)
    keys = {i["key"] for i in issues}
    exported = {
        r["incident_id"]
        for r in rows
        if r["kind"] == "tracker.export_postmortem" and r["done_at"] and not r["failed"]
    }
    for iid in exported:
        inc = incidents[iid]
        if not inc.postmortem_key or inc.postmortem_key not in keys:
            out.miss("Jira post-mortem issue", f"incident {iid}")
    for f in followups:
        if f["incident_id"] in exported and (not f["issue_key"] or f["issue_key"] not in keys):
            out.miss("Jira follow-up issue", f"follow-up {f['id']}")
    out.info["Jira issues"] = len(issues)

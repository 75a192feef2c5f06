"""The soak's audit: what the database says should exist against what the emulators hold.
Lost: effects still pending or given up, and done effects missing in Slack (channel, card,
card refresh, announcement, lines, checklists, proposals, DMs). Duplicates: channels per
incident, cards, announcements, lines, checklists, proposals — each with its cause where the
records tell (a lost answer retried, or a lease that ran out). The rest (pins, archives,
timers, PagerDuty, Jira) is soak_audit_more.py."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from soak_audit_more import audit_more
from soak_measure import LEASE, LOST, as_dt, as_json, aware, same_line
from sqlalchemy import text
from sqlmodel import select

from bot.adapters.slack import blocks as b
from bot.core.catalog import Catalog
from bot.core.naming import channel_name
from bot.core.playbooks import ACTIONS, PostAction
from bot.flows import chat_effects as fx
from bot.flows.ports import Line
from bot.flows.views import card_view
from bot.settings import Settings
from bot.store.models import Incident

# -- the audit --------------------------------------------------------------------------------

NAME_ATTEMPTS = 50  # the channel names the bot tries for one incident: -2, -3 … on name_taken


@dataclass
class Audit:
    lost: Counter[str] = field(default_factory=Counter)
    dup: Counter[str] = field(default_factory=Counter)
    info: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    # why duplicates happened, where the records tell: "lost answer" (Slack carried out a
    # call whose answer timed out, the retry did it again) or "lease" (the effect's lease ran
    # out while its first run was still going, and a second worker ran it too)
    causes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    note_delays: list[float] = field(default_factory=list)  # scripted seconds
    timer_late: list[float] = field(default_factory=list)  # fired_at - due_at, scripted s
    job_failures: dict[str, tuple[int, str]] = field(default_factory=dict)  # job: (n, error)

    def miss(self, what: str, example: str) -> None:
        self.lost[what] += 1
        if sum(e.startswith("lost") for e in self.examples) < 6:
            self.examples.append(f"lost {what}: {example}")

    def double(self, what: str, n: int, example: str, *causes: str | None) -> None:
        if n > 0:
            self.dup[what] += n
            self.causes[what][" and ".join(c for c in causes if c) or "unexplained"] += n
            if sum(e.startswith("duplicate") for e in self.examples) < 6:
                self.examples.append(f"duplicate {what} ×{n + 1}: {example}")


def audit(soak: Any) -> Audit:
    out = Audit()
    catalog: Catalog = Settings(incidentbot_config=Path(soak.tmp) / "catalog.yaml").catalog()
    slack, ws = soak.slack, soak.slack.ws
    bot_user = slack.bot_user_id
    lost_answers: set[tuple[str, str]] = set()  # what Slack did for a call that timed out
    for call in slack.calls:
        if call.fault is None or not call.fault.apply:
            continue
        if call.method == "conversations.create":
            lost_answers.add(("create", str(call.params.get("name"))))
        elif call.method == "chat.postMessage":
            where = str(call.params.get("channel"))
            lost_answers.add((where, same_line(str(call.params.get("text")))))
            lost_answers.add((where, json.dumps(call.params.get("blocks") or "")))
    with soak.db.read() as session:
        incidents = {i.id: i for i in session.exec(select(Incident)).all()}
        cards = {
            iid: card_view(session=session, incident=i, catalog=catalog, public_url=None)
            for iid, i in incidents.items()
        }
    with soak.db.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM outbox ORDER BY id"))]
        declared = {
            r.incident_id: r.at
            for r in conn.execute(
                text("SELECT incident_id, at FROM milestone WHERE kind='declared'")
            )
        }
        runs = conn.execute(
            text("SELECT id, incident_id, playbook, checklist_message_id FROM playbook_run")
        )
        runs = [dict(r._mapping) for r in runs]
        steps = {
            r.id: dict(r._mapping)
            for r in conn.execute(text("SELECT id, state, action, result FROM playbook_step"))
        }
        pages = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM page"))]
        followups = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM followup"))]
        pins = {
            r.id: r.data
            for r in conn.execute(text("SELECT id, data FROM timeline_entry WHERE kind='pin'"))
        }
        notes = conn.execute(text("SELECT text, at FROM timeline_entry WHERE kind='note'")).all()
    # How late the timeline is: a note's entry time against when its /incident note was sent;
    # and every note Slack got a 200 for is there
    seen = set()
    for note in notes:
        found = re.search(r"soak note (#\d+-\d+):", note.text)
        if found and found.group(1) in soak.notes:
            seen.add(found.group(1))
            late = (aware(note.at) - soak.notes[found.group(1)]).total_seconds()
            out.note_delays.append(late)
    for tag in sorted(set(soak.notes) - seen):
        out.miss("/incident note acknowledged but never on the timeline", tag)
    for row in rows:
        row["payload"] = as_json(row["payload"])
    # Claims the log does not explain by a failure: an effect taken again after its lease ran
    # out while the first worker was still at it (it then runs twice).
    failures: Counter[int] = Counter()
    log = (Path(soak.tmp) / "bot.log").read_text(errors="replace")
    for effect_id, _attempt in set(re.findall(r"effect \S+ #(\d+) failed \(attempt (\d+)\)", log)):
        failures[int(effect_id)] += 1
    overrun = {
        r["id"]
        for r in rows
        if r["done_at"] and r["attempts"] > failures[r["id"]] + (0 if r["failed"] else 1)
    }
    out.info["effects run again after their lease ran out"] = len(overrun)

    def lease(iid: int, kind: str) -> str | None:
        hit = any(r["id"] in overrun for r in rows if r["incident_id"] == iid and r["kind"] == kind)
        return LEASE if hit else None

    out.info["incidents"] = len(incidents)
    out.info["outbox effects"] = len(rows)

    with slack._lock:
        channels = {c.id: c for c in ws.channels.values()}
        by_name = {c.name: c for c in ws.channels.values()}
        messages = {cid: list(ws.messages.get(cid, [])) for cid in channels}

    def bot_messages(cid: str | None) -> list[Any]:
        return [m for m in messages.get(cid or "", []) if m.user == bot_user and not m.subtype]

    def block_ids(m: Any) -> set[str]:
        return {blk.get("block_id", "") for blk in m.blocks or []}

    # 1. every effect delivered: one still pending, or given up (a notice in the channel or
    # not), is lost
    notices = defaultdict(list)
    for row in rows:
        if row["kind"] == fx.NOTICE and row["done_at"] and not row["failed"]:
            notices[row["incident_id"]].append(row["payload"]["text"])
    lines_said = defaultdict(list)
    for row in rows:
        if row["kind"] == fx.POST_LINE and row["done_at"] and not row["failed"]:
            lines_said[row["incident_id"]].append(row["payload"]["text"])
    for row in rows:
        if row["done_at"] is None:
            out.miss("effect still pending after the drain", f"#{row['id']} {row['kind']}")
        elif row["failed"]:
            out.info[f"given up: {row['kind']}"] += 1
            kind, iid = row["kind"], row["incident_id"]
            if kind.startswith("pager."):
                seen = any("failed for good" in t for t in lines_said[iid])
            elif kind.startswith("tracker."):
                seen = any("Jira refused" in t for t in lines_said[iid])
            elif kind == fx.STEP_ACTION:
                seen = steps.get(row["payload"].get("step_id"), {}).get("state") == "failed"
            elif kind == fx.NOTICE:
                seen = False
            else:
                seen = any(fx._DESCRIPTIONS.get(kind, kind) in t for t in notices[iid])
            how = "with a notice in Slack" if seen else "without a visible notice"
            out.miss(f"effect given up ({how})", f"#{row['id']} {kind}")

    # 2. channels: exactly one per incident
    for iid, inc in incidents.items():
        if inc.conversation_id is None:
            out.miss("incident without a channel", f"incident {iid}")
            continue
        if inc.conversation_id not in channels:
            out.miss("channel missing in Slack", f"incident {iid} {inc.conversation_id}")
            continue
        day = declared.get(iid) or inc.created_at
        day = datetime.fromisoformat(day) if isinstance(day, str) else day
        names = {channel_name(inc.title, day, attempt=k) for k in range(1, NAME_ATTEMPTS + 1)}
        made = [by_name[n] for n in names if n in by_name]
        cause = any(("create", c.name) in lost_answers for c in made)
        out.double(
            "channel for one incident",
            len(made) - 1,
            f"{iid}: {inc.title}",
            LOST if cause else None,
            lease(iid, fx.OPEN_CHANNEL),
        )
        orphans = [c for c in made if c.id != inc.conversation_id]
        out.info["orphan channels (card-less)"] += len(orphans)

    # 3. card, announcement, lines, checklists, proposals in each channel
    feed_msgs = bot_messages(soak.feed)
    for iid, inc in incidents.items():
        cid = inc.conversation_id
        if cid is None or cid not in channels:
            continue
        mine = bot_messages(cid)
        card_msgs = [m for m in mine if "card.header" in block_ids(m)]
        if not card_msgs:
            out.miss("card", f"incident {iid}")
        cause = any(w == cid and "card.header" in t for w, t in lost_answers)
        out.double(
            "card in one channel",
            len(card_msgs) - 1,
            f"incident {iid}",
            LOST if cause else None,
            lease(iid, fx.OPEN_CHANNEL),
        )
        if card_msgs and inc.card_message_id and inc.card_message_id in {m.ts for m in card_msgs}:
            card = next(m for m in card_msgs if m.ts == inc.card_message_id)
            status = cards[iid].status
            if f"{status.emoji} {status.name}" not in json.dumps(card.blocks, ensure_ascii=False):
                out.miss("card refresh (stale status on the card)", f"incident {iid}")
        if not inc.private:
            ann = [m for m in feed_msgs if f"<#{cid}>" in json.dumps(m.blocks or [])]
            if not ann:
                out.miss("announcement", f"incident {iid}")
            cause = any(w == soak.feed and f"<#{cid}>" in t for w, t in lost_answers)
            out.double(
                "announcement in the feed",
                len(ann) - 1,
                f"incident {iid}",
                LOST if cause else None,
                lease(iid, fx.ANNOUNCE),
            )
        checklists = Counter(m.text.split(":")[0] for m in mine if "checklist.head" in block_ids(m))
        for run in (r for r in runs if r["incident_id"] == iid):
            n = checklists.get(f"Playbook {run['playbook']}", 0)
            if run["checklist_message_id"] and not n:
                out.miss("checklist", f"incident {iid} {run['playbook']}")
            cause = any(w == cid and "checklist.head" in t for w, t in lost_answers)
            out.double(
                "checklist",
                n - 1,
                f"incident {iid} {run['playbook']}",
                LOST if cause else None,
                lease(iid, fx.CHECKLIST),
            )
        proposals = sum("mitigation.text" in block_ids(m) for m in mine)
        wanted = sum(
            1
            for r in rows
            if r["incident_id"] == iid
            and r["kind"] == fx.PROPOSE_MITIGATION
            and r["done_at"]
            and not r["failed"]
        )
        if proposals < wanted:
            out.miss("mitigation proposal", f"incident {iid}")
        cause = any(w == cid and "mitigation.text" in t for w, t in lost_answers)
        out.double(
            "mitigation proposal",
            proposals - wanted,
            f"incident {iid}",
            LOST if cause else None,
            lease(iid, fx.PROPOSE_MITIGATION),
        )

    # 4. lines: what the outbox says was posted, against what each channel shows
    expected: dict[str, Counter[str]] = defaultdict(Counter)
    sources: dict[tuple[str, str], list[int]] = defaultdict(list)
    for row in rows:
        if not row["done_at"] or row["failed"]:
            continue
        iid, p = row["incident_id"], row["payload"]
        inc = incidents.get(iid)
        if inc is None:
            continue
        said: tuple[str | None, str] | None = None
        if row["kind"] == fx.POST_LINE:
            line = Line(p["kind"], p["text"], p.get("actor"), as_dt(p["at"]), p.get("data", {}))
            said = inc.conversation_id, b.line_text(line, cards[iid])
        elif row["kind"] == fx.NOTICE:
            line = Line("error", p["text"], None, as_dt(row["done_at"]))
            said = inc.conversation_id or soak.feed, b.line_text(line, cards[iid])
        elif row["kind"] == fx.STEP_ACTION:
            step = steps.get(p.get("step_id"), {})
            action = (
                ACTIONS.validate_python(as_json(step["action"])) if step.get("action") else None
            )
            if isinstance(action, PostAction) and str(step.get("result", "")).startswith("posted"):
                feed = action.to == "feed"
                line = Line("playbook", action.text, None, as_dt(row["done_at"]), {"feed": feed})
                said = soak.feed if feed else inc.conversation_id, b.line_text(line, cards[iid])
        elif row["kind"] == fx.DIRECT:
            line = Line(p["kind"], p["text"], None, as_dt(p["at"]), p.get("data", {}))
            said = ws.im_with(p["user"]).id, b.direct_text(line)
        if said is not None and said[0] is not None:
            expected[said[0]][same_line(said[1])] += 1
            sources[(said[0], same_line(said[1]))].append(row["id"])
    special = {"card.header", "checklist.head", "mitigation.text", "feed.summary"}
    for cid, wanted in expected.items():
        shown = Counter(same_line(m.text) for m in bot_messages(cid) if not block_ids(m) & special)
        for line_text, n in wanted.items():
            if shown[line_text] < n:
                for _ in range(n - shown[line_text]):
                    out.miss("line", f"{cid}: {line_text[:80]!r}")
            out.double(
                "line",
                shown[line_text] - n,
                f"{cid}: {line_text[:80]!r}",
                LOST if (cid, line_text) in lost_answers else None,
                LEASE if any(r in overrun for r in sources[(cid, line_text)]) else None,
            )
        out.info["lines posted"] += sum(wanted.values())
        for t, n in shown.items():
            if t not in wanted:
                out.info["unexpected lines"] += n
                if out.info["unexpected lines"] <= 3:
                    out.examples.append(f"unexpected line in {cid}: {t[:100]!r}")

    audit_more(out, soak, rows, incidents, channels, pins, pages, followups, log)
    return out

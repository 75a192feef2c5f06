"""The people of the soak: each step of an incident's script played against the bot over real
HTTP — alert deliveries, signed slash commands, button clicks, 📌 reactions, PagerDuty acks."""

from __future__ import annotations

import http.client
import json
import time
from typing import Any

from soak_measure import ALERT_TOKEN, reactors
from soak_script import Script, Step, alert_body

from bot.adapters.slack import blocks as b
from bot.adapters.slack.checklist import DONE


class People:
    """Mixed into the soak (it holds the emulators, the clock and what the bot has made)."""

    def where(self, script: Script) -> dict[str, Any] | None:
        with self.lock:
            found = self.incidents.get(script.title)
        if found is None or not found["conversation_id"]:
            return None
        script.incident_id = found["id"]
        return found

    def play(self, script: Script, step: Step) -> float | None:
        """Do one step; a float says "not possible yet, again at this scripted time"."""
        if step.kind == "deliver":
            assert script.group is not None
            firing, resolved = step.arg
            body = json.dumps(alert_body(script.group, firing, resolved, self.clock.now()))
            self.post_alerts(body.encode(), script)
            sent = len(json.loads(body)["alerts"])
            self.count("alerts sent", sent)
            with self.lock:
                g = script.group["g"]
                self.distinct[g] = max(self.distinct.get(g, 0), sent)
            return None
        if step.kind == "declare":
            self.slack.send_command(script.commander, self.general, step.arg)
            self.count("/incident declare")
            return None
        incident = self.where(script)
        if incident is None:  # the bot has not made the channel yet
            if script.waiting_since is None:
                script.waiting_since = time.monotonic()
            if time.monotonic() - script.waiting_since > 90:
                self.count("skipped: no channel after 90 s")
                script.waiting_since = None
                return None
            return self.clock.timestamp() - self.start_at.timestamp() + 10
        script.waiting_since = None
        user = self.rng.choice(self.users)
        if step.arg in ("commander", "close") or (
            step.arg == "severity" and self.rng.random() < 0.5
        ):
            user = script.commander
        channel = incident["conversation_id"]
        if step.kind == "pd_ack":
            found = self.pd.incident_by_key(f"incidentbot-{incident['id']}")
            if found and found["status"] == "triggered":
                try:
                    self.pd.acknowledge(found["id"], "alice")
                    self.count("PagerDuty acks by the on-call")
                except ValueError:
                    pass
            return None
        kind, arg = step.kind, step.arg
        if kind == "filler":
            kind, arg = self.filler(arg, script)
        if kind == "button" and not self.click_card(user, incident, arg):
            fallback = {"resolve": "status resolved", "status_form": f"note form #{script.n}"}
            kind, arg = "slash", fallback.get(arg, arg)
        if kind == "checklist":
            runs = self.runs.get(incident["id"]) or []
            for ts in runs:
                try:
                    self.slack.click_button(user, channel, ts, DONE)
                    self.count("checklist Done")
                    return None
                except LookupError:
                    continue
            kind, arg = "slash", f"note checklist done already #{script.n}-{script.pos}"
        if kind == "pin":
            self.pin(user, channel, script)
            return None
        if kind == "slash":
            sent = self.clock.now()
            reply = self.slack.send_command(user, channel, arg)
            self.count(f"/incident {arg.split()[0]}")
            if arg.startswith("note soak note") and reply.status == 200:
                with self.lock:
                    self.notes[arg.split()[3].rstrip(":")] = sent
        return None

    def filler(self, kind: str, script: Script) -> tuple[str, Any]:
        tag = f"#{script.n}-{script.pos}"
        match kind:
            case "note":
                return "slash", f"note soak note {tag}: checked the dashboards, still looking"
            case "followup":
                owner = f" <@{self.rng.choice(self.users)}>" if self.rng.random() < 0.5 else ""
                return "slash", f"followup Soak follow-up {tag}: add an alert for this{owner}"
            case "status":
                return "slash", "status identified"
            case "severity":
                return "slash", f"severity sev{self.rng.choice((1, 2, 3))}"
            case "role":
                role = self.rng.choice(("comms", "scribe"))
                return "slash", f"{role} <@{self.rng.choice(self.users)}>"
            case "status_form":
                return "button", "status_form"
        return kind, None  # pin, checklist

    def click_card(self, user: str, incident: dict[str, Any], what: str) -> bool:
        action = {
            "ack": b.ACK,
            "commander": b.CLAIM_COMMANDER,
            "resolve": b.RESOLVE,
            "close": b.CLOSE,
            "status_form": b.CHANGE_STATUS,
        }[what]
        if not incident["card_message_id"]:
            return False
        try:
            self.slack.click_button(
                user, incident["conversation_id"], incident["card_message_id"], action
            )
        except LookupError:  # that button is gone (already acked, not yet resolved …)
            return False
        self.count(f"card button {what}")
        return True

    def pin(self, user: str, channel: str, script: Script) -> None:
        messages = [
            m
            for m in self.slack.messages(channel, system=False)
            if m.get("user") == self.slack.bot_user_id and user not in reactors(m)
        ]
        if messages and self.rng.random() < 0.5:
            ts = self.rng.choice(messages)["ts"]
        else:
            text_ = f"soak finding #{script.n}-{script.pos}: the p99 went up at the deploy"
            ts = self.slack.post_user_message(user, channel, text_, send_event=False)
        try:
            self.slack.add_reaction(user, channel, ts, "pushpin")
            self.count("📌 reactions")
        except (ValueError, LookupError):
            self.count("skipped: pin raced")

    def post_alerts(self, body: bytes, script: Script) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {ALERT_TOKEN}"}
        began = time.perf_counter()
        conn.request("POST", "/webhooks/alertmanager", body, headers)
        response = conn.getresponse()
        data = response.read()
        ms = (time.perf_counter() - began) * 1000
        conn.close()
        with self.lat.lock:
            self.lat.alerts.append(ms)
        self.count("alert deliveries")
        if response.status != 200:
            self.count(f"alert webhook {response.status}")
            return
        script.incident_id = json.loads(data).get("incident_id") or script.incident_id

    # -- drain -------------------------------------------------------------------------------

"""The outbox side of automated playbook steps that talk to the chat (invite a user group or
people, post a message in the channel or the feed). Each marks its step done with what it did,
or failed with why; re-running one is harmless (invites of members are no-ops, a post is made
once — a retry looks for it first — and a step no longer running is left alone)."""

from __future__ import annotations

from functools import partial
from typing import Any

from bot.core.people import person
from bot.core.playbooks import InviteAction, PostAction
from bot.flows import step_actions
from bot.flows.chat_effects import ChatEffects
from bot.flows.ports import Clock, Line
from bot.store import playbook_runs as store
from bot.store.db import Database
from bot.store.read_models import QueuedEffect


class StepEffects:
    def __init__(self, db: Database, chat: ChatEffects, clock: Clock) -> None:
        self.db = db
        self.effects = chat
        self.clock = clock

    @property
    def handlers(self) -> dict[str, Any]:
        return {step_actions.STEP_ACTION: self.step_action}

    def step_action(self, row: QueuedEffect) -> None:
        incident, card = self.effects.load(row)
        with self.db.read() as session:
            found = store.step(session=session, step_id=row.payload["step_id"])
        step = found[1] if found is not None else None
        action = step_actions.action_of(step) if step else None
        if step is None or step.state != "running":
            return
        channel = self.effects.channel(incident)
        if isinstance(action, InviteAction):
            users = list(action.users)
            if action.usergroup:
                members = self.effects.chat.usergroup_members(action.usergroup)
                if members is None:
                    return self._finish(
                        row, False, f"there is no user group @{action.usergroup} in this workspace"
                    )
                users += members
            if not users:
                return self._finish(row, True, f"@{action.usergroup} has nobody in it")
            self.effects.chat.invite(channel, users)
            who = ", ".join(person(u) for u in dict.fromkeys(users))
            group = f" (@{action.usergroup})" if action.usergroup else ""
            return self._finish(row, True, f"invited {who}{group}")
        if isinstance(action, PostAction):
            feed = action.to == "feed"
            if feed and (incident.private or incident.drill):
                return self._finish(
                    row, False, "private incidents and drills never post to the feed"
                )
            target = self.effects.feed_channel if feed else channel
            if target is None:
                return self._finish(row, False, f"no feed channel: set {self.effects.feed_setting}")
            line = Line("playbook", action.text, None, self.clock.now(), {"feed": feed})
            # once: the previous attempt may have posted it and lost the surface's answer
            self.effects.once(row, target, partial(self.effects.chat.post_line, target, line, card))
            return self._finish(
                row, True, "posted in the feed" if feed else "posted in the channel"
            )
        return None

    def gave_up(self, row: QueuedEffect, error: str) -> None:
        if row.kind == step_actions.STEP_ACTION:
            self._finish(row, False, f"{self.effects.chat.surface} said {error}")

    def _finish(self, row: QueuedEffect, ok: bool, result: str) -> None:
        with self.db.transaction() as session:
            step_actions.finish(
                session, row.payload["step_id"], ok=ok, result=result, now=self.clock.now()
            )

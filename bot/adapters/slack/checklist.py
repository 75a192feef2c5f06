"""Block Kit for a playbook's checklist: each step with its owner, due time and Done / Skip."""

from __future__ import annotations

import json
from typing import Any

from bot.adapters.slack.text import escape, link, mention, plain, said, when
from bot.flows.ports import ChecklistView, StepView

Block = dict[str, Any]

DONE = "playbook.done"
SKIP = "playbook.skip"
SKIP_FORM = "playbook.skip_reason"
_ICON = {"open": "⬜", "running": "⏳", "done": "✅", "skipped": "⏭️", "failed": "⚠️"}
_ACTIONABLE = ("open", "running", "failed")  # a person can still tick these off


def checklist_blocks(view: ChecklistView) -> tuple[str, list[Block]]:
    done = sum(s.state in ("done", "skipped") for s in view.steps)
    head = f"📋 *Playbook {escape(view.playbook)}* — {escape(view.title)} · {done}/{len(view.steps)} steps"
    blocks: list[Block] = [
        {
            "type": "section",
            "block_id": "checklist.head",
            "text": {"type": "mrkdwn", "text": plain(head, 2900)},
        }
    ]
    for number, step in enumerate(view.steps, start=1):
        blocks.append(
            {
                "type": "section",
                "block_id": f"step.{step.step}",
                "text": {"type": "mrkdwn", "text": plain(_line(number, step), 2900)},
            }
        )
        if step.state in _ACTIONABLE:
            value = f"{view.run_id}:{step.step}"
            blocks.append(
                {
                    "type": "actions",
                    "block_id": f"step.{step.step}.actions",
                    "elements": [
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "Done"},
                            "action_id": DONE,
                            "value": value,
                            "style": "primary",
                        },
                        {
                            "type": "button",
                            "text": {"type": "plain_text", "text": "Skip"},
                            "action_id": SKIP,
                            "value": value,
                        },
                    ],
                }
            )
    return f"Playbook {view.playbook}: {done}/{len(view.steps)} steps", blocks[:50]


def _line(number: int, step: StepView) -> str:
    title = link(step.runbook_url, step.title)
    text = f"{_ICON.get(step.state, '⬜')} *{number}.* {title} — {escape(step.owner)}"
    if step.automated:
        text += f" · 🤖 {escape(step.automated)}"
    if step.state == "open" and step.due_at:
        verb = "runs" if step.automated else "due"
        text += f" · {verb} {when(step.due_at, '{time}')}"
    if step.state in ("done", "skipped", "failed") and step.at:
        by = mention(step.by) if step.by else "the bot"
        text += f" · {step.state} by {by} {when(step.at, '{time}')}"
    if step.result and step.state in ("running", "done", "failed") and not step.by:
        text += f"\n> {said(step.result, stored_mentions=True)}"
    if step.skip_reason:
        text += f"\n> {escape(step.skip_reason)}"
    return text


def skip_form(run_id: int, step: str, title: str) -> Block:
    return {
        "type": "modal",
        "callback_id": SKIP_FORM,
        "title": {"type": "plain_text", "text": "Skip a step"},
        "submit": {"type": "plain_text", "text": "Skip"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps({"run_id": run_id, "step": step}),
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"Skipping *{escape(title)}*. The reason goes on the timeline and into the post-mortem.",
                },
            },
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Why?"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "reason",
                    "multiline": True,
                    "max_length": 1000,
                },
            },
        ],
    }

"""How the web pages and the JSON answers word what the domain says: neutral person references
(`bot.core.people`) as `@id`, and milestone sources as the products this deployment uses."""

from __future__ import annotations

from typing import Any

from bot.core.people import render_people
from bot.core.refusals import Refusal
from bot.flows.unit import Outcome


def said(text: str) -> str:
    """A domain sentence (a refusal, an outcome) for a page or a JSON answer: people as `@id`."""
    return render_people(text, lambda user: f"@{user}")


def refusal_json(refusal: Refusal) -> dict[str, Any]:
    """A refusal's parts for a JSON answer: what was refused, why, what to do instead (null:
    nothing to say), and the ids of the people `why` names."""
    return {
        "what": refusal.what,
        "why": said(refusal.why),
        "fix": None if refusal.fix is None else said(refusal.fix),
        "who": list(refusal.who),
    }


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    """A webhook's answer: taken or not, the incident, what happened in a sentence and, when
    refused, the refusal's parts (`refusal_json`)."""
    answer: dict[str, Any] = {
        "ok": outcome.ok,
        "incident_id": outcome.incident_id,
        "result": said(outcome.message),
    }
    if outcome.refusal is not None:
        answer["refusal"] = refusal_json(outcome.refusal)
    return answer

"""What is wrong with a playbook, said so that its author can fix it. Pure.

Every problem is a `Problem(loc, message)`: `loc` is the path of the offending key in the
playbook's document (`("steps", 2, "due_after")`), so a loader that kept the YAML nodes can turn
it into a line number; the message is a sentence for the author, not pydantic's wording.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from bot.core.catalog import Catalog
from bot.core.playbooks import (
    ACTION_MODELS,
    ACTION_TYPES,
    CreateFollowupAction,
    Loc,
    Match,
    PageAction,
    Playbook,
    SetSeverityAction,
    Step,
)

# Where each model sits in a document (list indexes left out; an action by its `type` tag)
_MODEL_AT: dict[tuple[str, ...], type[BaseModel]] = {
    (): Playbook,
    ("match",): Match,
    ("steps",): Step,
    **{("steps", "action", t): m for t, m in zip(ACTION_TYPES, ACTION_MODELS, strict=True)},
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a playbook; `loc` is the path of the offending key."""

    loc: Loc
    message: str

    @property
    def where(self) -> str:
        """`steps[2].action.service` (indexes from 0)."""
        text = ""
        for part in self.loc:
            text += f"[{part}]" if isinstance(part, int) else f".{part}"
        return text.lstrip(".")

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.loc else self.message


class PlaybookError(ValueError):
    """The playbook is invalid; `problems` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def parse_playbook(data: Any, catalog: Catalog | None = None) -> Playbook:
    """Validate parsed YAML as a playbook (and against the catalog when given)."""
    try:
        playbook = Playbook.model_validate(data)
    except ValidationError as exc:
        raise PlaybookError(problems_from_error(exc)) from exc
    problems = validate_against(playbook, catalog) if catalog is not None else []
    if problems:
        raise PlaybookError(problems)
    return playbook


def _unknown_key(raw_loc: tuple[int | str, ...]) -> str:
    key = str(raw_loc[-1])
    model = _MODEL_AT.get(tuple(p for p in raw_loc[:-1] if isinstance(p, str)))
    if model is None:
        return f"unknown key {key!r}"
    allowed = list(model.model_fields)
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.7)
    hint = f"did you mean {close[0]!r}?" if close else f"allowed: {', '.join(allowed)}"
    return f"unknown key {key!r} ({hint})"


def problems_from_error(exc: ValidationError) -> list[Problem]:
    """Pydantic's errors as problems: tags of the action union left out of the loc, a missing
    key reported at its parent, messages reworded where pydantic's would puzzle an author."""
    problems: list[Problem] = []
    types = ", ".join(ACTION_TYPES)
    for error in exc.errors():
        loc: Loc = tuple(
            part
            for index, part in enumerate(error["loc"])
            if not (index and error["loc"][index - 1] == "action" and part in ACTION_TYPES)
        )
        kind, ctx = error["type"], error.get("ctx") or {}
        if kind == "extra_forbidden":
            message = _unknown_key(error["loc"])
        elif kind == "missing":
            loc, message = loc[:-1], f"missing required key {loc[-1]!r}"
        elif kind == "union_tag_invalid":
            loc = (*loc, "type")
            message = f"unknown action type {ctx.get('tag')!r} (one of: {types})"
        elif kind == "union_tag_not_found":
            message = f"an action needs a `type` (one of: {types})"
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            message = "expected a mapping (key: value)"
        elif kind in ("tuple_type", "list_type"):
            message = "expected a list"
        elif kind == "literal_error":
            message = f"{error['input']!r} is not allowed (expected {ctx.get('expected')})"
        elif kind == "value_error" and "error" in ctx:
            message = str(ctx["error"])
        else:
            message = error["msg"]
        problem = Problem(loc, message)
        if problem not in problems:
            problems.append(problem)
    return problems


def validate_against(playbook: Playbook, catalog: Catalog) -> list[Problem]:
    """Names borrowed from the catalog: severities, roles, services. Service ids are checked
    only when the catalog lists services: without them any service is paged through the
    pager defaults, so an unknown id cannot be told from a real one."""
    problems: list[Problem] = []
    severities = [s.id for s in catalog.severities]
    roles = {r.id for r in catalog.roles}
    services = {s.id.lower() for s in catalog.services}

    def severity(loc: Loc, value: str | None) -> None:
        if value is not None and value not in severities:
            known = ", ".join(severities)
            problems.append(Problem(loc, f"unknown severity {value!r} (known: {known})"))

    def role(loc: Loc, value: str | None) -> None:
        if value is not None and value not in roles:
            known = ", ".join(sorted(roles))
            problems.append(Problem(loc, f"unknown role {value!r} (known: {known})"))

    def service(loc: Loc, value: str) -> None:
        if services and value.lower() not in services:
            known = ", ".join(sorted(s.id for s in catalog.services))
            problems.append(Problem(loc, f"unknown service {value!r} (known: {known})"))

    match = playbook.match
    if match is not None:
        low, high = match.severity_at_least, match.severity_at_most
        severity(("match", "severity_at_least"), low)
        severity(("match", "severity_at_most"), high)
        rank = severities.index
        if low in severities and high in severities and rank(high) > rank(low):
            problems.append(
                Problem(
                    ("match", "severity_at_most"),
                    f"severity_at_most {high} is milder than severity_at_least {low}, so no "
                    f"severity matches (most severe first: {', '.join(severities)})",
                )
            )
        for index, name in enumerate(match.services):
            service(("match", "services", index), name)
    severity(("drill", "severity"), playbook.drill.severity)
    for index, name in enumerate(playbook.roles):
        role(("roles", index), name)
    for index, step in enumerate(playbook.steps):
        role(("steps", index, "owner_role"), step.owner_role)
        action, loc = step.action, ("steps", index, "action")
        if isinstance(action, PageAction):
            service((*loc, "service"), action.service)
        elif isinstance(action, SetSeverityAction):
            severity((*loc, "severity"), action.severity)
        elif isinstance(action, CreateFollowupAction):
            role((*loc, "owner_role"), action.owner_role)
    return problems

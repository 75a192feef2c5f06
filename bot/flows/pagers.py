"""The deployment's pagers: each by its kind, the kind that pages a service the catalog gives
none, and each pager's default target (from its settings) for what the catalog leaves out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from bot.core.catalog import PagerTarget
from bot.core.refusals import Refusal, Refused
from bot.flows.ports import Pager


@runtime_checkable
class NamesTargets(Protocol):
    """A pager that takes one of its own ids typed as is (`/incident page <its service id>`)."""

    def target_named(self, text: str) -> PagerTarget | None: ...


@dataclass(frozen=True)
class Pagers:
    by_kind: Mapping[str, Pager] = field(default_factory=dict)
    default: str | None = None  # None: the first one
    targets: Mapping[str, PagerTarget] = field(default_factory=dict)  # defaults, per kind
    missing: str = "No pager is set up for this bot."  # why paging is refused when none is
    missing_fix: str | None = None  # and what to set up

    def none_set_up(self, what: str) -> Refused:
        """`what` (paging, who is on call) refused: the deployment has no pager."""
        return Refused(Refusal(what, self.missing, fix=self.missing_fix))

    @property
    def enabled(self) -> bool:
        return bool(self.by_kind)

    @property
    def default_kind(self) -> str | None:
        return self.default or next(iter(self.by_kind), None)

    def kind_of(self, target: PagerTarget) -> str | None:
        return target.kind or self.default_kind

    def get(self, kind: str | None) -> Pager | None:
        return self.by_kind.get(kind) if kind else None

    def named(self, name: str) -> Pager | None:
        """The pager whose display name a webhook event carries."""
        return next((p for p in self.by_kind.values() if p.name == name), None)

    def target(self, mapped: PagerTarget | None) -> PagerTarget:
        """A catalog target completed with its pager's defaults (the whole default when the
        catalog maps nothing)."""
        kind = self.kind_of(mapped or PagerTarget())
        base = self.targets.get(kind or "", PagerTarget())
        if mapped is None:
            return base.model_copy(update={"kind": kind})
        return PagerTarget(
            kind=kind,
            service_id=mapped.service_id or base.service_id,
            escalation_policy_id=mapped.escalation_policy_id or base.escalation_policy_id,
            routing_key=mapped.routing_key or base.routing_key,
            responders=mapped.responders or base.responders,
            schedule=mapped.schedule or base.schedule,
        )

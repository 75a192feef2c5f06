"""Where an incident's post-mortem goes: an issue of the tracker or a request of the service
desk, in which project, of which request type. The service's `tracker:` in the catalog first,
then the post-mortem settings, then the deployment's defaults."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.catalog import Catalog


@dataclass(frozen=True)
class TrackerRoute:
    """`desk`: raised as a request of the service desk (else an issue of the tracker).
    `project`: the project's key (None: the tracker's default project); with a desk, the
    linked follow-ups'. `request_type`: the desk's request type (None: the desk's default)."""

    desk: bool
    project: str | None
    request_type: str | None


@dataclass(frozen=True)
class NeedsDesk:
    """The catalog sends this service's post-mortems to a service desk, and none is set up."""

    service: str

    @property
    def reason(self) -> str:
        return (
            f"the catalog sends {self.service}'s post-mortems to a service desk "
            "(`tracker: {kind: service_desk}`) and none is set up"
        )


def route(catalog: Catalog, service: str | None, *, has_desk: bool) -> TrackerRoute | NeedsDesk:
    """The route of the post-mortem of an incident of `service` (None: no service)."""
    found = catalog.service(service)
    target = found.tracker if found is not None else None
    pm = catalog.postmortem
    kind = target.kind if target is not None else None
    if kind == "service_desk" and not has_desk:
        return NeedsDesk(found.id if found is not None else str(service))
    desk = has_desk if kind is None else kind == "service_desk"
    return TrackerRoute(
        desk=desk,
        project=(target.project if target is not None else None) or pm.tracker_project,
        request_type=(target.request_type if target is not None else None) or pm.request_type,
    )

"""Drafting the post-mortem: the incident's facts out of the store, the catalog's template for
its severity or service (Jinja2, Markdown out), responders' text escaped and blame language
marked for the review."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    pass_context,
)
from jinja2.runtime import Context

from bot.core import blame
from bot.core.catalog import Catalog
from bot.core.lifecycle import Refusal, Refused
from bot.core.metrics import humanize
from bot.core.people import render_people
from bot.core.postmortem import (
    Facts,
    FollowupItem,
    Link,
    Postmortem,
    StepItem,
    TimelineItem,
    build,
)
from bot.flows.ports import ConversationLink
from bot.markup import escape_markdown
from bot.store import incident_reads, incidents as q, pages as page_store, postmortems
from bot.store.read_models import IncidentSummary
from bot.store.session import Session

SUFFIX = ".md.j2"


@dataclass(frozen=True)
class Draft:
    postmortem: Postmortem
    template: str
    markdown: str

    @property
    def title(self) -> str:
        facts = self.postmortem.facts
        return f"Post-mortem: #{facts.id} {facts.title}"[:255]


def facts_of(
    session: Session,
    incident: IncidentSummary,
    *,
    public_url: str | None,
    conversation_link: ConversationLink | None = None,
    pager_names: Mapping[str, str] | None = None,
) -> Facts:
    """Everything stored about the incident, in the core's plain values. `conversation_link`:
    the chat surface's link to the incident's conversation (none without it); `pager_names`:
    each pager kind's product name, for the links to the pages."""
    iid = incident.id
    timeline = [
        TimelineItem(r.at, r.kind, r.text, r.actor, r.source)
        for r in incident_reads.timeline(session=session, incident_id=iid)
    ]
    steps = [
        StepItem(s.playbook, s.title, s.state, s.by, s.attached_at, s.at, s.skip_reason, s.result)
        for s in incident_reads.steps(session=session, incident_id=iid)
    ]
    holders = q.roles(session=session, incident_id=iid)
    followups = [
        FollowupItem(
            f.id,
            f.text,
            f.owner or (holders.get(f.owner_role) if f.owner_role else None),
            f.due_on,
            f.state,
            f.tracker_key,
            f.tracker_url,
        )
        for f in incident_reads.followups(session=session, incident_id=iid)
    ]
    alerts = [
        f"{a.name} ({a.source}, {a.starts_at:%Y-%m-%d %H:%M} UTC"
        + (f" – {a.ends_at:%H:%M} UTC)" if a.ends_at else ", still firing)")
        for a in postmortems.alert_spans(session=session, incident_id=iid)
    ]
    links: list[Link] = []
    if incident.conversation_id and conversation_link is not None:
        links.append(Link(*conversation_link(incident.conversation_id, incident.conversation_name)))
    if public_url:
        links.append(Link("Review page", f"{public_url.rstrip('/')}/incidents/{iid}"))
    for page in page_store.pages_of(session=session, incident_id=iid):
        if page.html_url:
            pager = (pager_names or {}).get(page.pager, page.pager.capitalize())
            links.append(Link(f"{pager} incident ({page.service or page.target})", page.html_url))
    return Facts(
        id=iid,
        title=incident.title,
        severity=incident.severity,
        status=incident.status,
        service=incident.service,
        description=incident.description,
        summary=incident.summary,
        private=incident.private,
        drill=incident.drill,
        milestones=q.milestones(session=session, incident_id=iid),
        timeline=timeline,
        steps=steps,
        followups=followups,
        roles=holders,
        alerts=alerts,
        links=links,
    )


class _Templates(Environment):
    """Templates written before the follow-ups' tracker fields were neutral still read them by
    their old names (`aliases`: old → new, as the tracker's adapter names them)."""

    def __init__(self, aliases: Mapping[str, str], **options: Any) -> None:
        super().__init__(**options)
        self.aliases = dict(aliases)

    def getattr(self, obj: object, attribute: str) -> object:
        if isinstance(obj, FollowupItem):
            attribute = self.aliases.get(attribute, attribute)
        return super().getattr(obj, attribute)


class Drafter:
    """Renders post-mortems from a templates directory (postmortem_templates/ by default)."""

    def __init__(
        self,
        catalog: Catalog,
        directory: Path,
        sources: Mapping[str, str] | None = None,
        *,
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        """`sources`: the products behind the neutral sources (`chat` → the chat's name);
        `aliases`: old names of the follow-ups' fields that templates may still use."""
        self.catalog = catalog
        self.directory = directory
        self.env = _Templates(
            aliases or {},
            loader=FileSystemLoader(str(directory)),
            undefined=StrictUndefined,  # a typo in a template fails loudly, not silently empty
            autoescape=False,  # Markdown, not HTML: responders' text goes through md/flag
            keep_trailing_newline=True,
        )
        self.env.filters.update(FILTERS)
        products = dict(sources or {})

        def source(value: str | None) -> str:
            return escape_markdown(products.get(value, value)) if value else "—"

        self.env.filters["source"] = source

    def render(self, facts: Facts, now: datetime, names: Mapping[str, str] | None = None) -> Draft:
        postmortem = build(facts, self.catalog, now)
        name = self.catalog.postmortem.template_for(facts.severity, facts.service)
        try:
            template = self.env.get_template(name + SUFFIX)
        except TemplateNotFound as exc:
            why = f"No post-mortem template `{name}` ({self.directory / (name + SUFFIX)})."
            fix = "Add it, or fix `postmortem.template` in the catalog."
            raise Refused(Refusal("draft the post-mortem", why, fix=fix)) from exc
        return Draft(postmortem, name, template.render(pm=postmortem, names=dict(names or {})))


def _filters() -> dict[str, Callable[..., str]]:
    def utc(at: datetime | None) -> str:
        return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if at else "—"

    def dur(delta: timedelta | None) -> str:
        return humanize(delta)

    @pass_context
    def person(context: Context, user: str | None) -> str:
        """A chat user's name (the export looks them up), else their id."""
        names: Mapping[str, str] = context.get("names") or {}
        return escape_markdown(names.get(user, user)) if user else "—"

    def said(context: Context, text: str) -> str:
        """A sentence's person references as `@name` (or `@id`), then escaped as Markdown."""
        names: Mapping[str, str] = context.get("names") or {}
        return escape_markdown(render_people(text, lambda user: "@" + names.get(user, user)))

    @pass_context
    def flag(context: Context, text: str | None) -> str:
        found = blame.find(text or "")
        marked = said(context, text or "")
        if found:
            words = ", ".join(f"“{escape_markdown(w)}”" for w in found)
            return f"**[review: blame language {words}]** {marked}"
        return marked

    @pass_context
    def md(context: Context, text: object) -> str:
        return said(context, "" if text is None else str(text))

    return {"utc": utc, "dur": dur, "person": person, "flag": flag, "md": md}


FILTERS = _filters()

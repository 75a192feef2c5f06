"""Parse the text of `/incident …` into a request. Pure; the surface says which words mention a
person (`Reader.person`), so the parser knows no chat's mention syntax."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from bot.core.catalog import Catalog
from bot.core.command_requests import (
    Ack as Ack,
    AddFollowup as AddFollowup,
    Close as Close,
    Declare as Declare,
    Drill as Drill,
    Help as Help,
    Invalid as Invalid,
    ListFollowups as ListFollowups,
    ListOpen as ListOpen,
    MakeVisible as MakeVisible,
    Note as Note,
    OnCall as OnCall,
    Page as Page,
    PlaybookRequest as PlaybookRequest,
    Postmortem as Postmortem,
    Request as Request,
    Review as Review,
    SetRole as SetRole,
    SetSeverity as SetSeverity,
    SetStatus as SetStatus,
    Timestamps as Timestamps,
)

# What the parser echoes of a word it did not understand: only plain words, so no surface's
# markup can come back through a reply.
_ECHO = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


def _nobody(_word: str) -> str | None:
    return None


@dataclass(frozen=True)
class Reader:
    """What a sub-command's parser reads with: the catalog, and the surface's rule for a word
    that mentions a person (its id, or None)."""

    catalog: Catalog
    person: Callable[[str], str | None] = _nobody


@dataclass(frozen=True)
class Subcommand:
    """One `/incident` sub-command: the single place its name, aliases, usage, the help line,
    who may run it and its parser are written. The help reply, the app manifest's usage hint and
    the README's table are generated from or checked against these."""

    name: str
    usage: str  # the arguments after the name, e.g. "[sev1..sev4] [title]"
    # the help line, in the surface's neutral words (each surface may add its own hint: how it is
    # done there); {statuses} and {roles} are filled from the catalog
    summary: str
    who: str  # who may run it, and where
    parse: Callable[[str, Reader], Request]
    aliases: tuple[str, ...] = ()
    hint: bool = False  # one of the few the manifest's usage hint shows

    def command(self, catalog: Catalog | None = None) -> str:
        """The sub-command as typed: `declare [sev1..sev4] [title]`."""
        name = self.name
        if name == ROLE and catalog is not None:
            name = "|".join(r.id for r in catalog.roles)
        return f"{name} {self.usage}".strip()


ROLE = "<role>"  # the catalog's role ids (commander, comms, scribe …) are sub-commands too
ANYONE = "anyone, anywhere"
IN_CHANNEL = "anyone in the incident's channel"
COMMANDER = "the commander or a catalog `admins` member, in the incident's channel"


def parse(text: str, catalog: Catalog, person: Callable[[str], str | None] = _nobody) -> Request:
    """`person(word)`: the id of the person a word mentions on the surface the text came from."""
    reader = Reader(catalog, person)
    words = text.strip().split(maxsplit=1)
    if not words:
        return Help()
    sub, rest = words[0].lower(), (words[1].strip() if len(words) > 1 else "")
    entry = _BY_NAME.get(sub)
    if entry is not None:
        return entry.parse(rest, reader)
    role = catalog.find_role(sub)
    if role is not None and role.id == sub:
        return _role(role.id, rest, reader)
    return Help(unknown=sub)


def usage_hint() -> str:
    """The chat app's usage hint for `/incident` (the app manifest carries this text)."""
    return " | ".join(e.command() for e in SUBCOMMANDS if e.hint)


def _status(rest: str, reader: Reader) -> Request:
    catalog = reader.catalog
    if not rest:
        return Invalid(f"Which status? `/incident status <{'|'.join(_status_ids(catalog))}>`")
    status, _, summary = rest.partition(" ")
    if catalog.find_status(status) is None:
        return Invalid(
            f"Unknown status{f' `{status}`' if _ECHO.match(status) else ''}; "
            f"use one of {_listing(_status_ids(catalog))}."
        )
    return SetStatus(status.lower(), summary.strip() or None)


def _severity(rest: str, reader: Reader) -> Request:
    catalog = reader.catalog
    if catalog.find_severity(rest) is None:
        ids = [s.id.lower() for s in catalog.severities]
        return Invalid(f"Which severity? `/incident severity <{'|'.join(ids)}>`")
    return SetSeverity(rest)


def _note(rest: str, _reader: Reader) -> Request:
    return Note(rest) if rest else Invalid("A note needs text: `/incident note <text>`")


def _resolve(rest: str, reader: Reader) -> Request:
    catalog = reader.catalog
    resolved = next(s.id for s in catalog.statuses if s.phase.value == "resolved")
    return SetStatus(resolved, rest or None)


def _page(rest: str, _reader: Reader) -> Request:
    if not rest or len(rest.split()) != 1:
        return Invalid(
            "Which service? `/incident page <service>` (see `/incident oncall` for who is on call)."
        )
    return Page(rest)


def _drill(rest: str, _reader: Reader) -> Request:
    if not rest or len(rest.split()) != 1:
        return Invalid(
            "Which playbook? `/incident drill <playbook>` (see `/incident playbook` in an incident, or playbooks/)."
        )
    return Drill(rest.split()[0])


def _postmortem(rest: str, _reader: Reader) -> Request:
    if rest.lower() not in ("", "export"):
        return Invalid(
            "`/incident postmortem` previews the draft; `/incident postmortem export` drafts it into the tracker."
        )
    return Postmortem(export=rest.lower() == "export")


def _role(role: str, rest: str, reader: Reader) -> Request:
    if not rest:
        return SetRole(role, None)
    user = reader.person(rest.split()[0])
    if user is None:
        return Invalid(f"Mention the person: `/incident {role} @name` (or no name to claim).")
    return SetRole(role, user)


def _first_word(rest: str) -> str | None:
    return rest.split()[0] if rest else None


def _declare(rest: str, reader: Reader) -> Request:
    catalog = reader.catalog
    # "sev2 Title" or a catalog id first; a plain word such as "Critical" starts a title instead.
    first, _, remainder = rest.partition(" ")
    if first.upper() in {s.id for s in catalog.severities}:
        return Declare(first.upper(), remainder.strip() or None)
    return Declare(None, rest or None)


def _visibility(rest: str) -> Request:
    wanted = rest.lower()
    if wanted == "public":
        return MakeVisible()
    if wanted == "private":
        return Invalid(
            "An incident can't be made private once declared: it may already be in the feed. "
            "Declare a new private incident instead: `/incident declare`, and mark it private in"
            " the form."
        )
    return Invalid("`/incident visibility public` makes a private incident visible to everyone.")


FOLLOWUP_USAGE = "`/incident followup <what needs doing> [@owner] [due YYYY-MM-DD]`"


def _followup(rest: str, reader: Reader) -> Request:
    """`<text> [@owner] [due YYYY-MM-DD]`: owner and due date are read off the end, in any order."""
    words = rest.split()
    owner: str | None = None
    due_on: date | None = None
    for _ in range(2):
        if len(words) >= 2 and words[-2].lower() == "due" and due_on is None:
            try:
                due_on = date.fromisoformat(words[-1])
            except ValueError:
                return Invalid(
                    f"`{words[-1]}` is not a date: write it as YYYY-MM-DD, e.g. due 2026-12-01."
                )
            words = words[:-2]
        elif words and owner is None and (user := reader.person(words[-1])):
            owner = user
            words = words[:-1]
    text = " ".join(words)
    if not text:
        return Invalid(f"A follow-up needs to say what needs doing: {FOLLOWUP_USAGE}.")
    if len(text) > 1000:
        return Invalid("A follow-up is at most 1000 characters; link a document for the rest.")
    return AddFollowup(text, owner, due_on)


def _status_ids(catalog: Catalog) -> list[str]:
    return [s.id for s in catalog.statuses if s.phase.value != "closed"]


def _listing(ids: list[str]) -> str:
    return ", ".join(f"`{i}`" for i in ids)


def _is(request: Request) -> Callable[[str, Reader], Request]:
    return lambda _rest, _reader: request


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        "declare",
        "[sev1..sev4] [title]",
        "Declare an incident (no title opens a form: title, severity, description, impact start, private)",
        ANYONE,
        _declare,
        hint=True,
    ),
    Subcommand(
        "status", "<state>", "Change the status: {statuses}", IN_CHANNEL, _status, hint=True
    ),
    Subcommand(
        "severity",
        "<sevN>",
        "Change the severity (a SEV1's only by the commander or an admin)",
        IN_CHANNEL,
        _severity,
        aliases=("sev",),
    ),
    Subcommand(
        ROLE,
        "[@user]",
        "Assign a role (no user: claim it yourself)",
        IN_CHANNEL,
        lambda rest, _reader: Help(),  # parsed by the catalog's role ids, see parse()
    ),
    Subcommand(
        "ack",
        "",
        "Acknowledge the incident (stamps acknowledged_at)",
        IN_CHANNEL,
        _is(Ack()),
        aliases=("acknowledge",),
        hint=True,
    ),
    Subcommand(
        "note",
        "<text>",
        "Add a note to the timeline (or pin a message by reacting to it)",
        IN_CHANNEL,
        _note,
        hint=True,
    ),
    Subcommand("resolve", "[summary]", "Mark the incident resolved", IN_CHANNEL, _resolve),
    Subcommand(
        "close",
        "",
        "Close a resolved incident: drafts the post-mortem into the tracker, then archives the channel",
        COMMANDER + " (anyone while nobody commands)",
        _is(Close()),
    ),
    Subcommand(
        "visibility",
        "public",
        "Make a private incident visible to everyone: announced in the feed",
        COMMANDER,
        lambda rest, _reader: _visibility(rest),
    ),
    Subcommand(
        "followup",
        "<text> [@owner] [due YYYY-MM-DD]",
        "Record a follow-up action (or make one from a message)",
        IN_CHANNEL,
        _followup,
        aliases=("follow-up",),
        hint=True,
    ),
    Subcommand(
        "followups",
        "",
        "List the follow-ups with owners, due dates, state and tracker keys",
        IN_CHANNEL,
        _is(ListFollowups()),
        aliases=("follow-ups",),
    ),
    Subcommand(
        "timestamps",
        "",
        "See the milestones with their sources; the commander or an admin corrects them (the original stays on the timeline)",
        IN_CHANNEL,
        _is(Timestamps()),
        aliases=("milestones", "times"),
    ),
    Subcommand(
        "postmortem",
        "[export]",
        "Preview the post-mortem draft; `export` drafts it into the tracker now (again: the same issue)",
        IN_CHANNEL,
        _postmortem,
        aliases=("post-mortem",),
        hint=True,
    ),
    Subcommand(
        "review",
        "",
        "A sign-in link to this incident's review page (for you only)",
        IN_CHANNEL,
        _is(Review()),
    ),
    Subcommand(
        "page",
        "<service>",
        "Page a service's on-call (they join the open page if there already is one)",
        IN_CHANNEL,
        _page,
        hint=True,
    ),
    Subcommand(
        "oncall",
        "[service]",
        "Who is on call now",
        ANYONE,
        lambda rest, _reader: OnCall(_first_word(rest)),
        aliases=("on-call",),
    ),
    Subcommand(
        "playbook",
        "[name]",
        "List the playbooks that match, or attach one",
        IN_CHANNEL,
        lambda rest, _reader: PlaybookRequest(_first_word(rest)),
        aliases=("playbooks",),
    ),
    Subcommand(
        "drill",
        "<playbook>",
        "Start a practice incident (game day) from a playbook",
        ANYONE,
        _drill,
    ),
    Subcommand(
        "list", "", "Show open incidents (private ones are not listed)", ANYONE, _is(ListOpen())
    ),
    Subcommand("help", "", "Show this help", ANYONE, _is(Help()), aliases=("?",), hint=True),
)

_BY_NAME: dict[str, Subcommand] = {
    name: entry
    for entry in SUBCOMMANDS
    if entry.name != ROLE
    for name in (entry.name, *entry.aliases)
}

"""`incidentbot slack`: act as a Slack user against a running bot whose Slack is the emulator
(``incidentbot sandbox``, or ``incidentbot serve`` pointed at ``python -m bot.emulators.slack``).

    incidentbot slack [--as alice] [--in #general] "/incident declare Checkout is down"
    incidentbot slack --in #inc-… "p99 doubled after deploy 1.2.3"     # a message
    incidentbot slack click Acknowledge          # the newest bot message with that button
    incidentbot slack react :pushpin: last       # a reaction (last: the newest message)
    incidentbot slack shortcut "Add follow-up"   # a message shortcut on the newest message
    incidentbot slack submit title="Checkout down" severity=SEV2        # the open form
    incidentbot slack show #inc-…                # a channel's recent messages

Each prints what the user would see once the bot has finished: replies only they can see,
new and updated messages in the channels they can see, and a form a command opened.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from bot.cli_slack_client import Control, SlackCliError, locate, manifest_shortcut
from bot.cli_slack_render import Names, form, message

VALUE_OPTIONS = {"--as", "--in", "--wait", "--slack-url", "--secret"}  # shared: moved first
OWN_VALUE_OPTIONS = {"--ts", "--thread", "--limit", "--since"}  # a subcommand's, left in place


def route(args: list[str], commands: set[str]) -> list[str]:
    """The shared options (wherever typed) first, then the subcommand (``say`` when the first
    word is none: ``incidentbot slack "/incident declare"``), then the rest."""
    shared: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        if word == "--":
            rest += args[index:]
            break
        name = word.split("=", 1)[0]
        if name in VALUE_OPTIONS:
            take = 1 if "=" in word else 2
            shared += args[index : index + take]
            index += take
            continue
        rest.append(word)
        index += 1
    before_dashes = rest[: rest.index("--")] if "--" in rest else rest
    words = [
        t
        for i, t in enumerate(before_dashes)
        if (not t.startswith("-") or t == "-")
        and not (i and before_dashes[i - 1] in OWN_VALUE_OPTIONS)
    ]
    first = words[0] if words else None
    if first in commands:
        rest.remove(first)
        return [*shared, first, *rest]
    if first is None and any(t in ("--help", "-h") for t in rest):
        return [*shared, *rest]
    return [*shared, "say", *rest]


class SlackGroup(TyperGroup):
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args:
            args = route(args, set(self.commands))
        return super().parse_args(ctx, args)


slack_app = typer.Typer(
    cls=SlackGroup,
    help="Act as a Slack user against the running bot (the sandbox's emulated Slack).",
    no_args_is_help=True,
)


@dataclass
class Session:
    control: Control
    user: str
    channel: str | None
    wait: float

    def act(self, endpoint: str, **body: Any) -> None:
        outcome = self.control.post(
            endpoint, {"as": self.user, "channel": self.channel, "wait": self.wait, **body}
        )
        names = Names.of(self.control.get("directory"))
        print("\n".join(report(outcome, names)))
        if outcome.get("errors"):
            raise typer.Exit(1)  # the form was not accepted: scripts can tell

    def names(self) -> Names:
        return Names.of(self.control.get("directory"))


def _session(ctx: typer.Context) -> Session:
    session = ctx.obj
    assert isinstance(session, Session)
    return session


@slack_app.callback()
def slack_options(
    ctx: typer.Context,
    user: Annotated[
        str, typer.Option("--as", envvar="INCIDENTBOT_SLACK_AS", help="Who you are in Slack.")
    ] = "alice",
    channel: Annotated[
        str | None,
        typer.Option(
            "--in", help="The channel (#name or id); default: where you last acted, else the feed."
        ),
    ] = None,
    wait: Annotated[
        float, typer.Option("--wait", help="Seconds to wait at most for the bot to finish.")
    ] = 10.0,
    slack_url: Annotated[
        str | None,
        typer.Option("--slack-url", help="The emulator's Web API URL (default: the sandbox's)."),
    ] = None,
    secret: Annotated[
        str | None,
        typer.Option("--secret", help="The emulator's signing secret (default: the sandbox's)."),
    ] = None,
) -> None:
    """Act as a Slack user against the running bot (the sandbox's emulated Slack).

    TEXT starting with / is a slash command; other text is a message in the channel."""
    try:
        where = locate(slack_url, secret)
    except SlackCliError as exc:
        _fail(exc)
    ctx.obj = Session(Control(where, timeout=wait + 30), user, channel, wait)


def _fail(exc: SlackCliError) -> typer.Exit:
    print(f"incidentbot slack: {exc}", file=sys.stderr)
    raise typer.Exit(2)


def _run(ctx: typer.Context, endpoint: str, **body: Any) -> None:
    try:
        _session(ctx).act(endpoint, **body)
    except SlackCliError as exc:
        _fail(exc)


@slack_app.command("say")
def say(
    ctx: typer.Context,
    text: Annotated[list[str], typer.Argument(help="A /command with its text, or a message.")],
    thread: Annotated[
        str | None, typer.Option("--thread", help="Reply in the thread of this message ts.")
    ] = None,
) -> None:
    """Run a slash command (text starting with /) or post a message in the channel."""
    joined = " ".join(text).strip()
    if joined.startswith("/"):
        command, _, rest = joined.partition(" ")
        _run(ctx, "command", command=command, text=rest)
    else:
        _run(ctx, "message", text=joined, thread_ts=thread)


@slack_app.command("click")
def click(
    ctx: typer.Context,
    button: Annotated[str, typer.Argument(help="The button's label (or action_id).")],
    ts: Annotated[str | None, typer.Option("--ts", help="On this message only.")] = None,
) -> None:
    """Click a button: on the open form, else on the newest bot message that has it."""
    _run(ctx, "click", button=button, ts=ts)


@slack_app.command("select")
def select(
    ctx: typer.Context,
    menu: Annotated[str, typer.Argument(help="The menu's placeholder (or action_id).")],
    value: Annotated[str, typer.Argument(help="The option (its value or its text).")],
    ts: Annotated[str | None, typer.Option("--ts", help="On this message only.")] = None,
) -> None:
    """Pick an option in a menu on the newest bot message that has it."""
    _run(ctx, "select", menu=menu, value=value, ts=ts)


@slack_app.command("react")
def react(
    ctx: typer.Context,
    emoji: Annotated[str, typer.Argument(help="The reaction, e.g. :pushpin:.")],
    ts: Annotated[str, typer.Argument(help="The message's ts, or last.")] = "last",
) -> None:
    """Add a reaction to a message in the channel (:pushpin: puts it on the timeline)."""
    _run(ctx, "react", name=emoji, ts=ts)


@slack_app.command("shortcut")
def shortcut(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Its name in the app manifest, or its callback_id.")],
    ts: Annotated[
        str | None, typer.Argument(help="A message shortcut's message: its ts, or last.")
    ] = None,
) -> None:
    """Run a shortcut: a message one ("Add follow-up") on a message, else a global one."""
    callback_id, on_message = manifest_shortcut(name)
    _run(ctx, "shortcut", callback_id=callback_id, ts=ts or ("last" if on_message else None))


@slack_app.command("submit")
def submit(
    ctx: typer.Context,
    fields: Annotated[
        list[str] | None, typer.Argument(help="field=value (by label or block id), …")
    ] = None,
) -> None:
    """Submit the open form with these fields (untouched fields keep what they show)."""
    values: dict[str, str] = {}
    for item in fields or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            _fail(SlackCliError(f"{item!r} is not field=value"))
        values[key.strip()] = value
    _run(ctx, "submit", values=values)


@slack_app.command("cancel")
def cancel(ctx: typer.Context) -> None:
    """Close the open form without submitting it."""
    _run(ctx, "cancel")


@slack_app.command("form")
def show_form(ctx: typer.Context) -> None:
    """Print the form you have open."""
    session = _session(ctx)
    try:
        view = session.control.get("view", **{"as": session.user})["view"]
        names = session.names()
    except SlackCliError as exc:
        _fail(exc)
    print("\n".join(form(view, names)) if view else "You have no form open.")


@slack_app.command("show")
def show(
    ctx: typer.Context,
    channel: Annotated[str | None, typer.Argument(help="#name (default: as --in).")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many messages.")] = 20,
    since: Annotated[str | None, typer.Option("--since", help="Only after this ts.")] = None,
) -> None:
    """Print a channel's recent messages (and the cursor to pass as --since next time)."""
    session = _session(ctx)
    try:
        query = {
            "as": session.user,
            "channel": channel or session.channel,
            "default_channel": session.control.where.default_channel,
            "limit": limit,
        }
        answer = session.control.get("messages", **query, since=since)
        names = session.names()
    except SlackCliError as exc:
        _fail(exc)
    print(names.channel(answer["channel"]))
    for item in answer["messages"]:
        print("\n".join(message(item, names)))
    if not answer["messages"]:
        print("  (no messages)")
    print(f"(cursor: {answer['cursor']})")


def report(outcome: dict[str, Any], names: Names) -> list[str]:
    """What the user saw change, in the order they would notice it."""
    lines: list[str] = []
    reply = outcome.get("reply") or {}
    if reply.get("error"):
        lines.append(f"Slack: the bot's answer failed ({reply['error']})")
    for channel_id in dict.fromkeys(e["channel"] for e in outcome.get("ephemerals") or []):
        lines.append(f"Only visible to you, in {names.channel(channel_id)}:")
        for item in outcome["ephemerals"]:
            if item["channel"] == channel_id:
                lines += message(item, names)
    changed = outcome.get("messages") or []
    first = {
        c: min((m["ts"] for m in changed if m.get("channel") == c), default="")
        for c in outcome.get("channels") or {}
    }
    for channel_id, info in sorted(
        (outcome.get("channels") or {}).items(), key=lambda c: first[c[0]]
    ):
        marks = (
            []
            if info.get("is_im")
            else [
                m
                for m, on in (
                    ("new channel", info.get("new")),
                    ("you were added", info.get("joined")),
                )
                if on
            ]
        )
        title = "Direct messages from incidentbot" if info.get("is_im") else f"#{info.get('name')}"
        lines.append(title + (f"  ({', '.join(marks)})" if marks else ""))
        for item in changed:
            if item.get("channel") == channel_id:
                lines += message(item, names)
    if outcome.get("errors"):
        lines.append("The form was not accepted:")
        lines += [f"  {field}: {why}" for field, why in outcome["errors"].items()]
    if outcome.get("view"):
        lines += form(outcome["view"], names)
    elif outcome.get("view_closed"):
        lines.append("(the form closed)")
    if outcome.get("now_in"):
        lines.append(f"(you are now in {names.channel(outcome['now_in'])}: --in to act elsewhere)")
    if not outcome.get("settled", True):
        lines.append("(the bot is still working: `incidentbot slack show` to see more later)")
    return lines or ["(nothing you can see changed)"]

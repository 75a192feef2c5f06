"""The emulator's control API: a remote client acts as a named user of the emulated Slack
(what ``incidentbot slack`` drives), on the emulator's own HTTP server under ``/_emulator/``.

Every request needs ``Authorization: Bearer <signing secret>`` (the emulator's signing secret:
whoever may sign requests as Slack may act as its users; a stray local process may not).
Actions take a JSON body with ``as`` (a user name or id) and answer what that user saw change::

    POST /_emulator/command  {"as", "command": "/incident", "text", "channel"?}
    POST /_emulator/message  {"as", "text", "channel"?, "thread_ts"?}
    POST /_emulator/click    {"as", "button": label or action_id, "channel"?, "ts"?}
    POST /_emulator/select   {"as", "menu": placeholder or action_id, "value", "channel"?, "ts"?}
    POST /_emulator/submit   {"as", "values": {label or block_id: value}}
    POST /_emulator/cancel   {"as"}
    POST /_emulator/react    {"as", "name": "pushpin", "ts": ts or "last", "channel"?}
    POST /_emulator/shortcut {"as", "callback_id", "ts"?: on that message (or "last"), "channel"?}
    GET  /_emulator/messages?as=&channel=&since=&limit=
    GET  /_emulator/view?as=
    GET  /_emulator/directory

An action's answer: ``reply`` (the bot's immediate answer), ``ephemerals`` (new, to the user),
``messages`` (new or ``updated`` in channels the user can see), ``channels`` (those channels;
``new``, ``joined``), ``view`` (a modal that opened or changed), ``view_closed``, ``errors``
(a submission the bot refused, keyed by block_id, as Slack shows them) and ``settled`` (the bot
went quiet before ``wait`` seconds ran out; see ``control_watch``). Without ``channel``, an
action happens where the user last acted (or in the new channel the bot last added them to:
``now_in``), else in ``default_channel``, else #general; a click looks at every channel the
user can see. Errors: ``{"ok": false, "error", "detail"}``.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from ..common.server import Answer, Request
from . import control_find as find
from .control_find import NotFound
from .control_side import Params, SlackSide
from .control_watch import IdleProbe, changes, open_view, settle, snapshot
from .records import JSON, Channel
from .shapes import message_json
from .transport import BotReply

PREFIX = "/_emulator/"
MAX_WAIT_S = 60.0
Fire = Callable[[], BotReply | None]


class Control:
    """Drives ``emu`` as its users on behalf of remote clients (see the module doc)."""

    def __init__(self, emu: SlackSide) -> None:
        self.emu = emu
        self.idle_probe: IdleProbe | None = None  # e.g. the in-process bot's wait_idle
        self.quiet_s = 1.5
        self.last_channel: dict[str, str] = {}
        self.routes: dict[tuple[str, str], Callable[[Params], JSON]] = {
            ("POST", "command"): self.command,
            ("POST", "message"): self.message,
            ("POST", "click"): self.click,
            ("POST", "select"): self.select,
            ("POST", "submit"): self.submit,
            ("POST", "cancel"): self.cancel,
            ("POST", "react"): self.react,
            ("POST", "shortcut"): self.shortcut,
            ("GET", "messages"): self.messages,
            ("GET", "view"): self.view,
            ("GET", "directory"): self.directory,
        }

    # ------------------------------------------------------------------ HTTP
    def answer(self, request: Request) -> Answer:
        auth = request.headers.get("authorization", "")
        if not auth.lower().startswith("bearer "):
            return _error(401, "not_authed", "send Authorization: Bearer <the signing secret>")
        if not hmac.compare_digest(auth[7:].strip().encode(), self.emu.signing_secret.encode()):
            return _error(401, "invalid_auth", "that is not the emulator's signing secret")
        route = self.routes.get((request.command, request.path[len(PREFIX) :].strip("/")))
        if route is None:
            known = sorted(f"{verb} {PREFIX}{name}" for verb, name in self.routes)
            return _error(404, "unknown_endpoint", f"the control API has {known}")
        params = _params(request)
        if params is None:
            return _error(400, "invalid_json", "the body must be a JSON object")
        try:
            data = route(Params(params))
        except NotFound as exc:
            return _error(exc.status, exc.error, exc.detail)
        except (LookupError, ValueError) as exc:  # what the emulator's user-side refuses
            detail = exc.args[0] if exc.args else type(exc).__name__
            return _error(400, "refused", str(detail))
        except RuntimeError as exc:  # no bot_url and no Socket Mode connection
            return _error(409, "no_bot", f"the emulator cannot reach a bot: {exc}")
        return Answer(200, json.dumps({"ok": True, **data}))

    # ------------------------------------------------------------- plumbing
    def _act(self, p: Params, prepare: Callable[[str], tuple[Fire, str | None]]) -> JSON:
        """Looks up under the lock, acts without it (the bot calls the Web API back), waits
        for the bot, and reports what the user saw change."""
        ws = self.emu.ws
        with self.emu._lock:
            user_id = find.user(ws, p.text("as"))
            fire, channel_id = prepare(user_id)
            before = snapshot(ws, user_id)
        reply = fire()
        wait = min(max(p.number("wait", 10.0), 0.0), MAX_WAIT_S)
        settled = settle(
            lambda: len(self.emu.calls),
            self.idle_probe,
            wait_s=wait,
            quiet_s=p.number("quiet", self.quiet_s),
        )
        with self.emu._lock:
            out = changes(ws, user_id, before)
        added = [
            c
            for c, info in out["channels"].items()
            if info["new"] and info["joined"] and not info.get("is_im")
        ]
        if len(added) == 1:  # the bot made a channel for you (a declare): act there next
            self.last_channel[user_id] = added[0]
            out["now_in"] = added[0]
        out.update(user=user_id, channel=channel_id, settled=settled, reply=_reply(reply))
        if reply is not None and reply.view_errors:
            out["errors"] = dict(reply.view_errors)
        return out

    def _where(self, p: Params, user_id: str) -> Channel:
        """The channel named, else where the user last acted, else the default, else #general."""
        ws, named = self.emu.ws, p.optional("channel")
        last = ws.channels.get(self.last_channel.get(user_id, ""))
        if named is None and last is not None and find.visible(ws, last, user_id):
            channel = last
        else:
            channel = find.channel(ws, named or p.optional("default_channel") or "general", user_id)
        self.last_channel[user_id] = channel.id
        return channel

    def _scope(self, p: Params, user_id: str) -> list[Channel]:
        """Where to look for a button: the channel named, else every channel the user sees."""
        named = p.optional("channel")
        if named is not None:
            return [self._where(p, user_id)]
        return find.visible_channels(self.emu.ws, user_id)

    # -------------------------------------------------------------- actions
    def command(self, p: Params) -> JSON:
        text = p.text("text", "")
        command = p.optional("command")
        if command is None:
            command, _, text = text.strip().partition(" ")
        if not command.startswith("/"):
            raise NotFound("invalid_command", f"a slash command starts with '/': {command!r}", 400)

        def prepare(user_id: str) -> tuple[Fire, str]:
            channel = self._where(p, user_id)
            return (lambda: self.emu.send_command(user_id, channel.id, text, command)), channel.id

        return self._act(p, prepare)

    def message(self, p: Params) -> JSON:
        text, thread_ts = p.text("text"), p.optional("thread_ts")

        def prepare(user_id: str) -> tuple[Fire, str]:
            channel = self._where(p, user_id)

            def fire() -> None:
                self.emu.post_user_message(user_id, channel.id, text, thread_ts=thread_ts)

            return fire, channel.id

        return self._act(p, prepare)

    def click(self, p: Params) -> JSON:
        wanted, ts = p.text("button"), p.optional("ts")

        def prepare(user_id: str) -> tuple[Fire, str | None]:
            stack = self.emu.ws.stack(user_id)
            if stack and p.optional("channel") is None and ts is None:
                view_id = stack[-1]
                blocks = self.emu.ws.views[view_id].body.get("blocks") or []
                in_view = find.view_button(blocks, wanted)
                if in_view is not None:
                    action_id, block_id = in_view
                    emu = self.emu
                    return (
                        lambda: emu.click_view_button(user_id, view_id, action_id, block_id)
                    ), None
            target = find.element_on_messages(
                self.emu.ws, user_id, wanted, self._scope(p, user_id), buttons=True, ts=ts
            )
            self.last_channel[user_id] = target.channel_id
            return (
                lambda: self.emu.click_button(
                    user_id, target.channel_id, target.ts, target.action_id, None, target.block_id
                )
            ), target.channel_id

        return self._act(p, prepare)

    def select(self, p: Params) -> JSON:
        wanted, ts, raw = p.text("menu"), p.optional("ts"), p.data.get("value")

        def prepare(user_id: str) -> tuple[Fire, str]:
            ws = self.emu.ws
            target = find.element_on_messages(
                ws, user_id, wanted, self._scope(p, user_id), buttons=False, ts=ts
            )
            value = find.typed_value(ws, target.element, raw, wanted)
            self.last_channel[user_id] = target.channel_id
            return (
                lambda: self.emu.select_option(
                    user_id, target.channel_id, target.ts, target.action_id, value, target.block_id
                )
            ), target.channel_id

        return self._act(p, prepare)

    def _top_view(self, user_id: str) -> str:
        stack = self.emu.ws.stack(user_id)
        if not stack:
            raise NotFound(
                "no_open_view", "you have no form open: run a command that opens one first", 409
            )
        return stack[-1]

    def submit(self, p: Params) -> JSON:
        given = p.data.get("values") or {}
        if not isinstance(given, dict):
            raise NotFound("invalid_argument", "'values' must be an object", 400)

        def prepare(user_id: str) -> tuple[Fire, None]:
            view_id = self._top_view(user_id)
            blocks = self.emu.ws.views[view_id].body.get("blocks") or []
            values = find.form_values(self.emu.ws, blocks, given)
            return (lambda: self.emu.submit_view(user_id, view_id, values)), None

        return self._act(p, prepare)

    def cancel(self, p: Params) -> JSON:
        def prepare(user_id: str) -> tuple[Fire, None]:
            view_id = self._top_view(user_id)
            return (lambda: self.emu.close_view(user_id, view_id)), None

        return self._act(p, prepare)

    def react(self, p: Params) -> JSON:
        name, ts = p.text("name").strip().strip(":"), p.text("ts", "last")

        def prepare(user_id: str) -> tuple[Fire, str]:
            channel = self._where(p, user_id)
            target = find.message(self.emu.ws, channel.id, ts)
            emu = self.emu
            return (lambda: emu.add_reaction(user_id, channel.id, target.ts, name)), channel.id

        return self._act(p, prepare)

    def shortcut(self, p: Params) -> JSON:
        callback_id, ts = p.text("callback_id"), p.optional("ts")

        def prepare(user_id: str) -> tuple[Fire, str | None]:
            emu = self.emu
            if ts is None:
                return (lambda: emu.shortcut(user_id, callback_id)), None
            channel = self._where(p, user_id)
            target = find.message(emu.ws, channel.id, ts)
            fire = lambda: emu.message_shortcut(user_id, channel.id, target.ts, callback_id)  # noqa: E731
            return fire, channel.id

        return self._act(p, prepare)

    # ---------------------------------------------------------------- reads
    def messages(self, p: Params) -> JSON:
        ws, since = self.emu.ws, p.text("since", "0")
        try:
            after = float(since)
        except ValueError:
            raise NotFound(
                "invalid_argument", f"since={since!r} is not a message ts", 400
            ) from None
        limit = max(1, min(int(p.number("limit", 20)), 1000))
        with self.emu._lock:
            user_id = find.user(ws, p.text("as"))
            channel = self._where(p, user_id)
            newer = [m for m in ws.messages.get(channel.id, []) if float(m.ts) > after]
            shown = [message_json(ws, m) for m in newer[-limit:]]
            cursor = newer[-1].ts if newer else since
            return {"channel": channel.id, "messages": shown, "cursor": cursor}

    def view(self, p: Params) -> JSON:
        with self.emu._lock:
            return {"view": open_view(self.emu.ws, find.user(self.emu.ws, p.text("as")))}

    def directory(self, _p: Params) -> JSON:
        ws = self.emu.ws
        with self.emu._lock:
            return {
                "users": {u.id: u.name for u in ws.users.values()},
                "channels": {c.id: c.name for c in ws.channels.values() if not c.is_im},
                "usergroups": {g.id: g.handle for g in ws.usergroups.values()},
                "bot_user_id": ws.bot_user_id,
            }


def _params(request: Request) -> dict[str, Any] | None:
    if request.command == "GET":
        return dict(parse_qsl(request.query, keep_blank_values=True))
    try:
        data = json.loads(request.raw or b"{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _reply(reply: BotReply | None) -> JSON | None:
    if reply is None:
        return None
    return {
        "status": reply.status,
        "body": reply.json if reply.json is not None else reply.body,
        "error": reply.error,
    }


def _error(status: int, error: str, detail: str) -> Answer:
    return Answer(status, json.dumps({"ok": False, "error": error, "detail": detail}))

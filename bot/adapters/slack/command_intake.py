"""`/incident …` over HTTP without Bolt's dispatch: the one request a burst is made of.

A slash command needs nothing of Bolt's machinery to be answered: its signature is checked (as
Bolt's request verification does: HMAC-SHA256 of `v0:<timestamp>:<body>`, at most 5 minutes
old), the form is read, and `commands.triaged` decides — help or a mistake is the answer itself,
anything else is written to the inbox (`Inbox.accept_async`, on the event loop, a burst sharing
one commit) and answered with an empty 200. The work is the same `commands.command` as over
Socket Mode or through Bolt. Everything else (buttons, forms, events, url_verification,
ssl_check) still goes through Bolt."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from slack_sdk.signature import SignatureVerifier

from bot.adapters.slack.listeners import SlackContext, accept_async
from bot.adapters.slack.listeners.commands import triaged

COMMAND = "/incident"


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any] | None  # JSON to send; None: an empty 200


class CommandIntake:
    def __init__(self, ctx: SlackContext, signing_secret: str) -> None:
        self.ctx = ctx
        self.verifier = SignatureVerifier(signing_secret)

    @staticmethod
    def fields(body: bytes, content_type: str | None) -> dict[str, str] | None:
        """The form of a slash command for `/incident`, or None (not one: Bolt's to handle)."""
        if (content_type or "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return None
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        return form if form.get("command") == COMMAND and "payload" not in form else None

    async def handle(self, body: bytes, headers: Mapping[str, str], form: dict[str, str]) -> Answer:
        timestamp = headers.get("x-slack-request-timestamp", "")
        signature = headers.get("x-slack-signature", "")
        if not (timestamp.isdigit() and signature) or not self.verifier.is_valid(
            body=body, timestamp=timestamp, signature=signature
        ):
            return Answer(401, {"error": "invalid request"})  # Bolt's answer, word for word
        request: dict[str, Any] = dict(form)
        triage = triaged(self.ctx, request)
        if triage.reply is not None:
            return Answer(200, triage.reply)
        await accept_async(self.ctx, request, "command", triage.lane)
        return Answer(200, None)

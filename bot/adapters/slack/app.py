"""Build the Bolt app: verification, listeners, error handling."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot.adapters.slack.listeners import SlackContext, actions, commands, events, shortcuts, views

log = logging.getLogger(__name__)


class _SameTokenWarning(logging.Filter):
    """Bolt warns that `token` is unused when it finds SLACK_BOT_TOKEN beside our client; the
    client carries that very token, so the warning would only mislead operators."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


logging.getLogger("slack_bolt").addFilter(_SameTokenWarning())


def build_bolt_app(*, client: WebClient, signing_secret: str | None, ctx: SlackContext) -> App:
    """With a signing secret, HTTP requests must carry Slack's signature (Socket Mode needs none)."""
    app = App(
        client=client,
        signing_secret=signing_secret or "unused-in-socket-mode",
        request_verification_enabled=signing_secret is not None,
        token_verification_enabled=False,  # no auth.test at start-up: the bot may start before Slack answers
        # The listener runs in the request's own thread and the answer leaves when it returns:
        # after `accept` has written the request to the inbox (events too, which Bolt would
        # otherwise ack before their listener runs), and without Bolt's 10 ms polling for ack().
        process_before_response=True,
        listener_executor=ctx.work.listeners,
        logger=logging.getLogger("slack_bolt"),
    )
    for module in (commands, actions, views, events, shortcuts):
        module.register(app, ctx)
        for name, work in module.WORK.items():
            ctx.inbox.register(name, partial(work, ctx))

    app.error(failed)
    return app


def failed(error: Exception, body: dict[str, Any]) -> BoltResponse:
    """A listener that raised (the inbox refused the write, say): a 500 with no body, so Slack
    tells the person it failed and nothing is acked that was not stored; the error is logged."""
    log.error(
        "slack listener failed: %s (request type %s)",
        error,
        body.get("type") or body.get("command"),
        exc_info=error,
    )
    return BoltResponse(status=500, body="")

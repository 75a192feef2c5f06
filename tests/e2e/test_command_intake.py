"""`/incident …` over HTTP is answered without Bolt's dispatch (bot/adapters/slack/command_intake):
the same answers as through Bolt, Slack's signature checked the same way, and no 2xx unless the
request is in the database."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from sqlmodel import select

from bot.sandbox import Sandbox
from bot.store.models import InboxRow
from tests.e2e.conftest import People, api, command


def _rows(sb: Sandbox) -> list[InboxRow]:
    with sb.bot.db.read() as s:
        return list(s.exec(select(InboxRow)).all())


def test_help_and_mistakes_are_the_answer_itself_and_nothing_is_stored(
    sb: Sandbox, people: People
) -> None:
    reply = command(sb, people.alice, people.general, "help")
    answer = json.loads(reply.body)
    assert "/incident declare" in answer["text"] and answer["blocks"]
    reply = command(sb, people.alice, people.general, "severity sev9")
    assert json.loads(reply.body)["text"].startswith("Which severity?")
    assert _rows(sb) == []


def test_work_is_stored_then_answered_empty_and_done(sb: Sandbox, people: People) -> None:
    reply = command(sb, people.alice, people.general, "declare sev3 Payload queue is stuck")
    assert reply.body in ("", b"")
    (row,) = _rows(sb)
    assert row.handler == "command" and row.done_at is not None and row.error is None
    assert row.payload["text"] == "declare sev3 Payload queue is stuck"
    titles = [i["title"] for i in api(sb, "/api/incidents").json()["incidents"]]
    assert titles == ["Payload queue is stuck"]  # "payload" in a command is just a word


@pytest.mark.parametrize(
    "headers",
    [
        {"unsigned": True},
        {"signature": "v0=" + "0" * 64},
        {"timestamp": int(time.time()) - 600},  # older than Slack's five minutes
    ],
    ids=["unsigned", "wrong-signature", "stale"],
)
def test_a_command_not_signed_by_slack_is_refused(
    sb: Sandbox, people: People, headers: dict[str, Any]
) -> None:
    reply = sb.slack.send_command(people.alice, people.general, "declare Forged", **headers)
    assert reply.status == 401 and json.loads(reply.body) == {"error": "invalid request"}
    assert _rows(sb) == [] and api(sb, "/api/incidents").json()["incidents"] == []


def test_no_2xx_when_the_request_cannot_be_stored(
    sb: Sandbox, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refused(*_args: Any) -> bool:
        raise RuntimeError("database is down")

    monkeypatch.setattr(sb.bot.inbox, "accept_async", refused)
    reply = sb.slack.send_command(people.alice, people.general, "declare sev2 Checkout down")
    assert reply.status == 503  # Slack tells the person it failed: nothing was promised
    sb.settle()
    assert api(sb, "/api/incidents").json()["incidents"] == []

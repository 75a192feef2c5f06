"""The Slack adapter answers the flows in the Chat port's errors: Slack's own error codes, as
the Slack emulator gives them over HTTP, become `ConversationGone`, `ChatRefused` (with what to
do), `RateLimited`, `NameTaken`, or a plain `IntegrationError` the outbox retries or gives up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.adapters.slack.chat import SlackChat
from bot.adapters.slack.pacing import SlackPacer
from bot.core.pacing import Pacer
from bot.emulators.slack import SlackEmulator
from bot.flows.ports import (
    ChatRefused,
    ConversationGone,
    IntegrationError,
    NameTaken,
    RateLimited,
)


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator() as emulator:
        yield emulator


def chat_on(slack: SlackEmulator, token: str | None = None) -> SlackChat:
    client = WebClient(
        token=token or slack.bot_token, base_url=slack.api_url, timeout=5, retry_handlers=[]
    )
    return SlackChat(client, SlackPacer(Pacer({})))  # no client-side pacing: one call each


@pytest.fixture
def chat(slack: SlackEmulator) -> SlackChat:
    return chat_on(slack)


def test_a_name_in_use_is_name_taken(chat: SlackChat) -> None:
    chat.create_channel("inc-name-in-use", private=False)
    with pytest.raises(NameTaken) as taken:
        chat.create_channel("inc-name-in-use", private=False)
    assert taken.value.code == "name_taken" and not taken.value.retryable


def test_an_archived_channel_is_gone(chat: SlackChat) -> None:
    channel = chat.create_channel("inc-archived-later", private=False)
    chat.archive(channel)
    chat.archive(channel)  # archiving twice is done, not an error
    with pytest.raises(ConversationGone) as gone:
        chat.set_topic(channel, "SEV2 | investigating")
    assert (gone.value.service, gone.value.code, gone.value.retryable) == (
        "slack",
        "is_archived",
        False,
    )
    assert str(gone.value) == "slack: is_archived"  # what the outbox records, as before


def test_a_deleted_channel_is_gone(chat: SlackChat) -> None:
    with pytest.raises(ConversationGone) as gone:
        chat.set_topic("C0NOSUCHTHING", "SEV2 | investigating")
    assert gone.value.code == "channel_not_found"


@pytest.mark.parametrize("code", ["is_archived", "channel_not_found", "not_in_channel"])
def test_every_answer_meaning_the_channel_is_gone_is_conversation_gone(
    slack: SlackEmulator, chat: SlackChat, code: str
) -> None:
    channel = chat.create_channel(f"inc-gone-{code.replace('_', '-')}", private=False)
    slack.fail("pins.add", error=code)
    with pytest.raises(ConversationGone) as gone:
        chat.pin(channel, "1700000000.000100")
    assert gone.value.code == code


def test_a_missing_scope_is_a_refusal_naming_the_scope_and_the_fix(
    slack: SlackEmulator, chat: SlackChat
) -> None:
    granted = slack.scopes
    slack.scopes = granted - {"groups:write"}
    try:
        with pytest.raises(ChatRefused) as refused:
            chat.create_channel("inc-private-one", private=True)
    finally:
        slack.scopes = granted
    assert refused.value.code == "missing_scope" and not refused.value.retryable
    assert "groups:write" in refused.value.reason
    assert "reinstall" in refused.value.fix
    assert str(refused.value).startswith("slack: missing_scope (")  # the record says the fix


def test_a_workspace_policy_is_a_refusal(slack: SlackEmulator, chat: SlackChat) -> None:
    slack.fail("conversations.create", error="restricted_action")
    with pytest.raises(ChatRefused) as refused:
        chat.create_channel("inc-not-allowed", private=False)
    assert refused.value.code == "restricted_action" and "admin" in refused.value.fix


def test_a_token_slack_refuses_is_a_refusal_naming_the_setting(slack: SlackEmulator) -> None:
    with pytest.raises(ChatRefused) as refused:
        chat_on(slack, token="xoxb-not-the-token").set_topic("C0ANY", "x")
    assert refused.value.code == "invalid_auth" and "SLACK_BOT_TOKEN" in refused.value.fix


def test_slacks_rate_limit_is_rate_limited_with_its_retry_after(
    slack: SlackEmulator, chat: SlackChat
) -> None:
    channel = chat.create_channel("inc-busy", private=False)
    slack.fail("conversations.setTopic", status=429, retry_after=7)
    with pytest.raises(RateLimited) as limited:
        chat.set_topic(channel, "SEV1 | investigating")
    assert (limited.value.code, limited.value.retryable, limited.value.retry_after) == (
        "ratelimited",
        True,
        7.0,
    )


@pytest.mark.parametrize(("code", "retryable"), [("internal_error", True), ("too_long", False)])
def test_other_answers_stay_integration_errors(
    slack: SlackEmulator, chat: SlackChat, code: str, retryable: bool
) -> None:
    channel = chat.create_channel(f"inc-other-{code.replace('_', '-')}", private=False)
    slack.fail("conversations.setTopic", error=code)
    with pytest.raises(IntegrationError) as failed:
        chat.set_topic(channel, "x")
    assert type(failed.value) is IntegrationError
    assert (failed.value.code, failed.value.retryable) == (code, retryable)


def test_a_public_channel_the_bot_is_not_in_is_joined_to_read_it(
    slack: SlackEmulator, chat: SlackChat
) -> None:
    """`not_in_channel` from the history is handled inside the adapter, not taken for gone."""
    feed = slack.add_channel("incidents-feed-unjoined")
    joins = len(slack.calls_to("conversations.join"))
    assert chat.find_posted(feed, "incidentbot:1") is None
    assert len(slack.calls_to("conversations.join")) == joins + 1

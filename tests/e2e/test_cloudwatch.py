"""CloudWatch alarms through Amazon SNS, end to end: the SNS emulator signs each message as SNS
does (SignatureVersion 1 and 2) and posts it to the bot, which confirms only the subscriptions of
the topics it was given, believes only messages signed with a certificate fetched over https
from an allowed host, and turns ALARM / OK into incidents as Alertmanager's groups are."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bot.emulators.sns import SnsEmulator
from bot.sandbox import Sandbox
from tests.e2e.conftest import incidents
from tests.fixtures.alert_sources import cloudwatch_alarm

FIRED = datetime(2026, 11, 26, 6, 58, 12, 345000, tzinfo=UTC)
OK_AT = "2026-11-26T07:20:00.000+0000"


def endpoint(sb: Sandbox) -> str:
    return f"{sb.url}/webhooks/cloudwatch"


def deliver(sb: Sandbox, sns: SnsEmulator, message: dict[str, str]) -> tuple[int, Any]:
    answer = sns.deliver(endpoint(sb), message)
    sb.settle()
    return answer.status, answer.json()


def at(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def test_the_subscription_is_confirmed_for_a_listed_topic_only(
    sns_sb: Sandbox, sns: SnsEmulator
) -> None:
    ours = sns.subscription_confirmation(sns.topic_arn("incidentbot"))
    assert deliver(sns_sb, sns, ours) == (
        200,
        {"ok": True, "incident_id": None, "result": "subscription confirmed"},
    )
    (confirmed,) = sns.confirmations
    assert (confirmed["TopicArn"], confirmed["Token"]) == (ours["TopicArn"], ours["Token"])

    theirs = sns.subscription_confirmation(sns.topic_arn("someone-elses"), version=2)
    status, body = deliver(sns_sb, sns, theirs)
    assert status == 403 and "SNS_TOPIC_ARNS" in body["error"]
    assert len(sns.confirmations) == 1


@pytest.mark.parametrize("version", [1, 2])
def test_an_alarm_opens_joins_and_ok_resolves(
    sns_sb: Sandbox, sns: SnsEmulator, version: int
) -> None:
    topic = sns.topic_arn("incidentbot")
    alarm = sns.notification(topic, cloudwatch_alarm(), subject="ALARM", version=version)
    status, body = deliver(sns_sb, sns, alarm)
    assert status == 200, body
    (incident,) = incidents(sns_sb)
    assert (incident["title"], incident["severity"], incident["service"]) == (
        "checkout-api-5xx",
        "SEV1",  # severity:critical in the alarm's description
        "checkout-api",
    )
    assert at(incident["milestones"]["impact_started_at"]["at"]) == FIRED  # StateChangeTime
    (alert,) = incident["alerts"]
    assert alert["labels"]["InstanceId"] == "i-0c5a1b2c3d4e5f607"
    assert alert["labels"]["region"] == "us-east-1"

    # SNS redelivers (a new MessageId, the same alarm): the same incident, nothing new
    again = sns.notification(topic, cloudwatch_alarm(), version=version)
    assert deliver(sns_sb, sns, again)[1]["result"] == "No change."

    ok = sns.notification(topic, cloudwatch_alarm(state="OK", at=OK_AT), version=version)
    assert deliver(sns_sb, sns, ok)[0] == 200
    (incident,) = incidents(sns_sb)
    (alert,) = incident["alerts"]
    assert (alert["status"], at(alert["ends_at"])) == (
        "resolved",
        datetime(2026, 11, 26, 7, 20, tzinfo=UTC),
    )
    assert sns.cert_fetches == 1  # the certificate is fetched once, then cached


def test_insufficient_data_opens_nothing(sns_sb: Sandbox, sns: SnsEmulator) -> None:
    message = sns.notification(
        sns.topic_arn("incidentbot"), cloudwatch_alarm(state="INSUFFICIENT_DATA")
    )
    status, body = deliver(sns_sb, sns, message)
    assert status == 200 and "INSUFFICIENT_DATA" in body["result"]
    assert incidents(sns_sb) == []


def forged(sns: SnsEmulator) -> dict[str, str]:
    message = sns.notification(sns.topic_arn("incidentbot"), cloudwatch_alarm())
    message["Message"] = cloudwatch_alarm(name="forged-alarm")  # changed after signing
    return message


def unsigned(sns: SnsEmulator) -> dict[str, str]:
    message = sns.notification(sns.topic_arn("incidentbot"), cloudwatch_alarm())
    del message["Signature"]
    return message


def other_key(sns: SnsEmulator) -> dict[str, str]:
    """Signed by another SNS (another key), pointing at ours' certificate."""
    with SnsEmulator() as impostor:
        message = impostor.notification(sns.topic_arn("incidentbot"), cloudwatch_alarm())
    return {**message, "SigningCertURL": sns.cert_url}


def wrong_topic(sns: SnsEmulator) -> dict[str, str]:
    return sns.notification(sns.topic_arn("not-ours"), cloudwatch_alarm())


def http_cert(sns: SnsEmulator) -> dict[str, str]:
    url = sns.cert_url.replace("https://", "http://")
    return sns.notification(sns.topic_arn("incidentbot"), cloudwatch_alarm(), cert_url=url)


def unknown_host(sns: SnsEmulator) -> dict[str, str]:
    url = sns.cert_url.replace("127.0.0.1", "localhost")  # served there too, but not allowed
    return sns.notification(sns.topic_arn("incidentbot"), cloudwatch_alarm(), cert_url=url)


def missing_cert(sns: SnsEmulator) -> dict[str, str]:
    url = f"{sns.url}/SimpleNotificationService-0000.pem"  # an allowed host, no such certificate
    return sns.notification(sns.topic_arn("incidentbot"), cloudwatch_alarm(), cert_url=url)


def unreachable(sns: SnsEmulator) -> dict[str, str]:
    url = "https://127.0.0.1:1/SimpleNotificationService-0000.pem"  # nothing listens: SNS retries
    return sns.notification(sns.topic_arn("incidentbot"), cloudwatch_alarm(), cert_url=url)


def version_3(sns: SnsEmulator) -> dict[str, str]:
    return {
        **sns.notification(sns.topic_arn("incidentbot"), cloudwatch_alarm()),
        "SignatureVersion": "3",
    }


def not_base64(sns: SnsEmulator) -> dict[str, str]:
    return {
        **sns.notification(sns.topic_arn("incidentbot"), cloudwatch_alarm()),
        "Signature": "%%%",
    }


@pytest.mark.parametrize(
    ("make", "status", "needle"),
    [
        (forged, 401, "does not match"),
        (unsigned, 401, "unsigned"),
        (other_key, 401, "does not match"),
        (version_3, 401, "unsigned"),
        (not_base64, 401, "base64"),
        (wrong_topic, 403, "SNS_TOPIC_ARNS"),
        (http_cert, 403, "only https://"),
        (unknown_host, 403, "SNS_CERT_HOSTS"),
        (missing_cert, 403, "answered 404"),
        (unreachable, 503, "could not reach"),
    ],
)
def test_messages_not_signed_by_sns_for_our_topic_are_refused_and_store_nothing(
    sns_sb: Sandbox, sns: SnsEmulator, make: Any, status: int, needle: str
) -> None:
    answer, body = deliver(sns_sb, sns, make(sns))
    assert answer == status and needle in body["error"], body
    assert incidents(sns_sb) == []


def test_a_forged_subscription_url_is_never_visited(sns_sb: Sandbox, sns: SnsEmulator) -> None:
    """Even correctly signed, a SubscribeURL off the allowed hosts is not fetched."""
    message = sns.subscription_confirmation(sns.topic_arn("incidentbot"))
    message["SubscribeURL"] = message["SubscribeURL"].replace("127.0.0.1", "localhost")
    signed = sns.sign({k: v for k, v in message.items() if not k.startswith("Signature")})
    status, body = deliver(sns_sb, sns, signed)
    assert status == 403 and "SubscribeURL" in body["error"]
    assert sns.confirmations == []


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b'{"Type": "Notification"}', 422, "MessageId"),
        (b'{"Type": "Gossip"}', 422, "Type"),
    ],
)
def test_bad_bodies_get_their_problems(
    sns_sb: Sandbox, sns: SnsEmulator, body: bytes, status: int, needle: str
) -> None:
    answer = httpx.post(endpoint(sns_sb), content=body, timeout=10)
    assert answer.status_code == status and needle in answer.text
    assert incidents(sns_sb) == []


def test_a_signed_message_that_is_no_alarm_gets_its_problems(
    sns_sb: Sandbox, sns: SnsEmulator
) -> None:
    topic = sns.topic_arn("incidentbot")
    for text, needle in (
        ("hello", "not JSON"),
        (json.dumps({"AlarmName": "x"}), "NewStateValue"),
        (json.dumps(json.loads(cloudwatch_alarm()) | {"StateChangeTime": "soon"}), "ISO 8601"),
    ):
        status, body = deliver(sns_sb, sns, sns.notification(topic, text))
        assert status == 422 and any(needle in p for p in body["problems"]), body
    assert incidents(sns_sb) == []


def test_cloudwatch_is_off_without_topics(sb: Sandbox, sns: SnsEmulator) -> None:
    message = sns.notification(sns.topic_arn("incidentbot"), cloudwatch_alarm())
    status, body = deliver(sb, sns, message)
    assert status == 401 and "SNS_TOPIC_ARNS" in body["error"]
    assert sns.cert_fetches == 0

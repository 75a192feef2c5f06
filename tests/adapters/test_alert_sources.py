"""The alert-source parsers and SNS's canonical string and host rules, alone (no HTTP): what
each vendor's fields become in the alert group, and what SNS signs."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.adapters.alert_sources import cloudwatch, datadog, newrelic
from bot.adapters.alert_sources.common import NotActedOn, epoch_ms, pairs, rfc3339
from bot.adapters.alert_sources.sns import (
    DEFAULT_CERT_HOSTS,
    Refused,
    SnsGate,
    host_pattern,
    parse_message,
    string_to_sign,
)
from bot.core.alerts import AlertGroup, AlertPayloadError
from tests.fixtures.alert_sources import (
    FIRED,
    RECOVERED,
    cloudwatch_alarm,
    datadog as dd_payload,
    ms,
    newrelic as nr_payload,
)


def group(parsed: object) -> AlertGroup:
    assert isinstance(parsed, AlertGroup), parsed
    return parsed


def test_a_datadog_title_gives_the_transition_the_monitor_and_the_scope() -> None:
    payload = {
        "title": "[P1] [Triggered on {host:web-1,env:prod}] Checkout down",
        "date": ms(FIRED),
    }
    g = group(datadog.parse(payload))
    (alert,) = g.alerts
    assert (alert.status, alert.labels["alertname"], alert.labels["host"], alert.labels["env"]) == (
        "firing",
        "Checkout down",
        "web-1",
        "prod",
    )
    assert alert.starts_at == FIRED
    assert g.told_by == "Datadog"


def test_datadog_scopes_of_one_monitor_share_the_group_not_the_fingerprint() -> None:
    a = group(datadog.parse(dd_payload(scope="host:a")))
    b = group(datadog.parse(dd_payload(scope="host:b")))
    assert a.group_key == b.group_key and a.alerts[0].fingerprint != b.alerts[0].fingerprint
    other = group(datadog.parse(dd_payload(monitor="42")))
    assert other.group_key != a.group_key


def test_datadog_recovered_ends_at_last_updated() -> None:
    payload = dd_payload(transition="Recovered") | {"last_updated": ms(RECOVERED)}
    (alert,) = group(datadog.parse(payload)).alerts
    assert alert.status == "resolved"
    assert alert.ends_at == RECOVERED


def test_datadog_warn_is_not_acted_on() -> None:
    assert isinstance(datadog.parse(dd_payload(transition="Warn")), NotActedOn)


def test_new_relic_takes_issue_id_and_issue_page_url_too() -> None:
    payload = nr_payload()
    payload["issueId"] = payload.pop("id")
    payload["issuePageUrl"] = payload.pop("issueUrl")
    g = group(newrelic.parse(payload))
    assert g.group_key == payload["issueId"]
    assert g.alerts[0].labels["priority"] == "critical"
    assert g.alerts[0].labels["service"] == "checkout-api"
    assert g.alerts[0].starts_at == FIRED


def test_a_cloudwatch_alarm_becomes_labels_from_its_dimensions_and_description() -> None:
    (alert,) = group(cloudwatch.parse(cloudwatch_alarm())).alerts
    assert alert.labels["service"] == "checkout-api"
    assert alert.labels["severity"] == "critical"
    assert alert.labels["LoadBalancer"] == "app/checkout/50dc6c495c0c9188"
    assert alert.starts_at == FIRED
    assert alert.links["generator"].startswith("https://us-east-1.console.aws.amazon.com/")


def test_a_cloudwatch_ok_resolves_at_its_state_change() -> None:
    (alert,) = group(cloudwatch.parse(cloudwatch_alarm(state="OK"))).alerts
    assert (alert.status, alert.ends_at) == ("resolved", FIRED)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json", "not JSON"),
        ("[" * 200_000 + "]" * 200_000, "not JSON"),  # signed by SNS, still not believed
        (json.dumps([1]), "JSON object"),
        (json.dumps({"AlarmName": "x", "NewStateValue": "ALARM"}), "StateChangeTime"),
        (cloudwatch_alarm(state="MELTING"), "NewStateValue"),
        (cloudwatch_alarm(at="2026-11-26T06:58:12"), "time zone"),
    ],
)
def test_what_is_not_an_alarm_says_why(text: str, problem: str) -> None:
    with pytest.raises(AlertPayloadError) as caught:
        cloudwatch.parse(text)
    assert any(problem in p for p in caught.value.problems), caught.value.problems


def test_times_and_tags() -> None:
    assert epoch_ms("1406662672000", "date") == datetime(2014, 7, 29, 19, 37, 52, tzinfo=UTC)
    assert epoch_ms("", "date") is None
    for bad in ("1e3", "soon", True, "1" * 20):
        with pytest.raises(AlertPayloadError):
            epoch_ms(bad, "date")  # type: ignore[arg-type]
    assert rfc3339("2026-11-26T06:58:12.345+0000", "t") == FIRED
    assert pairs("monitor, service:checkout-api, role:web, service:other") == {
        "service": "checkout-api",
        "role": "web",
    }


# -- SNS -----------------------------------------------------------------------------------------


def sns_message(kind: str, **extra: str) -> dict[str, str]:
    return {
        "Type": kind,
        "MessageId": "id-1",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:t",
        "Message": "hello\nworld",
        "Timestamp": "2026-11-26T06:58:12.345Z",
        "SignatureVersion": "1",
        "Signature": "AAAA",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
        **extra,
    }


def test_the_string_to_sign_follows_snss_field_order() -> None:
    plain = string_to_sign(parse_message(sns_message("Notification")))
    assert plain == (
        b"Message\nhello\nworld\nMessageId\nid-1\nTimestamp\n2026-11-26T06:58:12.345Z\n"
        b"TopicArn\narn:aws:sns:us-east-1:123456789012:t\nType\nNotification\n"
    )
    subject = string_to_sign(parse_message(sns_message("Notification", Subject="ALARM")))
    assert b"MessageId\nid-1\nSubject\nALARM\nTimestamp\n" in subject
    confirmation = string_to_sign(
        parse_message(sns_message("SubscriptionConfirmation", SubscribeURL="https://u", Token="tk"))
    )
    assert confirmation == (
        b"Message\nhello\nworld\nMessageId\nid-1\nSubscribeURL\nhttps://u\n"
        b"Timestamp\n2026-11-26T06:58:12.345Z\nToken\ntk\n"
        b"TopicArn\narn:aws:sns:us-east-1:123456789012:t\nType\nSubscriptionConfirmation\n"
    )


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("sns.us-east-1.amazonaws.com", True),
        ("sns.cn-north-1.amazonaws.com.cn", True),
        ("sns.us-east-1.amazonaws.com.evil.example", False),
        ("evilsns.us-east-1.amazonaws.com", False),
        ("sns.a.b.amazonaws.com", False),
        ("sns..amazonaws.com", False),
        ("s3.us-east-1.amazonaws.com", False),
    ],
)
def test_certificate_hosts(host: str, allowed: bool) -> None:
    assert bool(host_pattern(DEFAULT_CERT_HOSTS).fullmatch(host)) is allowed


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.us-east-1.amazonaws.com/x.pem",
        "https://user@sns.us-east-1.amazonaws.com/x.pem",
        "https://sns.us-east-1.amazonaws.com:notaport/x.pem",
        "https://sns.us-east-1.amazonaws.com/x.txt",
        "file:///etc/passwd",
    ],
)
def test_certificate_urls_off_the_rules_are_refused_before_any_fetch(url: str) -> None:
    gate = SnsGate(frozenset({"arn:aws:sns:us-east-1:123456789012:t"}))
    with pytest.raises(Refused) as caught:
        gate.screen(parse_message(sns_message("Notification", SigningCertURL=url)))
    assert caught.value.status == 403

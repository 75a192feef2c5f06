from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.core.alert_rules import alert_severity, classify
from bot.core.alerts import AlertPayloadError, parse_alertmanager, parse_grafana
from bot.core.catalog import catalog_from_mapping, default_catalog
from tests.fixtures.alerts import alertmanager, am_alert, grafana, resolved

CAT = default_catalog()


def test_alertmanager_v4_is_normalised() -> None:
    group = parse_alertmanager(
        alertmanager(alerts=[am_alert(), am_alert(instance="checkout-x", fingerprint="c0ffee02")])
    )
    assert group.source == "alertmanager" and group.status == "firing"
    assert group.group_key == '{}/{severity="critical"}:{alertname="CheckoutHigh5xx"}'
    first = group.alerts[0]
    assert first.starts_at == datetime(2026, 11, 26, 6, 58, 12, 345678, tzinfo=UTC)  # ns truncated
    assert first.ends_at is None  # 0001-01-01 means still firing
    assert first.links["runbook"] == "https://runbooks.example.com/checkout-5xx"
    assert first.links["generator"].startswith("http://prometheus.example.com:9090/graph")
    assert first.links["silence"].startswith(
        "http://alertmanager.example.com:9093/#/silences/new?filter=%7Balertname%3D%22CheckoutHigh5xx%22"
    )
    assert [a.fingerprint for a in group.alerts] == ["c0ffee0000000001", "c0ffee02"]


def test_grafana_is_normalised_with_its_links() -> None:
    group = parse_grafana(grafana())
    (alert,) = group.alerts
    assert group.source == "grafana" and group.group_key.startswith("1/{}/")
    assert alert.links["dashboard"] == "https://grafana.example.com/d/search-overview?orgId=1"
    assert alert.links["panel"].endswith("viewPanel=4") and "silence" in alert.links
    c = classify(group, CAT)
    assert (c.title, c.severity, c.service) == ("Search p99 above 2s", "SEV3", "search")


def test_resolved_alerts_keep_their_end() -> None:
    group = parse_alertmanager(resolved(alertmanager()))
    assert group.alerts[0].ends_at == datetime(2026, 11, 26, 7, 20, tzinfo=UTC)
    assert group.firing == ()


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda p: p.update(version="3"), "version 4 is supported"),
        (lambda p: p.pop("groupKey"), "groupKey: Field required"),
        (lambda p: p.update(alerts=[]), "alerts: List should have at least 1 item"),
        (lambda p: p.update(status="exploded"), "status: Input should be 'firing' or 'resolved'"),
        (lambda p: p["alerts"][0].update(startsAt="yesterday"), "alerts.0.startsAt"),
        (lambda p: p["alerts"][0].update(startsAt="2026-11-26T10:00:00"), "needs a time zone"),
        (lambda p: p["alerts"][0].update(labels="x"), "alerts.0.labels"),
        (lambda p: p.update(alerts=[am_alert()] * 1001), "at most 1000"),
        (
            lambda p: p["alerts"][0]["annotations"].update(summary="x" * 10_001),
            "at most 10000 characters",
        ),
    ],
)
def test_bad_payloads_are_refused_with_a_reason(mutate: Any, needle: str) -> None:
    payload = alertmanager()
    mutate(payload)
    with pytest.raises(AlertPayloadError) as refused:
        parse_alertmanager(payload)
    assert needle in str(refused.value)


@pytest.mark.parametrize("payload", [[], "text", 42, None])
def test_non_objects_are_refused(payload: object) -> None:
    with pytest.raises(AlertPayloadError, match="JSON object"):
        parse_alertmanager(payload)


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"severity": "critical"}, "SEV1"),
        ({"severity": "Warning"}, "SEV3"),
        ({"severity": "sev2"}, "SEV2"),
        ({"priority": "P1"}, "SEV1"),
        ({"severity": "critical", "sloth_severity": "ticket"}, "SEV3"),  # the SLO burn label wins
        ({"sloth_severity": "page", "sloth_service": "checkout"}, "SEV2"),
        ({"severity": "whatever"}, None),
    ],
)
def test_alert_severity_mapping(labels: dict[str, str], expected: str | None) -> None:
    alert = parse_alertmanager(
        alertmanager(alerts=[am_alert(extra_labels=labels, severity=labels.get("severity", ""))])
    ).alerts[0]
    if "severity" not in labels:
        alert.labels.pop("severity", None)
    assert alert_severity(alert, CAT) == expected


def test_the_most_severe_firing_alert_sets_the_severity_and_unknown_falls_back() -> None:
    group = parse_alertmanager(
        alertmanager(
            alerts=[
                am_alert(severity="warning"),
                am_alert(severity="critical", fingerprint="b", starts_at="2026-11-26T06:00:00Z"),
            ],
            common_annotations={},
        )
    )
    c = classify(group, CAT)
    assert c.severity == "SEV1" and c.impact_started_at == datetime(2026, 11, 26, 6, tzinfo=UTC)
    assert c.title == "Checkout API 5xx ratio above 5%"
    unknown = parse_alertmanager(alertmanager(alerts=[am_alert(severity="weird")]))
    assert classify(unknown, CAT).severity == "SEV3"


def test_titles_from_several_alert_names() -> None:
    group = parse_alertmanager(
        alertmanager(
            alerts=[
                am_alert(alertname="A"),
                am_alert(alertname="B", fingerprint="2"),
                am_alert(alertname="C", fingerprint="3"),
            ],
            common_annotations={},
        )
    )
    assert classify(group, CAT).title == "A (+2 more)"


def test_a_custom_scale_takes_the_default_mapping_by_rank() -> None:
    catalog = catalog_from_mapping(
        {
            "severities": [{"id": "P1", "name": "Page"}, {"id": "P2", "name": "Ticket"}],
            "default_severity": "P2",
        }
    )
    group = parse_alertmanager(alertmanager(alerts=[am_alert(severity="critical")]))
    assert classify(group, catalog).severity == "P1"
    assert catalog.alerts.severities["info"] == "P2" and catalog.paging.auto_severities == (
        "P1",
        "P2",
    )


def test_catalog_services_and_paging() -> None:
    catalog = catalog_from_mapping(
        {
            "services": {
                "checkout-api": {"pager": {"service_id": "PSVC1", "routing_key": "r" * 32}}
            },
            "paging": {"auto_severities": ["sev1"]},
            "alerts": {"severities": {"CRIT": "sev1"}},
        }
    )
    service = catalog.service("Checkout-API")
    assert service is not None and service.pager.service_id == "PSVC1"
    assert catalog.alerts.severities == {"crit": "SEV1"}
    with pytest.raises(ValueError, match=r"paging\.auto_severities names severities"):
        catalog_from_mapping({"paging": {"auto_severities": ["SEV9"]}})
    with pytest.raises(ValueError, match="routing_key"):
        catalog_from_mapping({"services": {"x": {"pager": {"routing_key": "short"}}}})

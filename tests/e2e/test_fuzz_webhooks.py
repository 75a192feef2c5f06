"""Fuzzing the alert webhooks (bearer token right; Datadog and New Relic too), CloudWatch's
(correctly SNS-signed, then tampered with or for another topic) and PagerDuty's (correctly
signed, then mis-signed): hostile labels, annotations, links, times and titles, damaged
structure, wrong types. Never a 5xx; afterwards the bot is healthy, its database consistent, and the cards, the
dashboard and the review pages show the hostile text inert."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import example, given, strategies as st

from bot.emulators.pagerduty import signature
from bot.emulators.sns import SnsEmulator
from bot.sandbox import ALERT_TOKEN
from tests.e2e.conftest import sns_settings
from tests.e2e.fuzz_rig import MIN_SENT_BY_MODULE, Fuzz, aftermath, sandbox
from tests.e2e.hostile import JSON_VALUES, LINKS, TEXT, TIMES
from tests.fixtures.alert_sources import cloudwatch_alarm, datadog, newrelic
from tests.fixtures.alerts import alertmanager, am_alert

MIN_SENT = MIN_SENT_BY_MODULE["webhooks"]


@pytest.fixture(scope="module")
def sns() -> Iterator[SnsEmulator]:
    with SnsEmulator() as emulator:
        yield emulator


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fz(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sns: SnsEmulator
) -> Iterator[Fuzz]:
    yield from sandbox(request, tmp_path_factory, **sns_settings(sns))


# -- alert payloads ------------------------------------------------------------------------------

GROUP_KEYS = [f'{{}}/{{alertname="Fuzz{i}"}}' for i in range(6)]
LABEL_KEYS = st.one_of(st.sampled_from(["severity", "service", "team", "alertname"]), TEXT)
LABEL_VALUES = st.one_of(
    st.sampled_from(["critical", "warning", "info", "page", "ticket", "checkout-api"]), TEXT
)
LABELS = st.dictionaries(LABEL_KEYS, LABEL_VALUES, max_size=3)
ANNOTATIONS = st.dictionaries(
    st.sampled_from(["summary", "description", "runbook_url", "title", "dashboard_url"]),
    st.one_of(TEXT, LINKS),
    max_size=3,
)
URL_KEYS = ["generatorURL", "dashboardURL", "panelURL", "silenceURL"]
# Structural damage to a payload: (path, value); value None deletes.
DAMAGE = st.lists(
    st.tuples(
        st.sampled_from(
            [
                ("version",),
                ("groupKey",),
                ("status",),
                ("alerts",),
                ("commonLabels",),
                ("commonAnnotations",),
                ("groupLabels",),
                ("externalURL",),
                ("truncatedAlerts",),
                ("orgId",),
                ("alerts", 0),
                ("alerts", 0, "labels"),
                ("alerts", 0, "annotations"),
                ("alerts", 0, "status"),
                ("alerts", 0, "startsAt"),
                ("alerts", 0, "endsAt"),
                ("alerts", 0, "fingerprint"),
                ("alerts", 0, "generatorURL"),
            ]
        ),
        st.one_of(st.none(), JSON_VALUES),
    ),
    min_size=1,
    max_size=3,
)


@st.composite
def alert_payloads(draw: st.DrawFn) -> dict[str, Any]:
    """A notification in Alertmanager's shape (Grafana's is the same plus a few keys), with
    hostile labels, annotations, links and times; one of a few groups, so incidents repeat."""
    payload = alertmanager(group_key=draw(st.sampled_from(GROUP_KEYS)))
    alerts = []
    for n in range(draw(st.integers(1, 2))):
        alert = am_alert(fingerprint=f"fz{draw(st.integers(0, 5))}-{n}")
        alert["labels"].update(draw(LABELS))
        alert["annotations"].update(draw(ANNOTATIONS))
        alert["status"] = draw(st.sampled_from(["firing", "firing", "resolved"]))
        alert["startsAt"] = draw(TIMES)
        alert[draw(st.sampled_from(URL_KEYS))] = draw(LINKS)
        alerts.append(alert)
    payload["alerts"] = alerts
    payload["commonLabels"].update(draw(LABELS))
    payload["commonAnnotations"].update(draw(ANNOTATIONS))
    if draw(st.integers(0, 7)) == 0:  # a new group: a new incident, with a hostile title
        payload["groupKey"] = draw(TEXT)
        payload["title"] = draw(TEXT)
        payload["externalURL"] = draw(LINKS)
    return payload


def damaged(payload: dict[str, Any], damage: list[tuple[tuple[Any, ...], Any]]) -> dict[str, Any]:
    out = copy.deepcopy(payload)
    for path, value in damage:
        node: Any = out
        for step in path[:-1]:
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                node = None
                break
        if isinstance(node, dict | list):
            try:
                if value is None:
                    del node[path[-1]]
                else:
                    node[path[-1]] = value
            except (KeyError, IndexError, TypeError):
                pass
    return out


def hostile_group() -> dict[str, Any]:
    """Always sent (besides what hypothesis draws): a new incident from an alert whose title,
    summary and link carry Slack markup and a NUL byte."""
    payload = alertmanager(group_key='{}/{alertname="Hostile"}')
    payload["title"] = "<!channel> nul\x00 <@UEVIL01>"
    alert = payload["alerts"][0]
    alert["annotations"]["summary"] = "<!here> \x00"
    alert["generatorURL"] = "https://evil.example|pwn> <!here> <https://evil.example"
    return payload


def post_alert(fz: Fuzz, source: str, payload: Any) -> httpx.Response:
    return fz.send(
        source,
        "POST",
        f"/webhooks/{source}",
        content=json.dumps(payload).encode(),
        headers={"Authorization": f"Bearer {ALERT_TOKEN}", "Content-Type": "application/json"},
    )


def test_fuzz_alert_webhooks(fz: Fuzz) -> None:
    """Four requests per example: the hostile notification, then three damaged copies (wrong
    types, missing fields)."""

    @fz.examples(400)
    @example(payload=hostile_group(), damage=[(("version",), None)], more=[], source="alertmanager")
    @given(
        payload=alert_payloads(),
        damage=DAMAGE,
        more=DAMAGE,
        source=st.sampled_from(["alertmanager", "grafana"]),
    )
    def run(
        payload: dict[str, Any],
        damage: list[tuple[tuple[Any, ...], Any]],
        more: list[tuple[tuple[Any, ...], Any]],
        source: str,
    ) -> None:
        if source == "grafana":
            payload = {**payload, "version": "1", "orgId": 1}
        post_alert(fz, source, payload)
        post_alert(fz, source, damaged(payload, damage))
        post_alert(fz, source, damaged(payload, more))
        post_alert(fz, source, damaged(payload, [*damage, *more, (("alerts", 0, "labels"), None)]))

    run()


# -- Datadog, New Relic, CloudWatch through SNS ---------------------------------------------------

EPOCHS = st.one_of(
    st.sampled_from(["1764140292345", "1764140292345.5", "", "0", "-1", "99999999999999999"]),
    TEXT,
    JSON_VALUES,
)
STATES = st.one_of(st.sampled_from(["ALARM", "OK", "INSUFFICIENT_DATA"]), TEXT)


@st.composite
def datadog_payloads(draw: st.DrawFn) -> dict[str, Any]:
    payload = datadog(
        transition=draw(
            st.one_of(st.sampled_from(["Triggered", "Re-Triggered", "Recovered", "Warn"]), TEXT)
        ),
        scope=draw(st.one_of(st.sampled_from(["host:a", "host:b", ""]), TEXT)),
        priority=draw(st.one_of(st.sampled_from(["P1", "P3", "P5", ""]), TEXT)),
        tags=draw(st.one_of(st.sampled_from(["service:checkout-api", "severity:warning"]), TEXT)),
        monitor=draw(st.one_of(st.sampled_from(["1", "2", "3"]), TEXT)),
        name=draw(TEXT),
    )
    payload["link"] = draw(LINKS)
    payload["body"] = draw(TEXT)
    payload["date"] = draw(EPOCHS)
    return payload


@st.composite
def newrelic_payloads(draw: st.DrawFn) -> dict[str, Any]:
    payload = newrelic(
        state=draw(st.one_of(st.sampled_from(["ACTIVATED", "ACKNOWLEDGED", "CLOSED"]), TEXT)),
        issue=draw(st.one_of(st.sampled_from(["nr-1", "nr-2"]), TEXT)),
        priority=draw(st.one_of(st.sampled_from(["CRITICAL", "LOW"]), TEXT)),
        tags=draw(st.dictionaries(LABEL_KEYS, st.lists(LABEL_VALUES, max_size=2), max_size=3)),
    )
    payload["title"] = draw(TEXT)
    payload["issueUrl"] = draw(LINKS)
    payload["impactedEntities"] = draw(st.lists(TEXT, max_size=2))
    payload["createdAt"] = draw(EPOCHS)
    return payload


@st.composite
def alarms(draw: st.DrawFn) -> str:
    alarm = json.loads(
        cloudwatch_alarm(
            state=draw(STATES),
            at=draw(st.one_of(st.just("2026-11-26T06:58:12.345+0000"), TIMES)),
            name=draw(st.one_of(st.sampled_from(["cw-1", "cw-2"]), TEXT)),
            description=draw(TEXT) + " service:checkout-api severity:" + draw(LABEL_VALUES),
            instance=draw(TEXT),
        )
    )
    alarm["Trigger"]["Dimensions"].append({"name": draw(TEXT), "value": draw(TEXT)})
    if draw(st.integers(0, 5)) == 0:
        return draw(TEXT)  # not an alarm at all
    return json.dumps(alarm)


def post_sns(fz: Fuzz, message: dict[str, str]) -> httpx.Response:
    return fz.send(
        "cloudwatch",
        "POST",
        "/webhooks/cloudwatch",
        content=json.dumps(message).encode(),
        headers={"Content-Type": "text/plain; charset=UTF-8"},
    )


def test_fuzz_other_alert_sources(fz: Fuzz, sns: SnsEmulator) -> None:
    """Seven requests per example: Datadog's and New Relic's notifications as drawn and
    damaged; a CloudWatch alarm signed by SNS (v1 or v2), then tampered with after signing
    (401) and signed for a topic the bot does not take (403). A signed alarm is never refused
    for its signature, and a well-formed one reaches the flows (on PostgreSQL only a few
    examples run, too few to count on drawing a well-formed one)."""
    topic = sns.topic_arn("incidentbot")
    assert post_sns(fz, sns.notification(topic, cloudwatch_alarm())).status_code == 200
    taken: list[int] = []

    @fz.examples(150)
    @given(
        dd=datadog_payloads(),
        nr=newrelic_payloads(),
        alarm=alarms(),
        damage=st.lists(
            st.tuples(
                st.sampled_from(
                    ["date", "alert_id", "tags", "title", "id", "state", "createdAt", "org"]
                ),
                st.one_of(st.none(), JSON_VALUES),
            ),
            min_size=1,
            max_size=3,
        ),
        version=st.sampled_from([1, 2]),
    )
    def run(
        dd: dict[str, Any],
        nr: dict[str, Any],
        alarm: str,
        damage: list[tuple[str, Any]],
        version: int,
    ) -> None:
        steps = [((key,), value) for key, value in damage]
        for source, payload in (("datadog", dd), ("newrelic", nr)):
            post_alert(fz, source, payload)
            post_alert(fz, source, damaged(payload, steps))
        taken.append(post_sns(fz, sns.notification(topic, alarm, version=version)).status_code)
        tampered = sns.notification(topic, alarm, version=version)
        tampered["Message"] = alarm + " "
        assert post_sns(fz, tampered).status_code == 401
        stranger = sns.notification(sns.topic_arn("not-ours"), alarm, version=version)
        assert post_sns(fz, stranger).status_code == 403

    run()
    assert taken and 401 not in taken, sorted(set(taken))


# -- PagerDuty webhooks ----------------------------------------------------------------------

PD_EVENT_TYPES = [
    "incident.triggered",
    "incident.acknowledged",
    "incident.unacknowledged",
    "incident.resolved",
    "incident.reopened",
    "incident.escalated",
    "incident.reassigned",
    "incident.responder.added",
    "incident.responder.replied",
    "incident.delegated",
    "incident.priority_updated",
    "incident.annotated",
    "service.updated",
]
PD_INCIDENTS = ["PINC001", "PINC002", "PINC003"]  # the emulator's ids: the first two are ours
PD_KEYS = ["incidentbot-1", "incidentbot-2", "incidentbot-99"]


@st.composite
def pd_events(draw: st.DrawFn) -> dict[str, Any]:
    agent: Any = draw(
        st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {
                    "id": st.one_of(st.sampled_from(["@alice", "@bob", "PNOBODY"]), TEXT),
                    "type": st.sampled_from(["user_reference", "service_reference", ""]),
                    "summary": TEXT,
                }
            ),
            JSON_VALUES,
        )
    )
    data = {
        "id": draw(st.one_of(st.sampled_from(PD_INCIDENTS), TEXT)),
        "type": "incident",
        "incident_key": draw(st.one_of(st.sampled_from(PD_KEYS), TEXT, st.none())),
        "html_url": draw(LINKS),
        "status": draw(st.one_of(st.sampled_from(["triggered", "acknowledged", "resolved"]), TEXT)),
        "title": draw(TEXT),
    }
    event = {
        "id": draw(st.one_of(st.uuids().map(str), TEXT, st.text(min_size=150, max_size=300))),
        "event_type": draw(st.one_of(st.sampled_from(PD_EVENT_TYPES), TEXT)),
        "resource_type": "incident",
        "occurred_at": draw(TIMES),
        "agent": agent,
        "data": data,
    }
    for key, value in draw(
        st.lists(
            st.tuples(
                st.sampled_from(["id", "event_type", "data", "agent", "occurred_at"]),
                st.one_of(st.none(), JSON_VALUES),
            ),
            max_size=2,
        )
    ):
        if value is None:
            event.pop(key, None)
        else:
            event[key] = value
    return {"event": event}


def test_fuzz_pagerduty_webhooks(fz: Fuzz) -> None:
    """Three per example: the hostile event, signed with the current secret, as sent and
    again (a redelivery), then signed with a wrong secret (refused, 401)."""
    pd = fz.sb.pagerduty

    @fz.examples(400)
    @given(payload=pd_events())
    def run(payload: dict[str, Any]) -> None:
        agent = payload["event"].get("agent")
        if isinstance(agent, dict) and agent.get("id") in ("@alice", "@bob"):  # not any text "@…"
            agent["id"] = pd.user_id(str(agent["id"])[1:])
        body = json.dumps(payload).encode()
        for secret in (pd.webhook_secret, pd.webhook_secret, "not-the-secret"):
            headers = {
                "X-PagerDuty-Signature": signature(secret, body),
                "Content-Type": "application/json",
            }
            response = fz.send(
                "pagerduty", "POST", "/webhooks/pagerduty", content=body, headers=headers
            )
            if secret != pd.webhook_secret:
                assert response.status_code == 401

    run()


def test_zz_healthy_consistent_and_inert(fz: Fuzz, request: pytest.FixtureRequest) -> None:
    aftermath(fz, request, MIN_SENT)

"""`OpsgeniePager` against the Opsgenie emulator over real HTTP: one alert per page key even
across a lost answer, priorities from the catalog's severity order, responders, acknowledge and
close by alias, who is on call, and Opsgenie's refusals mapped onto the port's errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from bot import wiring
from bot.adapters.opsgenie import OpsgenieClient, OpsgeniePager
from bot.core.catalog import PagerTarget, Responder
from bot.emulators.opsgenie import OpsgenieEmulator
from bot.flows.ports import (
    CannotPage,
    IntegrationError,
    PagePlan,
    PageRef,
    PageRequest,
    PagerRefused,
)
from bot.settings import Settings

CHECKOUT = PagerTarget(kind="opsgenie", responders=(Responder(type="team", name="checkout"),))


@pytest.fixture
def og() -> Iterator[OpsgenieEmulator]:
    with OpsgenieEmulator() as emulator:
        yield emulator


def pager_for(og: OpsgenieEmulator, key: str | None = None) -> OpsgeniePager:
    client = OpsgenieClient(api_key=key or og.api_key, api_url=og.url, timeout=5)
    return OpsgeniePager(client, confirm_pause=0.0)


@pytest.fixture
def pager(og: OpsgenieEmulator) -> Iterator[OpsgeniePager]:
    p = pager_for(og)
    yield p
    p.client.close()


def request(
    key: str = "incident-1-page-1", *, rank: int = 0, plan: PagePlan | None = None, title: str = ""
) -> PageRequest:
    return PageRequest(
        key=key,
        plan=plan or PagePlan("alert", "team:checkout"),
        title=title or "[SEV1] Checkout is down",
        details="Payments fail at the last step.\nconversation: https://chat.example/C1",
        severity_rank=rank,
        source="checkout",
        detected_at=datetime(2026, 12, 6, 10, 0, tzinfo=UTC),
        links=(("conversation", "https://chat.example/C1"),),
    )


def test_a_page_is_an_alert_whose_alias_is_the_page_key(
    og: OpsgenieEmulator, pager: OpsgeniePager
) -> None:
    opened = pager.open(request())
    alert = og.alert("incident-1-page-1")
    assert alert is not None and opened.id == alert.id
    assert alert.message == "[SEV1] Checkout is down"
    assert alert.responders == [{"type": "team", "name": "checkout"}]
    assert (
        alert.description
        == "Payments fail at the last step.\nconversation: https://chat.example/C1"
    )
    assert alert.details["conversation"] == "https://chat.example/C1"
    assert alert.details["detected_at"] == "2026-12-06T10:00:00+00:00"


@pytest.mark.parametrize(("rank", "priority"), [(0, "P1"), (1, "P2"), (2, "P3"), (9, "P5")])
def test_priority_follows_the_catalogs_severity_order(
    og: OpsgenieEmulator, pager: OpsgeniePager, rank: int, priority: str
) -> None:
    pager.open(request(f"page-{rank}", rank=rank))
    alert = og.alert(f"page-{rank}")
    assert alert is not None and alert.priority == priority


def test_a_retry_after_a_lost_answer_finds_the_alert_instead_of_making_a_second(
    og: OpsgenieEmulator, pager: OpsgeniePager
) -> None:
    og.fail("POST /v2/alerts", status=0, apply=True)  # Opsgenie took it; the answer is lost
    with pytest.raises(IntegrationError) as lost:
        pager.open(request())
    assert lost.value.retryable
    again = pager.open(request())
    assert [a.id for a in og.alerts()] == [again.id]
    assert len(og.calls_to("POST /v2/alerts")) == 1


def test_a_create_not_processed_yet_is_retried_and_then_found(
    og: OpsgenieEmulator, pager: OpsgeniePager
) -> None:
    og.hold_requests()
    with pytest.raises(IntegrationError) as pending:
        pager.open(request())
    assert (pending.value.code, pending.value.retryable) == ("not_processed_yet", True)
    og.process()
    og.hold_requests(False)
    opened = pager.open(request())
    assert [a.id for a in og.alerts()] == [opened.id]


def test_acknowledge_and_resolve_by_alias_or_by_id(
    og: OpsgenieEmulator, pager: OpsgeniePager
) -> None:
    opened = pager.open(request())
    pager.acknowledge(PageRef("incident-1-page-1", "alert", "team:checkout", None))
    alert = og.alert("incident-1-page-1")
    assert alert is not None and alert.acknowledged and alert.status == "open"
    pager.resolve(PageRef("incident-1-page-1", "alert", "team:checkout", opened.id))
    assert alert.status == "closed"
    assert [
        c.query["identifierType"] for c in og.calls_to("POST /v2/alerts/{identifier}/close")
    ] == [["id"]]


def test_plans_a_second_page_as_added_responders(
    og: OpsgenieEmulator, pager: OpsgeniePager
) -> None:
    database = PagerTarget(
        responders=(
            Responder(type="team", name="database"),
            Responder(type="user", name="dan@example.com"),
        )
    )
    assert pager.plan(CHECKOUT, alert_born=False, has_page=False) == PagePlan(
        "alert", "team:checkout"
    )
    second = pager.plan(database, alert_born=False, has_page=True)
    assert second == PagePlan("responders", "team:database,user:dan@example.com")
    assert isinstance(second, PagePlan)
    opened = pager.open(request())
    pager.add_responders(
        PageRef("incident-1-page-1", "alert", "team:checkout", opened.id), second, "DB is slow"
    )
    alert = og.alert("incident-1-page-1")
    assert alert is not None
    assert {"type": "team", "name": "database"} in alert.responders
    assert {"type": "user", "username": "dan@example.com"} in alert.responders


def test_a_target_without_responders_is_routed_by_opsgenie_but_cannot_get_more_help(
    pager: OpsgeniePager,
) -> None:
    first = pager.plan(PagerTarget(kind="opsgenie"), alert_born=True, has_page=False)
    assert first == PagePlan("alert", "")  # the API integration's team and routing rules
    reason = pager.plan(PagerTarget(kind="opsgenie"), alert_born=True, has_page=True)
    assert isinstance(reason, CannotPage) and "responders" in reason.reason
    assert reason.fix.startswith("set them in the catalog (pager: {kind: opsgenie")
    only_schedule = pager.plan(
        PagerTarget(schedule="database_schedule"), alert_born=True, has_page=False
    )
    assert only_schedule == PagePlan("alert", "schedule:database_schedule")


def test_who_is_on_call_comes_from_the_schedule_or_the_teams(pager: OpsgeniePager) -> None:
    [bob] = pager.oncalls(CHECKOUT)  # the team's checkout_schedule
    assert (bob.email, bob.via, bob.level) == ("bob@example.com", "checkout_schedule", 1)
    [dan] = pager.oncalls(PagerTarget(schedule="database_schedule"))
    assert dan.name == "dan@example.com"
    with pytest.raises(PagerRefused, match="no Opsgenie schedule"):
        pager.oncalls(PagerTarget())
    with pytest.raises(PagerRefused, match="no schedule named nope"):
        pager.oncalls(PagerTarget(schedule="nope"))


def test_person_email_is_the_username(og: OpsgenieEmulator, pager: OpsgeniePager) -> None:
    assert pager.person_email("bob@example.com") == "bob@example.com"
    user = og.account.user("carol@example.com")
    assert user is not None and pager.person_email(user.id) == "carol@example.com"
    assert pager.person_email("00000000-0000-0000-0000-000000000000") is None


def test_a_wrong_key_is_an_error_not_worth_retrying(og: OpsgenieEmulator) -> None:
    pager = pager_for(og, "wrong")
    with pytest.raises(IntegrationError) as refused:
        pager.open(request())
    assert (refused.value.code, refused.value.retryable) == ("http_401", False)
    assert "Could not authenticate" in str(refused.value)


def test_opsgenies_validation_errors_are_not_retried_and_are_named(
    og: OpsgenieEmulator, pager: OpsgeniePager
) -> None:
    with pytest.raises(IntegrationError) as refused:
        pager.open(request(title=" "))
    assert (refused.value.code, refused.value.retryable) == ("http_422", False)
    assert "message: Message can not be empty." in str(refused.value)


def test_the_rate_limit_is_retried_after_opsgenies_period(
    og: OpsgenieEmulator, pager: OpsgeniePager
) -> None:
    og.rate_limits = True
    og.set_rate_limit("alert", per_minute=1, burst=1)  # the look-up by alias takes it
    with pytest.raises(IntegrationError) as limited:
        pager.open(request())
    assert og.alerts() == []
    assert (limited.value.code, limited.value.retryable) == ("http_429", True)
    assert limited.value.retry_after == 60.0


def test_server_errors_and_an_unreachable_opsgenie_are_retried(
    og: OpsgenieEmulator, pager: OpsgeniePager
) -> None:
    og.fail("POST /v2/alerts", status=503)
    with pytest.raises(IntegrationError) as failed:
        pager.open(request())
    assert (failed.value.code, failed.value.retryable) == ("http_503", True)
    og.stop()
    with pytest.raises(IntegrationError) as gone:
        pager_for(og).acknowledge(PageRef("incident-1-page-1", "alert", "team:checkout", None))
    assert (gone.value.code, gone.value.retryable) == ("unreachable", True)


def test_the_pager_is_built_from_the_settings_when_the_api_key_is_set(
    og: OpsgenieEmulator,
) -> None:
    assert wiring.opsgenie_pager(Settings(database_url="sqlite://")) is None
    settings = Settings(
        database_url="sqlite://", opsgenie_api_key=og.api_key, opsgenie_api_url=og.url
    )
    pager = wiring.opsgenie_pager(settings)
    assert pager is not None and (pager.kind, pager.name) == ("opsgenie", "Opsgenie")
    assert [o.email for o in pager.oncalls(CHECKOUT)] == ["bob@example.com"]
    assert Settings(database_url="sqlite://").opsgenie_api_url == "https://api.opsgenie.com"


def test_a_key_with_a_slash_or_a_space_stays_one_path_segment(
    og: OpsgenieEmulator, pager: OpsgeniePager
) -> None:
    opened = pager.open(request("incident 9/checkout?x"))
    pager.acknowledge(PageRef("incident 9/checkout?x", "alert", "team:checkout", None))
    alert = og.alert("incident 9/checkout?x")
    assert alert is not None and alert.id == opened.id and alert.acknowledged


# -- OPSGENIE_APP_URL: the alert's page in the web app --------------------------------------------
OPSGENIE_APP = "https://acme.app.opsgenie.com"
JSM_OPS = "https://acme.atlassian.net/jira/ops"


def test_without_the_app_url_a_page_has_no_link(pager: OpsgeniePager) -> None:
    assert pager.open(request()).url is None


@pytest.mark.parametrize(
    ("app_url", "path"),
    [
        (OPSGENIE_APP, "/alert/detail/{id}/details"),  # Opsgenie's alert detail page
        (OPSGENIE_APP + "/", "/alert/detail/{id}/details"),
        (JSM_OPS, "/alerts/{id}"),  # Jira Service Management Operations'
    ],
)
def test_with_the_app_url_a_page_links_to_its_alert(
    og: OpsgenieEmulator, app_url: str, path: str
) -> None:
    client = OpsgenieClient(api_key=og.api_key, api_url=og.url, timeout=5)
    pager = OpsgeniePager(client, confirm_pause=0.0, app_url=app_url)
    opened = pager.open(request())
    again = pager.open(request())  # found by its alias: the same link
    alert = og.alert("incident-1-page-1")
    assert alert is not None
    link = app_url.rstrip("/") + path.format(id=alert.id)
    assert (opened.id, opened.url) == (again.id, again.url) == (alert.id, link)
    client.close()


def test_the_app_url_comes_from_the_settings(og: OpsgenieEmulator) -> None:
    settings = Settings(
        database_url="sqlite://",
        opsgenie_api_key=og.api_key,
        opsgenie_api_url=og.url,
        opsgenie_app_url=JSM_OPS + "/",
    )
    pager = wiring.opsgenie_pager(settings)
    assert pager is not None and pager.app_url == JSM_OPS
    assert Settings(database_url="sqlite://").opsgenie_app_url is None

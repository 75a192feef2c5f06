"""With JIRA_SERVICE_DESK naming a service project, the post-mortem is raised there as a Jira
Service Management request (over HTTPS against the emulator's `/rest/servicedeskapi`), of the
request type the catalog names; its follow-ups stay issues of JIRA_PROJECT linked to it, the page
is linked to it, a lost answer never raises a second, and a request type the desk does not have is
a clear error in the channel and in `incidentbot config check`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.checks import Level, run_checks
from bot.sandbox import Sandbox, ScriptedClock
from tests.e2e.conftest import (
    People,
    api,
    command,
    incidents,
    post,
    run_incident,
    scrape,
    value,
)
from tests.fixtures.alerts import alertmanager, am_alert

CREATE = "POST /rest/servicedeskapi/request"
LEVEL = "Incident responders"
FORM = ("summary", "description", "labels")


def desk_sandbox(
    db_url: str, catalog: dict[str, Any] | None = None, settings: dict[str, Any] | None = None
) -> Iterator[tuple[Sandbox, ScriptedClock, People]]:
    clock = ScriptedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3))
    extra = {"jira_service_desk": "PIR", **(settings or {})}
    with Sandbox(db_url, clock=clock, catalog_extra=catalog, settings_extra=extra) as sb:
        sb.jira.add_project("PIR", "Post-incident reviews")
        sb.jira.add_service_desk(
            "PIR",
            (
                ("Get IT help", "Task", ("summary", "description")),
                ("Post-incident review", "Task", FORM),
            ),
        )
        people = People(
            *(sb.slack.user_id(n) for n in ("alice", "bob", "carol")),
            sb.slack.channel_by_name("general")["id"],  # type: ignore[index]
        )
        yield sb, clock, people


@pytest.fixture
def desk(db_url: str) -> Iterator[tuple[Sandbox, ScriptedClock, People]]:
    yield from desk_sandbox(db_url)


def texts(sb: Sandbox, channel: str) -> list[str]:
    return [str(m.get("text", "")) for m in sb.slack.messages(channel)]


def request_type_id(sb: Sandbox, name: str) -> str:
    (call,) = [c for c in sb.jira.calls if c.route.endswith("/requesttype") and c.ok][:1]
    return next(str(t["id"]) for t in call.response["values"] if t["name"] == name)


def postmortems(sb: Sandbox) -> list[dict[str, Any]]:
    return [i for i in sb.jira.issues() if "postmortem" in i["fields"]["labels"]]


def test_the_postmortem_is_a_request_of_the_review_type_with_follow_ups_linked(
    desk: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, clock, p = desk
    channel = run_incident(sb, p, clock)
    command(sb, p.alice, channel, "close")
    (raised,) = sb.jira.calls_to(CREATE)
    assert raised.status == 201
    assert raised.json["requestTypeId"] == request_type_id(sb, "Post-incident review")
    values = raised.json["requestFieldValues"]
    assert values["summary"] == "Post-mortem: #1 Checkout returns 500s"
    assert "incidentbot-1" in values["labels"]  # found by it after a lost answer
    (postmortem,) = postmortems(sb)
    assert postmortem["key"] == raised.response["issueKey"]
    assert postmortem["key"].startswith("PIR-")
    assert "h2. Timeline (UTC)" in postmortem["fields"]["description"]
    followups = [i for i in sb.jira.issues(project="OPS")]
    assert len(followups) == 2
    for f in followups:
        assert any(
            {link["inwardIssue"], link["outwardIssue"]} == {postmortem["key"], f["key"]}
            for link in sb.jira.links
        )
    remote = {r["globalId"]: r["object"]["url"] for r in sb.jira.remote_links(postmortem["key"])}
    (page,) = api(sb, "/api/incidents/1").json()["pages"]
    assert remote["incidentbot:1:pagerduty"] == page["html_url"]  # the incident it paged
    assert any(
        f"Post-mortem drafted in Jira Service Management: <{sb.jira.url}/browse/{postmortem['key']}|"
        in t
        for t in texts(sb, channel)
    )
    assert not sb.jira.calls_to("POST issue") or all(
        c.json["fields"]["project"] == {"key": "OPS"} for c in sb.jira.calls_to("POST issue")
    )


JSM_OPS = "https://acme.atlassian.net/jira/ops"  # OPSGENIE_APP_URL of a JSM Operations site


def test_the_postmortem_request_links_the_jsm_operations_alert_that_paged(db_url: str) -> None:
    """An alert on an Opsgenie service (the sandbox's `billing`) pages JSM Operations; with
    OPSGENIE_APP_URL set, the page links to its alert, and so does the post-mortem request."""
    for sb, clock, p in desk_sandbox(db_url, settings={"opsgenie_app_url": JSM_OPS}):
        starts = (clock.now() - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
        firing = alertmanager(
            group_key='{}/{service="billing"}:{alertname="High5xx"}',
            alerts=[am_alert(starts_at=starts, extra_labels={"service": "billing"})],
        )
        firing["commonLabels"]["service"] = "billing"
        post(sb, "/webhooks/alertmanager", firing)
        (incident,) = incidents(sb)
        alert = sb.opsgenie.alert(f"incidentbot-{incident['id']}")
        assert alert is not None
        link = f"{JSM_OPS}/alerts/{alert.id}"
        (page,) = incident["pages"]
        assert (page["pager"], page["html_url"]) == ("opsgenie", link)

        channel = incident["channel"]["id"]
        sb.slack.join(channel, p.alice)
        command(sb, p.alice, channel, "commander")
        command(sb, p.alice, channel, "resolve Rolled back")
        command(sb, p.alice, channel, "close")
        (postmortem,) = postmortems(sb)
        assert postmortem["key"].startswith("PIR-")
        remote = {r["globalId"]: r["object"] for r in sb.jira.remote_links(postmortem["key"])}
        assert remote[f"incidentbot:{incident['id']}:opsgenie"] == {
            **remote[f"incidentbot:{incident['id']}:opsgenie"],
            "url": link,
            "title": "Opsgenie incident (billing)",
        }
        assert link in postmortem["fields"]["description"]


def test_a_lost_answer_does_not_raise_a_second_request(
    desk: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, clock, p = desk
    channel = run_incident(sb, p, clock)
    sb.jira.fail_next(0, route=CREATE, apply=True)  # JSM raises it, the answer is lost
    command(sb, p.alice, channel, "close")
    assert value(scrape(sb), "incidentbot_outbox_retrying", integration="jira") == 1
    for _ in range(3):
        clock.advance(seconds=60)
        sb.bot.runner.sweep()
    assert len(sb.jira.calls_to(CREATE)) == 1
    assert len(postmortems(sb)) == 1
    assert len(sb.jira.issues()) == 3  # the request and two follow-ups, once each


@pytest.fixture
def private_desk(db_url: str) -> Iterator[tuple[Sandbox, ScriptedClock, People]]:
    catalog = {"postmortem": {"private": {"security_level": LEVEL}}}
    for world in desk_sandbox(db_url, catalog):
        for project in ("OPS", "PIR"):
            world[0].jira.add_security_level(project, LEVEL)
        yield world


def test_a_private_incidents_request_gets_its_security_level_at_once(
    private_desk: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, clock, p = private_desk
    command(sb, p.alice, p.general, "declare")
    view = sb.slack.views(p.alice)[-1]
    reply = sb.slack.submit_view(
        p.alice, view["id"], {"title": "Leaked tokens", "severity": "SEV2", "private": ["private"]}
    )
    assert reply.status == 200, reply.body
    sb.settle()
    channel = str(api(sb, "/api/incidents/1").json()["channel"]["id"])
    command(sb, p.alice, channel, "followup Rotate the CI tokens")
    clock.advance(minutes=30)
    command(sb, p.alice, channel, "resolve Tokens revoked")
    command(sb, p.alice, channel, "close")
    (raised,) = sb.jira.calls_to(CREATE)
    key = raised.response["issueKey"]
    after = [c for c in sb.jira.calls if c.time >= raised.time and c.route != CREATE]
    assert after[0].route == "PUT issue/{issueIdOrKey}" and after[0].params["issueIdOrKey"] == key
    assert after[0].json["fields"]["security"] == {"name": LEVEL}
    for issue in sb.jira.issues():
        assert issue["fields"]["security"]["name"] == LEVEL, issue["key"]


def test_a_request_type_the_desk_lacks_is_named_with_its_fix(db_url: str) -> None:
    for sb, clock, p in desk_sandbox(db_url, {"postmortem": {"request_type": "Postmortem"}}):
        channel = run_incident(sb, p, clock)
        command(sb, p.alice, channel, "close")
        (notice,) = [
            t for t in texts(sb, channel) if "Jira Service Management refused the post-mortem" in t
        ]
        assert "service desk PIR has no request type “Postmortem”" in notice
        assert "“Get IT help”, “Post-incident review”" in notice
        assert "set postmortem.request_type in the catalog" in notice
        assert sb.jira.calls_to(CREATE) == [] and sb.jira.issues() == []
        checks = {c.name: c for c in run_checks(sb.settings)}
        check = checks["jira request type"]
        assert check.level is Level.FAILED
        assert "no request type “Postmortem”" in check.detail
        assert "postmortem.request_type" in (check.fix or "")
        assert checks["jira service desk"].ok


def test_a_service_desk_the_user_cannot_see_is_named_with_its_fix(
    desk: tuple[Sandbox, ScriptedClock, People],
) -> None:
    sb, _, _ = desk
    settings = sb.settings.model_copy(update={"jira_service_desk": "HELP"})
    check = {c.name: c for c in run_checks(settings)}["jira service desk"]
    assert check.level is Level.FAILED
    assert "JIRA_SERVICE_DESK=HELP names no service desk" in check.detail
    assert "PIR (1)" in check.detail and "JIRA_SERVICE_DESK" in (check.fix or "")


def test_follow_ups_as_sub_tasks_are_made_in_the_requests_project(db_url: str) -> None:
    for sb, clock, p in desk_sandbox(db_url, {"postmortem": {"followups_as": "subtasks"}}):
        channel = run_incident(sb, p, clock)
        command(sb, p.alice, channel, "close")
        (postmortem,) = postmortems(sb)
        subtasks = [i for i in sb.jira.issues() if i["key"] != postmortem["key"]]
        assert len(subtasks) == 2
        for issue in subtasks:
            assert issue["key"].startswith("PIR-")
            assert issue["fields"]["parent"]["key"] == postmortem["key"]

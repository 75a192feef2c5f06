"""Each service's post-mortem goes where its catalog entry's `tracker:` says, through the Jira
emulator over HTTPS: `payments` (`tracker: {project: PAY}`) gets its post-mortem and follow-ups
in PAY while a declared incident's go to JIRA_PROJECT; with a service desk set up, a service of
`kind: issues` still gets a plain issue; `kind: service_desk` without a desk says which setting
is missing, in the channel and in `incidentbot config check`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.checks import Level, run_checks
from bot.sandbox import Sandbox, ScriptedClock
from tests.e2e.conftest import People, command, incidents, post, run_incident
from tests.fixtures.alerts import alertmanager, am_alert

DESK_REQUEST = "POST /rest/servicedeskapi/request"


def sandbox(
    db_url: str, tracker: dict[str, Any], settings: dict[str, Any] | None = None
) -> Iterator[tuple[Sandbox, ScriptedClock, People]]:
    clock = ScriptedClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3))
    catalog = {"services": {"payments": {"tracker": tracker}}}
    with Sandbox(db_url, clock=clock, catalog_extra=catalog, settings_extra=settings) as sb:
        sb.jira.add_project("PAY", "Payments")
        people = People(
            *(sb.slack.user_id(n) for n in ("alice", "bob", "carol")),
            sb.slack.channel_by_name("general")["id"],  # type: ignore[index]
        )
        yield sb, clock, people


def payments_incident(sb: Sandbox, p: People, clock: ScriptedClock) -> str:
    """An alert on `payments` opens an incident; it gets a follow-up, is resolved and closed."""
    starts = (clock.now() - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    firing = alertmanager(
        group_key='{}/{service="payments"}:{alertname="High5xx"}',
        alerts=[am_alert(starts_at=starts, extra_labels={"service": "payments"})],
    )
    firing["commonLabels"]["service"] = "payments"
    post(sb, "/webhooks/alertmanager", firing)
    incident = next(i for i in incidents(sb) if i["service"] == "payments")
    channel = str(incident["channel"]["id"])
    sb.slack.join(channel, p.alice)
    command(sb, p.alice, channel, "commander")
    command(sb, p.alice, channel, "followup Retry card captures idempotently")
    clock.advance(minutes=20)
    command(sb, p.alice, channel, "resolve Rolled back")
    command(sb, p.alice, channel, "close")
    return channel


def texts(sb: Sandbox, channel: str) -> list[str]:
    return [str(m.get("text", "")) for m in sb.slack.messages(channel)]


def made_for(sb: Sandbox, incident: int) -> dict[str, str]:
    """The issues exported for an incident: key → what it is (postmortem or followup)."""
    return {
        i["key"]: "postmortem" if "postmortem" in i["fields"]["labels"] else "followup"
        for i in sb.jira.issues()
        if f"incidentbot-{incident}" in i["fields"]["labels"]
    }


def test_payments_goes_to_its_project_and_another_incident_to_the_default(db_url: str) -> None:
    for sb, clock, p in sandbox(db_url, {"project": "PAY"}):
        run_incident(sb, p, clock)  # #1: declared, no service, two follow-ups
        command(sb, p.alice, str(incidents(sb)[0]["channel"]["id"]), "close")
        payments = payments_incident(sb, p, clock)  # #2
        declared = made_for(sb, 1)
        assert sorted(declared.values()) == ["followup", "followup", "postmortem"]
        assert all(key.startswith("OPS-") for key in declared), declared
        ours = made_for(sb, 2)
        assert sorted(set(ours.values())) == ["followup", "postmortem"]  # (a playbook adds one)
        assert all(key.startswith("PAY-") for key in ours), ours
        (postmortem,) = [k for k, what in ours.items() if what == "postmortem"]
        for followup in [k for k, what in ours.items() if what == "followup"]:
            assert any(
                {link["inwardIssue"], link["outwardIssue"]} == {postmortem, followup}
                for link in sb.jira.links
            )
        assert any(
            f"Post-mortem drafted in Jira: <{sb.jira.url}/browse/{postmortem}|" in t
            for t in texts(sb, payments)
        )


def test_a_service_of_kind_issues_gets_an_issue_where_a_desk_is_set_up(db_url: str) -> None:
    tracker = {"kind": "issues", "project": "PAY"}
    for sb, clock, p in sandbox(db_url, tracker, {"jira_service_desk": "PIR"}):
        sb.jira.add_project("PIR", "Post-incident reviews")
        sb.jira.add_service_desk("PIR")
        payments = payments_incident(sb, p, clock)
        assert sb.jira.calls_to(DESK_REQUEST) == []
        ours = made_for(sb, 1)
        assert sorted(set(ours.values())) == ["followup", "postmortem"]  # (a playbook adds one)
        assert all(key.startswith("PAY-") for key in ours), ours
        assert any("Post-mortem drafted in Jira: <" in t for t in texts(sb, payments))
        checks = {c.name: c for c in run_checks(sb.settings)}
        assert checks["jira tracker (payments)"].ok, checks["jira tracker (payments)"]


def test_a_service_desk_without_a_desk_says_which_setting_is_missing(db_url: str) -> None:
    for sb, clock, p in sandbox(db_url, {"kind": "service_desk"}):
        payments = payments_incident(sb, p, clock)
        assert sb.jira.issues() == [] and sb.jira.calls_to(DESK_REQUEST) == []
        (said,) = [t for t in texts(sb, payments) if "Post-mortem drafted (not exported" in t]
        assert "payments's post-mortems to a service desk" in said
        assert "set JIRA_SERVICE_DESK" in said
        check = {c.name: c for c in run_checks(sb.settings)}["jira tracker (payments)"]
        assert check.level is Level.FAILED and "JIRA_SERVICE_DESK" in check.fix

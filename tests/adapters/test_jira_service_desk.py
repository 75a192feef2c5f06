"""The ServiceDesk adapter against the Jira emulator over HTTPS, as Cloud and as Data Center:
which request type it picks, what it sends, and how a desk or type it cannot find is said."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.adapters.jira import JiraTracker
from bot.adapters.jira_service_desk import JiraServiceDesk
from bot.emulators.jira import JiraEmulator
from bot.flows.ports import IntegrationError

CREATE = "POST /rest/servicedeskapi/request"
BARE = ("summary", "description")


@pytest.fixture(params=["cloud", "server"])
def emu(request: pytest.FixtureRequest) -> Iterator[JiraEmulator]:
    with JiraEmulator(request.param) as emulator:
        emulator.add_project("PIR", "Post-incident reviews")
        yield emulator


def desk_of(emu: JiraEmulator, reference: str = "PIR") -> JiraServiceDesk:
    creds = emu.credentials()
    tracker = JiraTracker(
        url=emu.url,
        project="OPS",
        email=creds["basic_auth"][0] if emu.cloud else None,
        api_token=creds["basic_auth"][1] if emu.cloud else None,
        pat=None if emu.cloud else creds["token_auth"],
        ca_bundle=emu.ca_bundle,
        timeout=5,
    )
    return JiraServiceDesk(tracker, reference)


def raise_one(desk: JiraServiceDesk, request_type: str | None = None) -> str:
    return desk.create_request(
        request_type=request_type,
        summary="Post-mortem: #1 Checkout",
        description="## Timeline\n\n- 10:02 *paged*",
        labels=["postmortem", "incidentbot-1"],
    ).key


def test_unset_it_takes_the_post_incident_review_type_else_the_first(emu: JiraEmulator) -> None:
    emu.add_service_desk(
        "PIR",
        (("Get IT help", "Task", BARE), ("Post-incident review", "Task", (*BARE, "labels"))),
    )
    key = raise_one(desk_of(emu))
    (call,) = emu.calls_to(CREATE)
    assert call.json["requestFieldValues"]["labels"] == ["postmortem", "incidentbot-1"]
    assert call.json["requestFieldValues"]["description"].startswith("h2. Timeline")
    kinds = {
        t["id"]: t["name"]
        for t in emu.calls_to("GET /rest/servicedeskapi/servicedesk/{serviceDeskId}/requesttype")[
            0
        ].response["values"]
    }
    assert kinds[call.json["requestTypeId"]] == "Post-incident review"
    assert key.startswith("PIR-")


def test_a_form_without_labels_gets_them_through_the_issue_at_once(emu: JiraEmulator) -> None:
    emu.add_service_desk("PIR", (("Get IT help", "Task", BARE), ("Problem", "Task", BARE)))
    desk = desk_of(emu, "pir")  # a project key in any case
    key = raise_one(desk)
    (call,) = emu.calls_to(CREATE)
    assert "labels" not in call.json["requestFieldValues"]
    issue = emu.issue(key)
    assert issue is not None and issue["fields"]["labels"] == ["postmortem", "incidentbot-1"]
    assert "Labels field" in desk.check(None)  # config check warns about it


def test_a_request_type_is_found_by_name_or_id(emu: JiraEmulator) -> None:
    emu.add_service_desk("PIR", (("Get IT help", "Task", BARE), ("Problem", "Task", BARE)))
    desk = desk_of(emu)
    problem = desk.request_type("problem")
    assert problem.name == "Problem" and desk.request_type(problem.id) == problem


def test_a_missing_request_type_names_the_types_and_the_setting(emu: JiraEmulator) -> None:
    emu.add_service_desk("PIR", (("Get IT help", "Task", BARE),))
    with pytest.raises(IntegrationError) as info:
        raise_one(desk_of(emu), "Post-mortem")
    assert not info.value.retryable
    assert "service desk PIR has no request type “Post-mortem” (it has: “Get IT help”)" in str(
        info.value
    )
    assert "set postmortem.request_type in the catalog" in str(info.value)
    assert emu.calls_to(CREATE) == []


def test_a_desk_it_cannot_see_names_the_setting(emu: JiraEmulator) -> None:
    emu.add_service_desk("PIR", (("Get IT help", "Task", BARE),))
    with pytest.raises(IntegrationError) as info:
        raise_one(desk_of(emu, "HELP"))
    assert "JIRA_SERVICE_DESK=HELP names no service desk" in str(info.value)
    assert "PIR (1)" in str(info.value)

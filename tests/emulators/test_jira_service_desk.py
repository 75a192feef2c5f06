"""The Jira emulator's Jira Service Management API (`/rest/servicedeskapi`), over HTTPS with
`requests` trusting only the emulator's CA, as Cloud and as Data Center: service desks, request
types and their forms, raising a request (a Jira issue of the desk's project), and the service
desk API's own error bodies (`errorMessage` + `i18nErrorMessage`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from bot.emulators.jira import JiraEmulator

SD = "/rest/servicedeskapi"


@pytest.fixture(params=["cloud", "server"])
def emu(request: pytest.FixtureRequest) -> Iterator[JiraEmulator]:
    with JiraEmulator(request.param) as emulator:
        emulator.add_project("PIR", "Post-incident reviews")
        emulator.add_service_desk(
            "PIR",
            (
                ("Get IT help", "Task", ("summary", "description")),
                ("Post-incident review", "Task", ("summary", "description", "labels")),
            ),
        )
        yield emulator


def call(
    emu: JiraEmulator, method: str, path: str, body: Any = None, *, user: str | None = None
) -> requests.Response:
    creds = emu.credentials(user)
    auth: dict[str, Any] = (
        {"auth": creds["basic_auth"]}
        if "basic_auth" in creds
        else {"headers": {"Authorization": f"Bearer {creds['token_auth']}"}}
    )
    return requests.request(
        method, f"{emu.url}{path}", json=body, verify=emu.ca_bundle, timeout=10, **auth
    )


def types(emu: JiraEmulator) -> dict[str, str]:
    answer = call(emu, "GET", f"{SD}/servicedesk/1/requesttype").json()
    return {t["name"]: t["id"] for t in answer["values"]}


def test_desks_and_their_request_types_are_listed_in_pages(emu: JiraEmulator) -> None:
    desks = call(emu, "GET", f"{SD}/servicedesk").json()
    assert desks["isLastPage"] is True and desks["size"] == 1
    (desk,) = desks["values"]
    assert (desk["id"], desk["projectKey"], desk["projectName"]) == (
        "1",
        "PIR",
        "Post-incident reviews",
    )
    by_key = call(emu, "GET", f"{SD}/servicedesk/PIR").json()  # a project key works too
    assert by_key["id"] == "1"
    kinds = call(emu, "GET", f"{SD}/servicedesk/1/requesttype").json()["values"]
    assert [k["name"] for k in kinds] == ["Get IT help", "Post-incident review"]
    assert all(k["serviceDeskId"] == "1" and k["issueTypeId"] for k in kinds)
    second = call(emu, "GET", f"{SD}/servicedesk/1/requesttype?start=1&limit=1").json()
    assert [k["name"] for k in second["values"]] == ["Post-incident review"]
    form = call(emu, "GET", f"{SD}/servicedesk/1/requesttype/{kinds[1]['id']}/field").json()
    assert [f["fieldId"] for f in form["requestTypeFields"]] == ["summary", "description", "labels"]
    assert form["requestTypeFields"][0]["required"] is True


def test_a_request_is_an_issue_of_the_desks_project(emu: JiraEmulator) -> None:
    kind = types(emu)["Post-incident review"]
    answer = call(
        emu,
        "POST",
        f"{SD}/request",
        {
            "serviceDeskId": "1",
            "requestTypeId": kind,
            "requestFieldValues": {
                "summary": "Post-mortem: #1 Checkout",
                "description": "h2. Timeline",
                "labels": ["postmortem", "incidentbot-1"],
            },
        },
    )
    assert answer.status_code == 201
    created = answer.json()
    assert created["issueKey"] == "PIR-1" and created["requestTypeId"] == kind
    assert created["serviceDeskId"] == "1"
    assert created["_links"]["web"].endswith("/servicedesk/customer/portal/1/PIR-1")
    issue = emu.issue("PIR-1")
    assert issue is not None
    assert issue["fields"]["labels"] == ["postmortem", "incidentbot-1"]
    assert issue["fields"]["description"] == "h2. Timeline"
    assert issue["fields"]["issuetype"]["name"] == "Task"


def sd_error(answer: requests.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()
    assert set(body) == {"errorMessage", "i18nErrorMessage"}
    assert set(body["i18nErrorMessage"]) == {"i18nKey", "parameters"}
    return body


def test_refusals_have_the_service_desk_apis_shape(emu: JiraEmulator) -> None:
    body = sd_error(call(emu, "GET", f"{SD}/servicedesk/42/requesttype"), 404)
    assert body["errorMessage"] == "The service project you are trying to view does not exist."
    kinds = types(emu)
    request = {"serviceDeskId": "1", "requestTypeId": "999", "requestFieldValues": {}}
    body = sd_error(call(emu, "POST", f"{SD}/request", request), 404)
    assert "request type" in body["errorMessage"]
    not_on_form = {
        "serviceDeskId": "1",
        "requestTypeId": kinds["Get IT help"],
        "requestFieldValues": {"summary": "x", "labels": ["a"]},
    }
    body = sd_error(call(emu, "POST", f"{SD}/request", not_on_form), 400)
    assert "labels" in body["errorMessage"] and body["i18nErrorMessage"]["parameters"] == ["labels"]
    no_summary = {**not_on_form, "requestFieldValues": {"description": "x"}}
    body = sd_error(call(emu, "POST", f"{SD}/request", no_summary), 400)
    assert "summary" in body["errorMessage"]
    assert emu.issues(project="PIR") == []


def test_a_desk_whose_project_one_may_not_browse_does_not_exist_for_them(
    emu: JiraEmulator,
) -> None:
    emu.deny("alice", "PIR")
    assert call(emu, "GET", f"{SD}/servicedesk", user="alice").json()["values"] == []
    sd_error(call(emu, "GET", f"{SD}/servicedesk/1", user="alice"), 404)
    assert call(emu, "GET", f"{SD}/servicedesk", user="bob").json()["size"] == 1


def test_without_credentials_it_answers_401(emu: JiraEmulator) -> None:
    answer = requests.get(f"{emu.url}{SD}/servicedesk", verify=emu.ca_bundle, timeout=10)
    assert answer.status_code == 401

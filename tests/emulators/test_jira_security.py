"""The Jira emulator's issue security levels, with the real ``jira`` client over HTTPS: a
project's issue security scheme lists its levels in the create metadata, an issue is set to one
by id or name and shows it in ``fields.security``, an unknown level is a 400 on ``security``,
and a project without a scheme has no ``security`` field at all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from jira import JIRA, JIRAError

from bot.emulators.jira import JiraEmulator


@pytest.fixture(params=["cloud", "server"])
def emu(request: pytest.FixtureRequest) -> Iterator[JiraEmulator]:
    with JiraEmulator(request.param) as emulator:
        yield emulator


@pytest.fixture
def jira(emu: JiraEmulator) -> Iterator[JIRA]:
    client = JIRA(**emu.client_kwargs())
    yield client
    client.close()


def post_issue(jira: JIRA, **extra: Any) -> Any:
    fields = {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "Breach"}
    response = jira._session.post(
        jira._get_url("issue"), data=json.dumps({"fields": {**fields, **extra}})
    )
    return response.json()


def refused(jira: JIRA, **extra: Any) -> tuple[int, dict[str, Any]]:
    with pytest.raises(JIRAError) as info:
        post_issue(jira, **extra)
    assert info.value.response is not None
    return info.value.status_code or 0, info.value.response.json()


def task_fields(jira: JIRA) -> list[dict[str, Any]]:
    """The create screen of a Task in OPS (Cloud pages `issueTypes`/`fields`, DC `values`)."""
    meta = jira._get_json("issue/createmeta/OPS/issuetypes")
    task = next(t for t in meta.get("issueTypes", meta.get("values", [])) if t["name"] == "Task")
    page = jira._get_json(f"issue/createmeta/OPS/issuetypes/{task['id']}")
    return list(page.get("fields", page.get("values", [])))


def test_a_project_without_a_scheme_has_no_security_field(emu: JiraEmulator, jira: JIRA) -> None:
    status, answer = refused(jira, security={"name": "Staff"})
    assert status == 400
    assert answer["errors"] == {
        "security": "Field 'security' cannot be set. It is not on the appropriate screen, or unknown."
    }
    assert "security" not in {f["fieldId"] for f in task_fields(jira)}
    assert emu.issues() == []


def test_levels_are_offered_set_by_id_or_name_and_shown(emu: JiraEmulator, jira: JIRA) -> None:
    staff = emu.add_security_level("OPS", "Incident responders", "Only the responders")
    other = emu.add_security_level("OPS", "Security team")
    (security,) = [f for f in task_fields(jira) if f["fieldId"] == "security"]
    assert security["schema"] == {"type": "securitylevel", "system": "security"}
    assert [(v["id"], v["name"]) for v in security["allowedValues"]] == [
        (staff, "Incident responders"),
        (other, "Security team"),
    ]

    by_name = post_issue(jira, security={"name": "Incident responders"})
    by_id = post_issue(jira, security={"id": other})
    shown = jira.issue(by_name["key"]).raw["fields"]["security"]
    assert (shown["id"], shown["name"], shown["description"]) == (
        staff,
        "Incident responders",
        "Only the responders",
    )
    assert jira.issue(by_id["key"]).raw["fields"]["security"]["name"] == "Security team"
    assert jira._get_json(f"securitylevel/{staff}")["name"] == "Incident responders"

    status, answer = refused(jira, security={"name": "Everyone"})
    assert (status, answer["errors"]) == (
        400,
        {"security": "Specify a valid value for Security Level"},
    )
    status, answer = refused(jira, security={"id": int(staff)})  # ids are strings
    assert answer["errors"] == {
        "security": "Could not find valid 'id' or 'name' in security level object."
    }
    assert len(emu.issues()) == 2  # nothing written by a refused create

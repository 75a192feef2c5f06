"""The Jira emulator, exercised with the real ``jira`` client (pycontribs, on requests) over
HTTPS trusting only the emulator's CA, as Jira Cloud (Basic email + API token) and as Jira Data
Center (Bearer personal access token)."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from jira import JIRA, JIRAError

from bot.emulators.jira import JiraEmulator
from bot.settings import Settings

NOT_FOUND = {
    "errorMessages": ["Issue does not exist or you do not have permission to see it."],
    "errors": {},
}
DOC = {
    "type": "doc",
    "version": 1,
    "content": [
        {
            "type": "paragraph",
            "content": [
                {"type": "text", "text": "Checkout is "},
                {"type": "text", "text": "down", "marks": [{"type": "strong"}]},
            ],
        },
        {
            "type": "bulletList",
            "content": [
                {
                    "type": "listItem",
                    "content": [
                        {"type": "paragraph", "content": [{"type": "text", "text": "since 10:02"}]}
                    ],
                }
            ],
        },
    ],
}


# ---------------------------------------------------------------- fixtures
_OPEN: list[JIRA] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


@pytest.fixture(params=["cloud", "server"])
def emu(request: pytest.FixtureRequest) -> Iterator[JiraEmulator]:
    with JiraEmulator(request.param) as emulator:
        yield emulator


@pytest.fixture
def cloud() -> Iterator[JiraEmulator]:
    with JiraEmulator("cloud") as emulator:
        yield emulator


@pytest.fixture
def server() -> Iterator[JiraEmulator]:
    with JiraEmulator("server") as emulator:
        yield emulator


def client(emu: JiraEmulator, user: str | None = None, **kw: Any) -> JIRA:
    """How the bot configures the client against the emulator: its URL, its CA file, the
    flavour's credentials, and no retries unless asked for."""
    jira = JIRA(**{**emu.client_kwargs(user), **kw})
    _OPEN.append(jira)
    return jira


def refused(call: Callable[[], Any]) -> JIRAError:
    with pytest.raises(JIRAError) as info:
        call()
    return info.value


def body(error: JIRAError) -> Any:
    assert error.response is not None
    return error.response.json()


def new_issue(jira: JIRA, summary: str = "Checkout is down", **fields: Any) -> Any:
    fields.setdefault("issuetype", {"name": "Task"})
    fields.setdefault("project", {"key": "OPS"})
    return jira.create_issue(summary=summary, **fields)


def assignee_ref(emu: JiraEmulator, name: str) -> dict[str, str]:
    return {"accountId": emu.account_id(name)} if emu.cloud else {"name": name}


# ----------------------------------------------------- construction, auth
def test_construction_reads_server_info_with_the_flavours_auth(emu: JiraEmulator) -> None:
    assert emu.url.startswith("https://127.0.0.1:")
    assert Path(emu.ca_bundle).read_text() == emu.ca_pem and emu.ca_path == emu.ca_bundle
    jira = client(emu)
    assert [c.route for c in emu.calls] == ["GET serverInfo"]  # get_server_info=True
    info = jira.server_info()
    assert info["baseUrl"] == emu.url
    call = emu.calls[0]
    assert call.headers["x-atlassian-token"] == "no-check"
    assert call.headers["accept"].startswith("application/json")
    if emu.cloud:
        assert jira.deploymentType == "Cloud" and jira._version == (1001, 0, 0)
        secret = base64.b64encode(b"admin@example.com:jira-api-token").decode()
        assert call.headers["authorization"] == f"Basic {secret}"
        assert (call.auth_scheme, call.basic_login) == ("Basic", "admin@example.com")
    else:
        assert jira.deploymentType == "Server" and jira._version[0] >= 9
        assert call.headers["authorization"] == "Bearer jira-pat"
        assert (call.auth_scheme, call.basic_login) == ("Bearer", None)
    assert call.user == "admin" and call.version == "2"
    me = jira.myself()
    assert me["displayName"] == "Jira Admin" and me["emailAddress"] == "admin@example.com"
    if emu.cloud:
        assert me["accountId"] == emu.account_id("admin") and "name" not in me
        assert me["self"] == f"{emu.url}/rest/api/2/user?accountId={me['accountId']}"
    else:
        assert (me["name"], me["key"]) == ("admin", "JIRAUSER10100")
        assert me["self"] == f"{emu.url}/rest/api/2/user?username=admin"


def test_tls_needs_the_emulator_ca(cloud: JiraEmulator) -> None:
    with pytest.raises(requests.exceptions.SSLError):  # a ConnectionError: retried by default
        JIRA(server=cloud.url, basic_auth=cloud.basic_auth, max_retries=0)
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(cloud.url + "/rest/api/2/serverInfo")
    assert cloud.calls == []  # the handshake failed: nothing reached the API
    with urllib.request.urlopen(
        cloud.url + "/rest/api/2/serverInfo", context=cloud.ssl_context()
    ) as answer:
        assert json.load(answer)["deploymentType"] == "Cloud"  # serverInfo: anonymous


def test_wrong_or_missing_credentials_are_401(emu: JiraEmulator) -> None:
    bad = {"basic_auth": (emu.email, "nope")} if emu.cloud else {"token_auth": "nope"}
    kwargs = {"server": emu.url, "options": {"verify": emu.ca_bundle}, "max_retries": 0}
    error = refused(lambda: JIRA(**kwargs, **bad))  # type: ignore[arg-type]
    assert error.status_code == 401
    assert error.response is not None
    assert error.response.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    if emu.cloud:
        assert error.text == "Client must be authenticated to access this resource."
        assert body(error) == {"message": error.text, "status-code": 401}
        pat = refused(lambda: JIRA(**kwargs, token_auth=emu.api_token))  # type: ignore[arg-type]
        assert pat.status_code == 401  # Cloud takes no bearer API tokens
    else:
        assert "not authenticated" in error.text
        by_password = JIRA(**kwargs, basic_auth=("admin", "admin-password"))  # type: ignore[arg-type]
        _OPEN.append(by_password)
        assert by_password.myself()["name"] == "admin"
    assert emu.calls[0].user is None and emu.calls[0].status == 401
    anonymous = JIRA(**kwargs)  # type: ignore[arg-type]
    _OPEN.append(anonymous)  # serverInfo answers anonymously; the rest does not
    error = refused(anonymous.myself)
    assert error.status_code == 401
    assert body(error) == {
        "errorMessages": [
            "You are not authenticated. Authentication required to perform this operation."
        ],
        "errors": {},
    }


# ------------------------------------------------------------------ issues
def test_create_issue_with_wiki_description_and_read_it_back(emu: JiraEmulator) -> None:
    jira = client(emu)
    severity = emu.custom_field_id("Severity")
    issue = jira.create_issue(
        project="OPS",  # a key: the client looks the project up first
        summary="Checkout is down",
        issuetype={"name": "Bug"},
        description="h2. Impact\n\nCustomers cannot *pay*.\nSince 10:02.",
        labels=["incident", "sev1"],
        priority={"name": "High"},
        assignee=assignee_ref(emu, "alice"),
        duedate="2030-01-31",
        **{severity: {"value": "SEV-1"}},
    )
    assert [c.route for c in emu.calls[1:4]] == [
        "GET project/{projectIdOrKey}",
        "POST issue",
        "GET issue/{issueIdOrKey}",  # prefetch=True reloads the new issue
    ]
    created = emu.calls_to("POST issue")[0]
    assert created.status == 201 and created.response["key"] == "OPS-1"
    assert created.response == {
        "id": "10000",
        "key": "OPS-1",
        "self": f"{emu.url}/rest/api/2/issue/10000",
    }
    assert created.json["fields"]["project"] == {"id": "10000"}
    fields = issue.fields
    assert (issue.key, issue.id) == ("OPS-1", "10000")
    assert fields.summary == "Checkout is down"
    assert fields.description == "h2. Impact\n\nCustomers cannot *pay*.\nSince 10:02."
    assert fields.labels == ["incident", "sev1"]
    assert (fields.issuetype.name, fields.priority.name, fields.status.name) == (
        "Bug",
        "High",
        "To Do",
    )
    assert fields.assignee.displayName == "Alice Anders"
    assert fields.reporter.displayName == "Jira Admin" and fields.duedate == "2030-01-31"
    assert getattr(fields, severity).value == "SEV-1"
    assert fields.project.key == "OPS" and fields.resolution is None
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$", fields.created)
    stored = emu.issue("OPS-1")
    assert stored is not None and stored["fields"]["labels"] == ["incident", "sev1"]
    assert stored["self"] == f"{emu.url}/rest/api/2/issue/10000"
    assert new_issue(jira, "second").key == "OPS-2"  # keys count per project
    emu.add_project("WEB", "Web")
    assert new_issue(jira, "elsewhere", project={"key": "WEB"}).key == "WEB-1"
    assert [i["key"] for i in emu.issues()] == ["OPS-1", "OPS-2", "WEB-1"]
    assert [i["key"] for i in emu.issues(project="WEB")] == ["WEB-1"]
    only = jira.issue("OPS-1", fields="summary,labels")
    assert set(only.raw["fields"]) == {"summary", "labels"}


def test_v3_takes_and_answers_atlassian_documents(cloud: JiraEmulator) -> None:
    jira = client(cloud)
    url = cloud.url + "/rest/api/3/issue"
    fields = {"project": {"key": "OPS"}, "issuetype": {"name": "Task"}, "summary": "adf"}
    answer = jira._session.post(url, data=json.dumps({"fields": {**fields, "description": DOC}}))
    assert answer.status_code == 201
    assert answer.json()["self"] == f"{cloud.url}/rest/api/3/issue/10000"
    v3 = jira._session.get(url + "/OPS-1").json()
    assert v3["fields"]["description"] == DOC
    assert jira.issue("OPS-1").fields.description == "Checkout is *down*\n\n* since 10:02"
    error = refused(
        lambda: jira._session.post(url, data=json.dumps({"fields": {**fields, "description": "x"}}))
    )
    assert error.status_code == 400
    assert body(error) == {
        "errorMessages": [],
        "errors": {
            "description": "Operation value must be an Atlassian Document (see the Atlassian"
            " Document Format)"
        },
    }
    error = refused(lambda: new_issue(jira, description=DOC))  # v2 wants wiki markup
    assert body(error)["errors"] == {"description": "Operation value must be a string"}
    jira.add_comment("OPS-1", "wiki *comment*")
    comments = jira._session.get(url + "/OPS-1/comment").json()["comments"]
    assert comments[0]["body"]["type"] == "doc"
    assert comments[0]["body"]["content"][0]["content"][0]["text"] == "wiki *comment*"
    assert [c.version for c in cloud.calls[-3:]] == ["2", "2", "3"]


def test_server_has_no_v3(server: JiraEmulator) -> None:
    jira = client(server)
    error = refused(lambda: jira._session.get(server.url + "/rest/api/3/issue/OPS-1"))
    assert error.status_code == 404
    assert body(error) == {
        "message": f"null for uri: {server.url}/rest/api/3/issue/OPS-1",
        "status-code": 404,
    }


def test_validation_errors_are_400_with_jiras_messages(emu: JiraEmulator) -> None:
    jira = client(emu)

    def errors(**fields: Any) -> dict[str, str]:
        fields.setdefault("project", {"key": "OPS"})
        fields.setdefault("issuetype", {"name": "Task"})
        fields.setdefault("summary", "ok")
        sent = {"fields": {k: v for k, v in fields.items() if v is not None}}
        url = jira._get_url("issue")  # the client's session, without create_issue's lookups
        error = refused(lambda: jira._session.post(url, data=json.dumps(sent)))
        assert error.status_code == 400
        data = body(error)
        assert data["errorMessages"] == []
        assert error.text == ", ".join(data["errors"].values())  # what JIRAError shows
        result: dict[str, str] = data["errors"]
        return result

    error = refused(lambda: new_issue(jira, project={"key": "NOPE"}))
    assert (error.status_code, error.text) == (400, "valid project is required")
    assert errors(project={"key": "NOPE"}) == {"project": "valid project is required"}
    assert errors(project=None) == {"project": "Specify a valid project ID or key"}
    assert errors(issuetype={"name": "Story"}) == {
        "issuetype": "The issue type selected is invalid."
    }
    assert errors(summary=None) == {"summary": "You must specify a summary of the issue."}
    assert errors(summary="x" * 256) == {"summary": "Summary must be less than 255 characters."}
    assert errors(summary="two\nlines") == {
        "summary": "The summary is invalid because it contains newline characters."
    }
    assert errors(customfield_99999="x") == {
        "customfield_99999": "Field 'customfield_99999' cannot be set. It is not on the"
        " appropriate screen, or unknown."
    }
    assert errors(labels=["has space"]) == {
        "labels": "The label 'has space' contains spaces which is invalid."
    }
    assert errors(priority={"name": "Urgent"}) == {"priority": "The priority selected is invalid."}
    assert errors(issuetype={"name": "Sub-task"}) == {
        "parent": "Issue type is a sub-task but parent issue key or id not specified."
    }
    unknown = errors(assignee={"accountId": "nobody"} if emu.cloud else {"name": "mallory"})
    assert unknown == {
        "assignee": "Specified user does not exist or you do not have required permissions"
        if emu.cloud
        else "User 'mallory' does not exist."
    }
    both = errors(project={"key": "NOPE"}, summary=None)  # every problem at once
    assert set(both) == {"project", "summary"}
    assert emu.issues() == []


def test_subtasks_and_parents(emu: JiraEmulator) -> None:
    jira = client(emu)
    parent = new_issue(jira, "parent")
    sub = new_issue(jira, "child", issuetype={"name": "Sub-task"}, parent={"key": parent.key})
    assert sub.fields.parent.key == parent.key and sub.fields.issuetype.subtask is True
    assert [s.key for s in jira.issue(parent.key).fields.subtasks] == [sub.key]
    error = refused(
        lambda: new_issue(
            jira, "grandchild", issuetype={"name": "Sub-task"}, parent={"key": sub.key}
        )
    )
    assert "hierarchy" in body(error)["errors"]["parent"]
    epic = new_issue(jira, "epic", issuetype={"name": "Epic"})
    if emu.cloud:  # Cloud: a standard issue may have an epic for parent
        story = new_issue(jira, "under epic", parent={"key": epic.key})
        assert story.fields.parent.key == epic.key
        assert jira.issue(epic.key).fields.subtasks == []
    else:  # Data Center knows "parent" for sub-tasks only
        error = refused(lambda: new_issue(jira, "under epic", parent={"key": epic.key}))
        assert "cannot be set" in body(error)["errors"]["parent"]


def test_edit_update_verbs_and_assignee(emu: JiraEmulator) -> None:
    jira = client(emu)
    issue = new_issue(jira, labels=["incident"])
    issue.update(fields={"summary": "Checkout is degraded", "priority": {"name": "Highest"}})
    assert (issue.fields.summary, issue.fields.priority.name) == ("Checkout is degraded", "Highest")
    put = emu.calls_to("PUT issue/{issueIdOrKey}")[0]
    assert put.status == 204 and put.body == ""
    assert put.path == "/rest/api/2/issue/10000"  # the issue's "self" URL
    issue.update(
        update={
            "labels": [{"add": "sev2"}, {"remove": "incident"}],
            "comment": [{"add": {"body": "via update"}}],
        }
    )
    assert issue.fields.labels == ["sev2"]
    assert [c.body for c in jira.comments(issue.key)] == ["via update"]
    error = refused(
        lambda: issue.update(fields={"labels": ["a"]}, update={"labels": [{"add": "b"}]})
    )
    assert set(body(error)["errors"]) == {"labels"}
    error = refused(lambda: issue.update(fields={"issuetype": {"name": "Bug"}}))
    assert "cannot be set" in body(error)["errors"]["issuetype"]
    # assign_issue searches the user (Cloud: ?query=, Server: ?username=), then PUTs to
    # /rest/api/latest/issue/{key}/assignee with {"accountId"} or {"name"}
    assert jira.assign_issue(issue.key, "bob@example.com" if emu.cloud else "bob")
    search = emu.calls_to("GET user/search")[-1]
    assert search.query == (
        {
            "query": ["bob@example.com"],
            "includeActive": ["True"],
            "includeInactive": ["False"],
            "maxResults": ["20"],
        }
        if emu.cloud
        else {
            "username": ["bob"],
            "includeActive": ["True"],
            "includeInactive": ["False"],
            "maxResults": ["20"],
        }
    )
    assign = emu.calls_to("PUT issue/{issueIdOrKey}/assignee")[-1]
    assert assign.version == "latest" and assign.status == 204
    assert assign.json == assignee_ref(emu, "bob")
    assert jira.issue(issue.key).fields.assignee.displayName == "Bob Brown"
    jira.assign_issue(issue.key, None)
    assert jira.issue(issue.key).fields.assignee is None
    parent = new_issue(jira, "parent")
    new_issue(jira, "child", issuetype={"name": "Sub-task"}, parent={"key": parent.key})
    assert refused(lambda: parent.delete()).status_code == 400  # it has a sub-task
    parent.delete(deleteSubtasks=True)
    assert [i["key"] for i in emu.issues()] == [issue.key]
    if emu.cloud:  # the client's issue.update(assignee="name") sends {"name": …}: GDPR says no
        error = refused(lambda: issue.update(assignee="alice"))
        assert body(error)["errors"]["assignee"].startswith("Specified user does not exist")
        error = refused(lambda: jira.search_users(user="alice"))
        assert "GDPR" in error.text
    else:
        issue.update(assignee="alice")
        assert issue.fields.assignee.name == "alice"


def test_user_search_finds_people_by_email(emu: JiraEmulator) -> None:
    jira = client(emu)
    found = (
        jira.search_users(query="carol@example.com")
        if emu.cloud
        else jira.search_users(user="carol")
    )
    assert [u.displayName for u in found] == ["Carol Chen"]
    if emu.cloud:
        assert found[0].accountId == emu.account_id("carol") and found[0].timeZone == "Asia/Tokyo"
    else:
        assert (found[0].name, found[0].emailAddress) == ("carol", "carol@example.com")
    emu.deactivate("carol")
    again = jira.search_users(query="carol") if emu.cloud else jira.search_users(user="carol")
    assert list(again) == []


# ------------------------------------------------------------------- links
def test_issue_links_read_from_both_ends(emu: JiraEmulator) -> None:
    jira = client(emu)
    a, b, c = (new_issue(jira, name) for name in ("a", "b", "c"))
    types = {t.name: (t.inward, t.outward) for t in jira.issue_link_types()}
    assert types == {
        "Blocks": ("is blocked by", "blocks"),
        "Cloners": ("is cloned by", "clones"),
        "Duplicate": ("is duplicated by", "duplicates"),
        "Relates": ("relates to", "relates to"),
    }
    answer = jira.create_issue_link("Blocks", a.key, b.key)  # "a blocks b"
    assert answer.status_code == 201 and answer.text == ""
    assert emu.calls_to("POST issueLink")[0].json == {
        "type": {"name": "Blocks"},
        "inwardIssue": {"key": a.key},
        "outwardIssue": {"key": b.key},
        "comment": None,
    }
    jira.create_issue_link("Blocks", a.key, b.key)  # Jira answers 201 and adds nothing
    jira.create_issue_link("is duplicated by", a.key, c.key)  # the client swaps the ends
    assert emu.links == [
        {"id": "10000", "type": "Blocks", "inwardIssue": a.key, "outwardIssue": b.key},
        {"id": "10001", "type": "Duplicate", "inwardIssue": c.key, "outwardIssue": a.key},
    ]
    seen_from_a = jira.issue(a.key).fields.issuelinks
    assert [(link.type.outward, link.outwardIssue.key) for link in seen_from_a[:1]] == [
        ("blocks", b.key)
    ]
    assert seen_from_a[1].inwardIssue.key == c.key  # c duplicates a
    seen_from_b = jira.issue(b.key).fields.issuelinks
    assert [(link.type.inward, link.inwardIssue.key) for link in seen_from_b] == [
        ("is blocked by", a.key)
    ]
    assert seen_from_b[0].inwardIssue.fields.summary == "a"
    url = jira._get_url("issue")  # create_issue cannot send "update"; Jira takes links there
    linked = {"add": {"type": {"name": "Relates"}, "outwardIssue": {"key": a.key}}}
    sent = {"fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Bug"}, "summary": "d"}}
    d = jira._session.post(url, data=json.dumps({**sent, "update": {"issuelinks": [linked]}}))
    assert emu.links[-1] == {
        "id": "10002",
        "type": "Relates",
        "inwardIssue": d.json()["key"],
        "outwardIssue": a.key,
    }
    error = refused(lambda: jira.create_issue_link("Causes", a.key, b.key))
    assert error.status_code == 404
    error = refused(lambda: jira.create_issue_link("Relates", a.key, "OPS-99"))
    assert (error.status_code, error.text) == (404, "Issue Does Not Exist")


def test_remote_links_upsert_by_global_id(emu: JiraEmulator) -> None:
    jira = client(emu)
    issue = new_issue(jira)
    channel = {"url": "https://slack.example/archives/C1", "title": "#inc-42"}
    first = jira.add_remote_link(issue.key, channel, globalId="slack-C1", relationship="war room")
    assert emu.calls_to("GET /rest/applinks/latest/listApplicationlinks")  # asked first
    moved = {**channel, "title": "#inc-42-checkout", "summary": "renamed"}
    second = jira.add_remote_link(issue.key, moved, globalId="slack-C1")
    assert first.id == second.id == 10000  # a number, like Jira's
    posts = emu.calls_to("POST issue/{issueIdOrKey}/remotelink")
    assert [c.status for c in posts] == [201, 200]
    assert posts[0].response == {
        "id": 10000,
        "self": f"{emu.url}/rest/api/2/issue/{issue.key}/remotelink/10000",
    }
    links = jira.remote_links(issue.key)
    assert [(r.globalId, r.object.title, r.object.summary) for r in links] == [
        ("slack-C1", "#inc-42-checkout", "renamed")
    ]
    assert not hasattr(links[0], "relationship")  # replaced as a whole
    jira.add_simple_link(issue.key, {"url": "https://status.example", "title": "Status page"})
    stored = emu.remote_links(issue.key)
    assert [r.get("globalId") for r in stored] == ["slack-C1", None]
    error = refused(lambda: jira.add_simple_link(issue.key, {"title": "no url"}))
    assert body(error) == {"errorMessages": [], "errors": {"url": "'url' is required."}}


def test_comments(emu: JiraEmulator) -> None:
    jira = client(emu)
    issue = new_issue(jira)
    comment = jira.add_comment(issue.key, "Rolled back *v42*.")
    assert (comment.id, comment.body, comment.author.displayName) == (
        "10000",
        "Rolled back *v42*.",
        "Jira Admin",
    )
    assert emu.calls_to("POST issue/{issueIdOrKey}/comment")[0].status == 201
    emu.comment(issue.key, "I'm on it", author="alice")
    assert [(c.author.displayName, c.body) for c in jira.comments(issue.key)] == [
        ("Jira Admin", "Rolled back *v42*."),
        ("Alice Anders", "I'm on it"),
    ]
    assert jira.issue(issue.key).fields.comment.total == 2
    assert [c["body"] for c in emu.comments(issue.key)] == ["Rolled back *v42*.", "I'm on it"]
    error = refused(lambda: jira.add_comment(issue.key, ""))
    assert body(error) == {
        "errorMessages": [],
        "errors": {"comment": "Comment body can not be empty!"},
    }
    assert refused(lambda: jira.add_comment("OPS-99", "x")).status_code == 404


def test_transitions(emu: JiraEmulator) -> None:
    jira = client(emu)
    issue = new_issue(jira)
    assert [t["name"] for t in jira.transitions(issue.key)] == ["In Progress", "Done"]
    jira.transition_issue(issue.key, "Done", comment="resolved by rollback")
    done = jira.issue(issue.key)
    assert (done.fields.status.name, done.fields.resolution.name) == ("Done", "Done")
    assert done.fields.status.statusCategory.key == "done" and done.fields.resolutiondate
    assert [c.body for c in jira.comments(issue.key)] == ["resolved by rollback"]
    emu.transition(issue.key, "To Do")  # someone reopens it in Jira's UI
    assert jira.issue(issue.key).fields.resolution is None
    assert refused(lambda: jira.transition_issue(issue.key, "99")).status_code == 400


# ------------------------------------------------------------------ search
def test_search_with_the_flavours_endpoint(emu: JiraEmulator) -> None:
    jira = client(emu)
    new_issue(jira, "db primary down", labels=["incident-42"])
    new_issue(jira, "db replica lagging", labels=["incident-42", "sev2"])
    new_issue(jira, "unrelated")

    def keys(jql: str) -> list[str]:
        return [i.key for i in jira.search_issues(jql)]

    assert keys("labels = incident-42") == ["OPS-2", "OPS-1"]  # newest first by default
    assert keys("project = OPS AND labels = incident-42 ORDER BY key ASC") == ["OPS-1", "OPS-2"]
    assert keys("key in (OPS-1, OPS-3)") == ["OPS-3", "OPS-1"]
    assert keys('summary ~ "replica"') == ["OPS-2"]
    assert keys("summary ~ lag*") == ["OPS-2"]
    assert keys('summary ~ "\\"primary down\\""') == ["OPS-1"]  # an exact phrase
    assert keys('summary ~ "\\"down primary\\""') == []
    assert keys('text ~ "db down"') == ["OPS-1"]  # every word, any order
    assert keys("labels = sev2 OR summary ~ unrelated") == ["OPS-3", "OPS-2"]
    assert keys("labels != sev2") == ["OPS-1"]  # != never matches an empty field
    assert keys("labels is EMPTY and status = 'To Do'") == ["OPS-3"]
    assert keys("assignee is EMPTY AND reporter = currentUser() AND created >= -1d") == [
        "OPS-3",
        "OPS-2",
        "OPS-1",
    ]
    if emu.cloud:  # search_issues goes to the enhanced search; the old one is gone
        assert {c.route for c in emu.calls} >= {"GET search/jql"}
        gone = refused(
            lambda: jira._session.get(
                emu.url + "/rest/api/2/search", params={"jql": "project = OPS"}
            )
        )
        assert gone.status_code == 410 and "search/jql" in gone.text
        unbounded = refused(lambda: jira.enhanced_search_issues(""))
        assert unbounded.status_code == 400 and "Unbounded" in unbounded.text
        page = jira.enhanced_search_issues("project = OPS", maxResults=2, json_result=True)
        assert [i["key"] for i in page["issues"]] == ["OPS-3", "OPS-2"] and not page["isLast"]
        rest = jira.enhanced_search_issues(
            "project = OPS",
            nextPageToken=page["nextPageToken"],
            maxResults=2,
            fields="key",
            json_result=True,
        )
        assert [i["key"] for i in rest["issues"]] == ["OPS-1"] and rest["isLast"]
        assert "nextPageToken" not in rest
        bare = jira._session.get(emu.url + "/rest/api/3/search/jql", params={"jql": "key = OPS-1"})
        assert bare.json()["issues"] == [{"id": "10000"}]  # fields default to the id only
    else:
        assert {"GET field", "GET search"} <= {c.route for c in emu.calls}
        # the client's @cloud_api methods return None on Data Center without calling it
        assert jira.enhanced_search_issues("project = OPS") is None
        missing = refused(lambda: jira._session.get(emu.url + "/rest/api/2/search/jql"))
        assert missing.status_code == 404
        page = jira.search_issues("project = OPS", maxResults=2, json_result=True)
        assert (page["total"], page["startAt"], page["maxResults"]) == (3, 0, 2)

    def problem(jql: str) -> str:
        error = refused(lambda: jira.search_issues(jql))
        assert error.status_code == 400 and body(error)["errors"] == {}
        return error.text

    assert (
        problem("labels ~ incident") == "The operator '~' is not supported by the 'labels' field."
    )
    assert problem("nosuchfield = 1") == (
        "Field 'nosuchfield' does not exist or you do not have permission to view it."
    )
    assert problem("project = NOPE") == "The value 'NOPE' does not exist for the field 'project'."
    assert problem("key = OPS-99") == "An issue with key 'OPS-99' does not exist for field 'key'."
    assert problem("labels = ").startswith("Error in the JQL Query: Expecting either a value")
    assert problem("summary ~ db ORDER BY nosuch").startswith("Field 'nosuch' does not exist")


# -------------------------------------------------------------- permissions
def test_a_user_without_permission(emu: JiraEmulator) -> None:
    admin = client(emu)
    issue = new_issue(admin, labels=["x"])
    emu.deny("bob")
    bob = client(emu, "bob")
    assert emu.calls[-1].user == "bob"
    error = refused(lambda: bob.issue(issue.key))
    assert (error.status_code, error.text) == (
        403,
        "You do not have the permission to see the specified issue.",
    )
    error = refused(lambda: new_issue(bob))
    assert error.status_code == 403
    assert refused(lambda: bob.add_comment(issue.key, "x")).status_code == 403
    assert bob.projects() == []
    assert refused(lambda: bob.search_issues("project = OPS")).status_code == 400
    assert list(bob.search_issues("labels = x")) == []
    emu.deny("bob", status=404)  # Jira's own answer for a project one may not browse
    error = refused(lambda: bob.issue(issue.key))
    assert (error.status_code, body(error)) == (404, NOT_FOUND)
    assert body(refused(lambda: bob.project("OPS")))["errorMessages"] == [
        "No project could be found with key 'OPS'."
    ]
    emu.allow("bob")
    assert bob.issue(issue.key).key == issue.key


def test_unknown_issue_project_and_path(emu: JiraEmulator) -> None:
    jira = client(emu)
    error = refused(lambda: jira.issue("OPS-404"))
    assert (error.status_code, body(error)) == (404, NOT_FOUND)
    assert error.text == NOT_FOUND["errorMessages"][0]
    error = refused(lambda: jira.project("NOPE"))
    assert error.status_code == 404
    error = refused(lambda: jira._session.get(emu.url + "/rest/api/2/nowhere"))
    assert body(error) == {
        "message": f"null for uri: {emu.url}/rest/api/2/nowhere",
        "status-code": 404,
    }


def test_create_metadata(emu: JiraEmulator) -> None:
    jira = client(emu)
    project = jira.project("OPS")
    assert [t.name for t in project.issueTypes] == ["Epic", "Task", "Sub-task", "Bug"]
    subtask = [t for t in jira.issue_types() if t.subtask]
    assert [t.name for t in subtask] == ["Sub-task"]
    if emu.cloud:
        assert jira.issue_type_by_name("Task").id == "10001"
        meta = jira.createmeta(
            projectKeys="OPS", issuetypeNames="Bug", expand="projects.issuetypes.fields"
        )
        bug = meta["projects"][0]["issuetypes"][0]
        assert bug["name"] == "Bug" and bug["fields"]["summary"]["required"] is True
        severity = bug["fields"][emu.custom_field_id("Severity")]
        assert [v["value"] for v in severity["allowedValues"]] == [
            "SEV-1",
            "SEV-2",
            "SEV-3",
            "SEV-4",
        ]
        paged = jira._session.get(emu.url + "/rest/api/3/issue/createmeta/OPS/issuetypes").json()
        assert paged["total"] == 4 and "issueTypes" in paged  # Cloud's key
    else:  # Data Center 9 dropped createmeta; the client refuses it and pages the new one
        assert jira.issue_type_by_name("Task").id == "3"
        assert refused(lambda: jira.createmeta(projectKeys="OPS")).status_code is None
        assert [t.name for t in jira.project_issue_types("OPS")] == [
            "Epic",
            "Task",
            "Sub-task",
            "Bug",
        ]
        fields = jira.project_issue_fields("OPS", "5")
        assert {f.fieldId for f in fields if f.required} >= {"summary", "parent"}
    names = {f["name"] for f in jira.fields()}
    assert {"Summary", "Labels", "Severity"} <= names


# -------------------------------------------------------- faults and limits
def test_429_with_retry_after_reaches_the_caller_when_retries_are_off(emu: JiraEmulator) -> None:
    jira = client(emu)  # max_retries=0
    emu.fail_next(429, path_prefix="issue", retry_after=7)
    error = refused(lambda: new_issue(jira))
    assert error.status_code == 429 and error.text == "Rate limit exceeded."
    assert error.response is not None
    headers = error.response.headers
    assert headers["Retry-After"] == "7"
    assert headers["X-RateLimit-Remaining"] == "0"
    if emu.cloud:
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\dZ$", headers["X-RateLimit-Reset"])
    else:
        assert headers["X-RateLimit-Interval-Seconds"] == "60"
    assert [c.status for c in emu.calls_to("POST issue")] == [429]  # one attempt only
    assert emu.issues() == [] and emu.pending_faults() == 0


def test_rate_limit_bucket(emu: JiraEmulator) -> None:
    jira = client(emu)
    emu.rate_limits = True
    emu.set_rate_limit(per_minute=0.6, burst=2)  # no refill during the test
    jira.myself()
    jira.myself()
    error = refused(jira.myself)
    assert error.status_code == 429 and error.response is not None
    headers = error.response.headers
    assert int(headers["Retry-After"]) >= 1 and headers["X-RateLimit-Limit"] == "2"
    if not emu.cloud:  # Data Center's limiter shows itself on every answer
        assert emu.calls[-2].status == 200
    emu.rate_limits = False
    assert jira.myself()["displayName"] == "Jira Admin"


def test_503_is_retried_only_with_retry_after(emu: JiraEmulator) -> None:
    jira = client(emu, max_retries=2)
    jira._session.max_retry_delay = 0  # the client sleeps min(this, 2 x Retry-After) x jitter
    emu.fail_next(503, route="POST issue", retry_after=1)
    assert new_issue(jira).key == "OPS-1"
    assert [c.status for c in emu.calls_to("POST issue")] == [503, 201]
    emu.fail_next(503, route="POST issue")  # no Retry-After: the client gives up at once
    error = refused(lambda: new_issue(jira))
    assert (error.status_code, error.text) == (503, "Service Unavailable")
    emu.fail_next(500, path_prefix="issue")  # never retried
    assert refused(lambda: new_issue(jira)).status_code == 500
    assert [c.status for c in emu.calls_to("POST issue")] == [503, 201, 503, 500]
    emu.fail_next(502, route="POST issue", apply=True)  # Jira did it; the answer was lost
    assert refused(lambda: new_issue(jira, "lost answer")).status_code == 502
    assert [i["fields"]["summary"] for i in emu.issues()][-1] == "lost answer"


def test_timeouts_and_dropped_connections(cloud: JiraEmulator) -> None:
    jira = client(cloud, timeout=0.3)
    cloud.hang(1.5, path_prefix="myself")
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):  # not a ConnectionError: not retried
        jira.myself()
    assert time.monotonic() - started < 1.2
    cloud.fail_next(0, route="GET myself")  # hang up without answering
    with pytest.raises(requests.exceptions.ConnectionError):
        jira.myself()
    cloud.latency = 0.05
    started = time.monotonic()
    jira.myself()
    assert time.monotonic() - started >= 0.05


def test_module_entry_point_prints_what_clients_need() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.emulators.jira", "--port", "0", "--flavour", "server"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    with proc.stdout:
        try:
            lines = [proc.stdout.readline() for _ in range(9)]
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    settings = [line.strip() for line in lines if not line.startswith("#")]
    assert settings[0].startswith("JIRA_URL=https://127.0.0.1:")
    assert settings[1] == "JIRA_PAT=jira-pat"
    assert settings[2].startswith("JIRA_CA_BUNDLE=") and settings[2].endswith("ca.pem")
    assert settings[3] == "JIRA_PROJECT=OPS"
    # every KEY=value line is a setting the bot reads
    assert {line.split("=")[0].lower() for line in settings} <= set(Settings.model_fields)
    assert "# flavour: server\n" in lines and "# username: admin\n" in lines
    assert "# user alice: alice@example.com alice token=alice-pat\n" in lines

"""The catalog file keeps the keys the README documents (`pagerduty:` under a service,
`postmortem.jira_project`) while the model they fill is neutral (`pager`, `tracker_project`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.catalog_file import CatalogFileError, load_catalog


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "incidentbot.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_documented_vendor_keys_fill_the_neutral_model(tmp_path: Path) -> None:
    catalog = load_catalog(
        write(
            tmp_path,
            "services:\n"
            "  checkout-api:\n"
            "    pagerduty: {service_id: PSVC1, routing_key: " + "r" * 32 + "}\n"
            "  search:\n"
            "    pager: {escalation_policy_id: PEP1}\n"
            "postmortem:\n"
            "  jira_project: OPS\n",
        )
    )
    checkout, search = catalog.service("checkout-api"), catalog.service("search")
    assert checkout is not None and checkout.pager.service_id == "PSVC1"
    assert search is not None and search.pager.escalation_policy_id == "PEP1"
    assert catalog.postmortem.tracker_project == "OPS"


def test_a_problem_is_reported_at_the_key_the_file_spells(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "services:\n  - id: checkout\n    pagerduty:\n      routing_key: too-short\n",
    )
    with pytest.raises(CatalogFileError) as refused:
        load_catalog(path)
    (problem,) = refused.value.problems
    assert problem.startswith(f"{path}:4: services[0].pagerduty.routing_key: ")


def test_a_service_spelling_both_keys_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "services:\n  checkout:\n    pagerduty: {service_id: P1}\n    pager: {service_id: P2}\n",
    )
    with pytest.raises(CatalogFileError, match="pagerduty"):
        load_catalog(path)


def test_pagerduty_means_a_pager_of_kind_pagerduty_and_pager_names_any_kind(
    tmp_path: Path,
) -> None:
    catalog = load_catalog(
        write(
            tmp_path,
            "services:\n"
            "  checkout:\n"
            "    pagerduty: {service_id: PSVC1}\n"
            "  search:\n"
            "    pager:\n"
            "      kind: opsgenie\n"
            "      responders: [{type: team, name: search-oncall}, {type: user, id: u-1}]\n"
            "      schedule: search_schedule\n"
            "  billing:\n"
            "    pager: {service_id: PSVC2}\n",
        )
    )
    checkout, search, billing = (catalog.service(s) for s in ("checkout", "search", "billing"))
    assert checkout is not None and checkout.pager.kind == "pagerduty"
    assert search is not None and search.pager.kind == "opsgenie"
    assert [(r.type, r.name, r.id) for r in search.pager.responders] == [
        ("team", "search-oncall", None),
        ("user", None, "u-1"),
    ]
    assert search.pager.schedule == "search_schedule"
    assert billing is not None and billing.pager.kind is None  # the deployment's default pager


def test_a_problem_under_pager_is_reported_under_pager(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "services:\n  - id: checkout\n    pager:\n      kind: opsgenie\n"
        "      responders: [{type: team, name: a, id: b}]\n",
    )
    with pytest.raises(CatalogFileError) as refused:
        load_catalog(path)
    (problem,) = refused.value.problems
    assert problem.startswith(f"{path}:5: services[0].pager.responders[0]: ")
    assert "exactly one of `name` and `id`" in problem


def test_a_services_tracker_loads_and_a_bad_key_is_reported_where_it_is(tmp_path: Path) -> None:
    catalog = load_catalog(
        write(
            tmp_path,
            "services:\n"
            "  payments:\n"
            "    tracker: {kind: issues, project: PAY}\n"
            "  support-portal:\n"
            "    tracker: {kind: service_desk, request_type: Post-incident review}\n",
        )
    )
    payments, portal = catalog.service("payments"), catalog.service("support-portal")
    assert payments is not None and (payments.tracker.kind, payments.tracker.project) == (
        "issues",
        "PAY",
    )
    assert portal is not None and portal.tracker.request_type == "Post-incident review"
    path = write(tmp_path, "services:\n  payments:\n    tracker:\n      project: pay\n")
    with pytest.raises(CatalogFileError) as refused:
        load_catalog(path)
    (problem,) = refused.value.problems
    assert problem.startswith(
        f"{path}:4: services.payments.tracker.project: 'pay' is not a project key"
    )

"""A service's `tracker:` in the catalog says where its post-mortem and follow-ups go: issues or
the service desk (None: the deployment's default), the project (else `postmortem.tracker_project`,
else the tracker's default) and a desk's request type (else `postmortem.request_type`). Left out,
everything is as without it."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.catalog import Catalog, CatalogError, TrackerTarget, catalog_from_mapping
from bot.core.tracker_routes import NeedsDesk, TrackerRoute, route


def catalog(tracker: object = None, **postmortem: Any) -> Catalog:
    services: dict[str, Any] = {"checkout": {}}
    if tracker is not None:
        services["payments"] = {"tracker": tracker}
    return catalog_from_mapping({"services": services, "postmortem": postmortem})


@pytest.mark.parametrize("tracker", [None, {}])
def test_absent_or_empty_is_the_deployments_default(tracker: object) -> None:
    chosen = catalog(tracker)
    service = chosen.service("payments")
    assert service is None or service.tracker == TrackerTarget()
    for has_desk in (False, True):
        assert route(chosen, "payments", has_desk=has_desk) == TrackerRoute(has_desk, None, None)


def test_a_good_target_is_kept() -> None:
    service = catalog({"kind": "service_desk", "project": "PAY_2", "request_type": "Review"})
    target = service.service("payments")
    assert target is not None
    assert target.tracker == TrackerTarget(
        kind="service_desk", project="PAY_2", request_type="Review"
    )


@pytest.mark.parametrize(
    ("tracker", "problem"),
    [
        ({"project": "pay"}, "'pay' is not a project key.*did you mean 'PAY'"),
        ({"project": "P"}, "'P' is not a project key"),
        ({"project": "PAYMENTS_EU1"}, "'PAYMENTS_EU1' is not a project key"),
        ({"project": "1PAY"}, "'1PAY' is not a project key"),
        ({"project": "PA-Y"}, "'PA-Y' is not a project key"),
        ({"kind": "jira"}, "services.1.tracker.kind: Input should be 'issues' or 'service_desk'"),
        ({"kind": "issues", "request_type": "Review"}, "has no use with `kind: issues`"),
        ({"request_type": ""}, "services.1.tracker.request_type"),
        ({"queue": "PAY"}, "services.1.tracker.queue: Extra inputs are not permitted"),
        ("PAY", "services.1.tracker"),
    ],
)
def test_a_bad_target_is_refused_with_where_and_why(tracker: object, problem: str) -> None:
    with pytest.raises(CatalogError, match=problem):
        catalog(tracker)


def test_the_services_project_comes_before_the_postmortem_settings_and_the_default() -> None:
    chosen = catalog({"project": "PAY"}, tracker_project="OPS2")
    assert route(chosen, "payments", has_desk=False) == TrackerRoute(False, "PAY", None)
    assert route(chosen, "PAYMENTS", has_desk=False).project == "PAY"  # type: ignore[union-attr]
    assert route(chosen, "checkout", has_desk=False) == TrackerRoute(False, "OPS2", None)
    assert route(chosen, None, has_desk=False) == TrackerRoute(False, "OPS2", None)
    assert route(catalog({"project": "PAY"}), "checkout", has_desk=False).project is None  # type: ignore[union-attr]


def test_issues_go_to_the_tracker_even_when_a_desk_is_set_up() -> None:
    chosen = catalog({"kind": "issues"}, request_type="Review")
    assert route(chosen, "payments", has_desk=True).desk is False  # type: ignore[union-attr]
    assert route(chosen, "checkout", has_desk=True).desk is True  # type: ignore[union-attr]


def test_a_service_desk_takes_the_services_request_type_over_the_postmortems() -> None:
    chosen = catalog({"kind": "service_desk", "request_type": "Payments review"}, request_type="R")
    assert route(chosen, "payments", has_desk=True) == TrackerRoute(True, None, "Payments review")
    assert route(chosen, "checkout", has_desk=True) == TrackerRoute(True, None, "R")


def test_a_service_desk_without_a_desk_says_so() -> None:
    chosen = catalog({"kind": "service_desk"})
    needs = route(chosen, "payments", has_desk=False)
    assert needs == NeedsDesk("payments")
    assert (
        isinstance(needs, NeedsDesk) and "payments's post-mortems to a service desk" in needs.reason
    )
    assert isinstance(route(chosen, "checkout", has_desk=False), TrackerRoute)

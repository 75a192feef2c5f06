"""The playbooks shipped in playbooks/ lint clean against the default catalog."""

from __future__ import annotations

from pathlib import Path

from bot.core.catalog import default_catalog
from bot.core.playbooks import PostAction, matching
from bot.playbook_files import lint, load_directory

PLAYBOOKS = Path(__file__).resolve().parent.parent / "playbooks"
CAT = default_catalog()


def test_shipped_playbooks_lint_clean() -> None:
    assert lint(PLAYBOOKS, CAT) == []
    loaded = load_directory(PLAYBOOKS, CAT)
    assert len(loaded.playbooks) >= 5
    for playbook in loaded.playbooks:
        assert len(playbook.steps) >= 4, playbook.name
        assert loaded.sources[playbook.name].stem == playbook.name


def test_the_security_playbook_is_private_and_says_nothing_in_public() -> None:
    security = load_directory(PLAYBOOKS, CAT).by_name("security-incident")
    assert security is not None and security.private
    assert "comms" not in security.roles
    assert not any(isinstance(step.action, PostAction) for step in security.steps)


def test_shipped_playbooks_match_the_alerts_they_are_for() -> None:
    books = load_directory(PLAYBOOKS, CAT).playbooks

    def first(severity: str, **labels: str) -> str | None:
        found = matching(books, severity=severity, service=None, labels=labels, catalog=CAT)
        return found[0].name if found else None

    assert first("SEV1", alertname="PostgresPrimaryDown", service="postgres-main") == (
        "database-failover"
    )
    # a 5xx alert on the database: the more specific database playbook comes first
    assert first("SEV2", alertname="High5xxRate", service="db") == "database-failover"
    assert first("SEV3", alertname="PostgresReplicationLag", service="postgres") is None
    assert first("SEV3", alertname="CheckoutHigh5xxRate", service="checkout") == "high-error-rate"
    assert first("SEV2", alertname="CheckoutHighErrorRate", sloth_severity="page") == (
        "high-error-rate"
    )
    assert first("SEV2", alertname="KubeDeploymentRolloutStuck") == "bad-deploy-rollback"
    assert first("SEV2", alertname="FalcoAlert", category="security") == "security-incident"
    assert first("SEV4", alertname="FalcoAlert", category="security") is None
    assert first("SEV3", alertname="ProbeFailed", dependency="stripe") == "third-party-outage"
    assert first("SEV3", alertname="DiskFilling") is None

"""The shipped default post-mortem template: every section, times in UTC, metrics that match the
milestones, responders' text escaped, and blame language marked for the review."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.jira import TEMPLATE_ALIASES
from bot.core.catalog import default_catalog
from bot.core.lifecycle import Refused
from bot.core.milestones import Milestone, Source, Stamp
from bot.core.people import person
from bot.core.postmortem import Facts, FollowupItem, Link, StepItem, TimelineItem
from bot.flows.postmortem import Drafter
from bot.markup import to_jira_wiki

TEMPLATES = Path(__file__).resolve().parents[2] / "postmortem_templates"
T0 = datetime(2026, 11, 26, 9, 58, tzinfo=UTC)


def facts(**changes: object) -> Facts:
    at = {
        Milestone.IMPACT_STARTED: T0,
        Milestone.DETECTED: T0 + timedelta(minutes=4),
        Milestone.DECLARED: T0 + timedelta(minutes=5),
        Milestone.ACKNOWLEDGED: T0 + timedelta(minutes=9),
        Milestone.MITIGATED: T0 + timedelta(minutes=34),
        Milestone.RESOLVED: T0 + timedelta(minutes=62),
    }
    base = {
        "id": 7,
        "title": "Checkout 5xx <!channel> *spike*",
        "severity": "SEV2",
        "status": "closed",
        "service": "checkout-api",
        "description": "Payments failed for EU customers",
        "summary": "A bad config push; rolled back.",
        "private": False,
        "drill": False,
        "milestones": {m: Stamp(t, Source.CHAT, "U0ALICE") for m, t in at.items()},
        "timeline": [
            TimelineItem(T0 + timedelta(minutes=5), "declared", "Declared SEV2", "U0ALICE", "chat"),
            TimelineItem(
                T0 + timedelta(minutes=20),
                "note",
                "Rollback started | it was careless to push on Friday",
                "U0BOB",
                "chat",
            ),
        ],
        "steps": [
            StepItem(
                "high-error-rate",
                "Quantify the impact",
                "done",
                "U0ALICE",
                T0 + timedelta(minutes=5),
                T0 + timedelta(minutes=12),
            ),
            StepItem(
                "high-error-rate",
                "Find what changed",
                "skipped",
                "U0BOB",
                T0 + timedelta(minutes=5),
                T0 + timedelta(minutes=15),
                skip_reason="No deploy today",
            ),
        ],
        "followups": [FollowupItem(1, "Add a config canary", "U0BOB", date(2026, 12, 3), "open")],
        "roles": {"commander": "U0ALICE", "scribe": "U0BOB"},
        "alerts": ["CheckoutHigh5xx (alertmanager, 2026-11-26 10:02 UTC – 10:40 UTC)"],
        "links": [Link("Review page", "https://bot.example.com/incidents/7")],
    }
    base.update(changes)
    return Facts(**base)  # type: ignore[arg-type]


def render(f: Facts) -> str:
    """The draft as Jira shows it (wiki markup): what reviewers read."""
    drafter = Drafter(default_catalog(), TEMPLATES)
    draft = drafter.render(f, T0 + timedelta(days=1), {"U0ALICE": "alice", "U0BOB": "bob"})
    return to_jira_wiki(draft.markdown)


def test_every_section_is_there_with_utc_times_and_matching_metrics() -> None:
    text = render(facts())
    for heading in (
        "h2. Summary",
        "h2. Impact",
        "h2. Detection",
        "h2. Response",
        "h2. Timeline (UTC)",
        "h2. Playbook steps",
        "h2. What went well",
        "h2. Where we got lucky",
        "h2. Contributing factors",
        "h2. Participants",
        "h2. Follow-up actions",
        "h2. Links",
    ):
        assert heading in text, heading
    assert "|Impact started|2026-11-26 09:58:00 UTC|" in text
    assert "|Impact ended|2026-11-26 11:00:00 UTC|" in text
    assert "|Duration|1h 02m|" in text
    # each metric from the milestones, with its definition
    assert "|MTTD|4m 00s|time to detect = detected − impact start|" in text
    assert "|MTTA|5m 00s|time to acknowledge = acknowledged − detected|" in text
    assert "|MTTM|34m 00s|time to mitigate = mitigated − impact start|" in text
    assert "|MTTR|1h 02m|time to resolve = resolved − impact start|" in text
    assert "|2026-11-26 10:18:00 UTC|" in text  # timeline rows in UTC
    assert "CheckoutHigh5xx" in text
    assert "Incident Commander: alice" in text
    assert "No deploy today" in text  # skips keep their reasons


def test_responders_text_is_escaped_and_blame_is_marked_for_review() -> None:
    text = render(facts())
    assert "h2. For the review: wording to check" in text
    assert '* note at 10:18 UTC: "careless"' in text
    # marked in place; a | in the note does not break the timeline table; markup stays inert
    line = next(row for row in text.splitlines() if "Rollback started" in row)
    assert "*\\[review: blame language “careless”\\]* Rollback started \\| it was" in line
    assert line.count("|") - line.count("\\|") == 5
    assert text.startswith("h1. Post-mortem: Checkout 5xx <\\!channel> \\*spike\\*")


def test_people_in_responders_sentences_read_by_name() -> None:
    said = f"Paged {person('U0BOB')} and {person('U0CAROL')}"
    text = render(facts(timeline=[TimelineItem(T0, "step", said, "U0ALICE", "chat")]))
    assert "Paged @bob and @U0CAROL" in text  # by name where the export knows it, else the id


def test_a_clean_incident_has_no_review_section() -> None:
    clean = facts(
        timeline=[TimelineItem(T0, "note", "Rollback started", "U0BOB", "chat")],
    )
    assert "For the review" not in render(clean)


def test_missing_milestones_render_as_dashes() -> None:
    text = render(facts(milestones={Milestone.DECLARED: Stamp(T0, Source.CHAT, "U0ALICE")}))
    assert "|Impact started|—|" in text and "|MTTR|—|" in text


def test_the_catalog_picks_the_template_and_a_missing_one_is_a_clear_error(
    tmp_path: Path,
) -> None:
    catalog = default_catalog().model_copy(
        update={
            "postmortem": default_catalog().postmortem.model_copy(
                update={"templates_by_severity": {"SEV2": "major"}}
            )
        }
    )
    drafter = Drafter(catalog, tmp_path)
    with pytest.raises(Refused, match="No post-mortem template `major`"):
        drafter.render(facts(), T0)
    (tmp_path / "major.md.j2").write_text("# {{ pm.facts.title | md }} ({{ pm.facts.severity }})\n")
    assert drafter.render(facts(), T0).markdown.startswith("# Checkout 5xx")
    assert drafter.render(facts(service="checkout-api"), T0).template == "major"


def test_the_catalogs_postmortem_section_is_validated() -> None:
    from bot.core.catalog import CatalogError, catalog_from_mapping

    catalog = catalog_from_mapping(
        {"postmortem": {"templates_by_service": {"checkout-api": "payments"}, "issue_type": "Bug"}}
    )
    assert catalog.postmortem.template_for("SEV3", "checkout-api") == "payments"
    assert catalog.postmortem.template_for("SEV3", None) == "default"
    with pytest.raises(CatalogError, match="followups_as"):
        catalog_from_mapping({"postmortem": {"followups_as": "epics"}})
    with pytest.raises(CatalogError, match="colour"):
        catalog_from_mapping({"postmortem": {"colour": "blue"}})


def test_the_slack_preview_keeps_tables_whole_within_slacks_limits() -> None:
    from bot.adapters.slack.replies import postmortem_blocks

    long = facts(
        timeline=[
            TimelineItem(
                T0 + timedelta(minutes=i), "note", f"Step {i} of the rollback", "U0BOB", "chat"
            )
            for i in range(150)
        ]
    )
    drafter = Drafter(default_catalog(), TEMPLATES)
    _text, blocks = postmortem_blocks(drafter.render(long, T0).markdown, "default")
    assert 2 < len(blocks) <= 50
    for block in blocks[1:]:
        text = block["text"]["text"] if "text" in block else ""
        assert len(text) <= 3000
        assert text.count("```") % 2 == 0  # every code block opened in a section closes there


def test_a_template_written_with_the_old_tracker_field_names_still_renders(
    tmp_path: Path,
) -> None:
    (tmp_path / "default.md.j2").write_text(
        "{% for f in pm.followups %}{{ f.jira_key }} {{ f.jira_url }} = "
        "{{ f.issue_key }} {{ f.issue_url }}\n{% endfor %}",
        encoding="utf-8",
    )
    exported = FollowupItem(
        1, "Add a config canary", "U0BOB", None, "open", "OPS-9", "https://t.example/OPS-9"
    )
    drafter = Drafter(default_catalog(), tmp_path, aliases=TEMPLATE_ALIASES)
    draft = drafter.render(facts(followups=[exported]), T0)
    url = "https://t.example/OPS-9"
    assert draft.markdown == f"OPS-9 {url} = OPS-9 {url}\n"


def test_sources_are_named_as_the_deployment_names_its_products() -> None:
    named = Drafter(default_catalog(), TEMPLATES, {"chat": "Slack"}).render(facts(), T0).markdown
    assert "| Declared | 2026-11-26 10:03:00 UTC | Slack |" in named
    plain = Drafter(default_catalog(), TEMPLATES).render(facts(), T0).markdown
    assert "| Declared | 2026-11-26 10:03:00 UTC | chat |" in plain

"""The gold set: 34 past incidents (DST crossings, offsets from −08:00 to +10:00, missing
acknowledgements and mitigations, a drill, a declined and a merged incident) imported through
`incidentbot import` and through the API; every figure the CLI and the API report agrees, to
the second, with the figures worked by hand in tests/fixtures/GOLD.md."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot.cli import app
from bot.core.metrics import Metric
from bot.core.milestones import Milestone, Source
from bot.sandbox import API_TOKEN, Sandbox
from bot.store import incidents as q, reports
from bot.store.db import Database
from bot.store.models import Incident, OutboxRow, TimerRow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GOLD = FIXTURES / "gold_incidents.json"
EXPECTED = json.loads((FIXTURES / "gold_expected.json").read_text(encoding="utf-8"))
SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")
runner = CliRunner()


def assert_figures(got: dict[str, Any], want: dict[str, Any], where: str) -> None:
    """count exactly, seconds to the second; null where nothing counts."""
    assert set(got) == {m.value for m in Metric}, where
    for metric, figures in want.items():
        assert set(got[metric]) == {"count", "mean_s", "median_s", "p90_s"}, (where, metric)
        assert got[metric]["count"] == figures["count"], (where, metric)
        for field in ("mean_s", "median_s", "p90_s"):
            assert got[metric][field] == pytest.approx(figures[field], abs=0.5), (
                where,
                metric,
                field,
            )


@pytest.fixture
def cli_env(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.delenv("INCIDENTBOT_CONFIG", raising=False)
    return db


def cli_report(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["report", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_the_gold_set_through_the_cli(cli_env: Database) -> None:
    first = runner.invoke(app, ["import", str(GOLD)])
    assert first.exit_code == 0, first.output
    assert "Imported 34 incident(s); 0 already present." in first.stdout
    again = runner.invoke(app, ["import", str(GOLD)])
    assert again.exit_code == 0, again.output
    assert "Imported 0 incident(s); 34 already present." in again.stdout

    assert_figures(cli_report(), EXPECTED["overall"], "overall")
    for severity in SEVERITIES:
        assert_figures(
            cli_report("--severity", severity.lower()),
            EXPECTED["by_severity"][severity],
            severity,
        )
    # The breakdown the dashboard reads gives the same figures, and the counts of the missing.
    with cli_env.read() as session:
        by_severity = dict(reports.mttx_by(session=session, group="severity"))
        overall = reports.mttx_report(session=session)
    assert list(by_severity) == list(SEVERITIES)
    for severity, summaries in by_severity.items():
        want = EXPECTED["by_severity"][severity]
        assert_figures(reports.metrics_json(summaries), want, f"mttx_by {severity}")
        assert {m.value: s.missing for m, s in summaries.items()} == {
            m: f["missing"] for m, f in want.items()
        }
    assert {m.value: s.missing for m, s in overall.items()} == {
        m: f["missing"] for m, f in EXPECTED["overall"].items()
    }


def test_imported_history_is_marked_and_sets_nothing_off(cli_env: Database) -> None:
    assert runner.invoke(app, ["import", str(GOLD)]).exit_code == 0
    with cli_env.read() as session:
        incidents = session.exec(select(Incident)).all()
        assert len(incidents) == 34
        assert all(i.imported and i.conversation_id is None for i in incidents)
        assert session.exec(select(OutboxRow)).all() == []  # no Slack, no page, no Jira
        assert session.exec(select(TimerRow)).all() == []  # no reminder
        by_id = {i.external_id: i for i in incidents}
        assert (by_id["PD-Q1A2E7"].status, by_id["PD-Q1A2E7"].disposition) == (
            "closed",
            "declined",
        )
        assert (by_id["PD-Q1A2E8"].status, by_id["PD-Q1A2E8"].disposition) == ("closed", "merged")
        assert by_id["GAMEDAY-07"].drill
        berlin = by_id["PD-Q1A2B3"]
        assert berlin.id is not None
        stamps = q.milestones(session=session, incident_id=berlin.id)
        assert {s.source for s in stamps.values()} == {Source.IMPORT}
        assert stamps[Milestone.IMPACT_STARTED].at.isoformat() == "2026-03-29T00:30:00+00:00"
        assert stamps[Milestone.DETECTED].at.isoformat() == "2026-03-29T01:10:00+00:00"
        assert berlin.created_at == stamps[Milestone.DETECTED].at  # the period it counts in
        [entry] = q.timeline(session=session, incident_id=berlin.id)
        assert entry.text == "Imported from file gold_incidents.json (external id PD-Q1A2B3)"
        assert entry.source == Source.IMPORT.value


def test_the_report_command_filters_and_formats(
    cli_env: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ["import", str(GOLD)]).exit_code == 0
    # March 2026 (UTC, by detection): #1 (Berlin DST), #3 (New York DST) and #23.
    march = cli_report("--since", "2026-03-01", "--until", "2026-03-31")
    assert march["mttr"]["count"] == 3
    assert march["mttr"]["median_s"] == pytest.approx(9000)  # 7200, 9000, 15600
    # An instant with an offset: from 01:11 UTC on 29 March, #1 (detected 01:10Z) is out.
    later = cli_report("--since", "2026-03-29T03:11:00+02:00", "--until", "2026-03-31")
    assert later["mttd"]["count"] == 0 and later["mttd"]["mean_s"] is None
    assert cli_report("--service", "payments")["mttr"]["count"] == 6  # #2 8 11 15 22 30
    csv_out = runner.invoke(app, ["report", "--format", "csv", "--severity", "SEV4"])
    assert csv_out.exit_code == 0, csv_out.output
    lines = csv_out.stdout.splitlines()
    assert lines[0] == "metric,count,missing,mean_s,median_s,p90_s"
    assert lines[1] == "mttd,4,1,4200.0,3900.0,6390.0"
    monkeypatch.setenv("COLUMNS", "160")  # a terminal wide enough for the definitions
    table = runner.invoke(app, ["report"])
    assert table.exit_code == 0, table.output
    assert "time to resolve = resolved − impact start" in table.stdout
    assert "2h 10m" in table.stdout  # MTTR median 7800 s


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "last week"], "since: 'last week' is neither YYYY-MM-DD nor ISO-8601"),
        (["--until", "2026-03-29T01:30:00"], "has no UTC offset"),
        (["--severity", "SEV7"], "unknown severity 'SEV7'"),
    ],
)
def test_the_report_command_refuses_bad_filters(
    cli_env: Database, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["report", *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_a_rejected_file_stores_nothing_and_says_why(cli_env: Database, tmp_path: Path) -> None:
    rows = json.loads(GOLD.read_text(encoding="utf-8"))
    rows[3]["detected_at"] = "2026-11-01T01:05:00"  # naive
    rows[5]["severity"] = "SEV9"
    rows[7]["resolved_at"] = "2026-05-12T08:00:00+00:00"  # before its impact
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(bad)])
    assert result.exit_code == 1
    assert "row 3: detected_at: '2026-11-01T01:05:00' has no UTC offset" in result.stderr
    assert "row 5: severity: unknown severity 'SEV9'" in result.stderr
    assert "row 7: impact_started_at (2026-05-12 09:00:00 UTC) is after resolved_at" in (
        result.stderr
    )
    assert "Nothing imported: 3 row(s) rejected" in result.stderr
    with cli_env.read() as session:
        assert session.exec(select(Incident)).all() == []


# -- the API (the bot served over HTTP: the `sb` fixture of tests/e2e/conftest.py) ----------------
def post(sb: Sandbox, body: str, content_type: str, token: str = API_TOKEN) -> httpx.Response:
    return httpx.post(
        f"{sb.url}/api/incidents/import",
        content=body.encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
        timeout=30,
    )


def metrics(sb: Sandbox, query: str = "") -> httpx.Response:
    return httpx.get(
        f"{sb.url}/api/metrics{query}", headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=10
    )


def test_the_gold_set_through_the_api(sb: Sandbox) -> None:
    rows = json.loads(GOLD.read_text(encoding="utf-8"))
    lines = "\n".join(json.dumps(r) for r in rows) + "\n"
    first = post(sb, lines, "application/x-ndjson")
    assert (first.status_code, first.json()) == (200, {"imported": 34, "skipped": 0})
    again = post(sb, json.dumps(rows), "application/json")
    assert (again.status_code, again.json()) == (200, {"imported": 0, "skipped": 34})

    overall = metrics(sb)
    assert overall.status_code == 200
    assert_figures(overall.json(), EXPECTED["overall"], "GET /api/metrics")
    for severity in SEVERITIES:
        got = metrics(sb, f"?severity={severity}")
        assert got.status_code == 200
        assert_figures(got.json(), EXPECTED["by_severity"][severity], severity)
    march = metrics(sb, "?since=2026-03-01&until=2026-03-31&service=checkout-api")
    assert march.json()["mttr"]["count"] == 2  # #1 and #3


def test_the_api_refuses_what_it_cannot_take(sb: Sandbox) -> None:
    assert post(sb, "[]", "application/json", token="wrong").status_code == 401
    assert post(sb, "[]", "text/csv").status_code == 415
    assert post(sb, "[1, 2", "application/json").status_code == 400
    assert post(sb, '{"a": 1}', "application/json").status_code == 400
    big = "[" + " " * 10_000_001 + "]"
    assert post(sb, big, "application/json").status_code == 413
    rejected = post(
        sb,
        json.dumps(
            [
                {"external_id": "X-1", "title": "ok", "severity": "SEV2", "status": "closed"},
                {"external_id": "X-2", "title": "bad", "severity": "SEV2", "status": "gone"},
                {"external_id": "X-1", "title": "again", "severity": "SEV2", "status": "closed"},
            ]
        ),
        "application/json",
    )
    assert rejected.status_code == 422
    assert [e["index"] for e in rejected.json()["errors"]] == [1, 2]
    assert "unknown status 'gone'" in rejected.json()["errors"][0]["reason"]
    assert "'X-1' is also row 0" in rejected.json()["errors"][1]["reason"]
    assert metrics(sb).json()["mttd"]["count"] == 0  # nothing of it was stored
    for query, reason in (
        ("?since=soon", "since: 'soon' is neither"),
        ("?severity=SEV0", "unknown severity 'SEV0'"),
        ("?sevrity=SEV1", "unknown filter(s) sevrity"),
    ):
        bad = metrics(sb, query)
        assert bad.status_code == 400
        assert reason in bad.json()["error"]
    assert httpx.get(f"{sb.url}/api/metrics", timeout=10).status_code == 401


def test_the_dashboard_tiles_agree_with_the_gold_set(sb: Sandbox) -> None:
    """What the review meeting sees on GET / is the gold set's figures, to the displayed second."""
    import re
    from datetime import timedelta

    from bot.core.metrics import humanize

    rows = json.loads(GOLD.read_text(encoding="utf-8"))
    assert post(sb, json.dumps(rows), "application/json").status_code == 200

    def shown(value: float | None) -> str:
        return humanize(timedelta(seconds=value)) if value is not None else "—"

    def tiles(query: str) -> dict[str, str]:
        page = httpx.get(
            f"{sb.url}/?period=all{query}",
            headers={"Authorization": f"Bearer {API_TOKEN}"},
            timeout=10,
        )
        assert page.status_code == 200
        found = re.findall(
            r'<article class="tile" id="tile-(\w+)">(.*?)</article>', page.text, re.S
        )
        return {name: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)) for name, body in found}

    for query, expected in [("", EXPECTED["overall"])] + [
        (f"&severity={s}", EXPECTED["by_severity"][s]) for s in SEVERITIES
    ]:
        got = tiles(query)
        for metric in ("mttd", "mtta", "mttm", "mttr"):
            want = expected[metric]
            text = got[metric]
            assert f"{shown(want['mean_s'])} mean" in text, (query, metric, text)
            assert f"median {shown(want['median_s'])}" in text, (query, metric, text)
            assert f"p90 {shown(want['p90_s'])}" in text, (query, metric, text)
            assert f"count {want['count']}" in text, (query, metric, text)

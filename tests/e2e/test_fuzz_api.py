"""Fuzzing the JSON API, the dashboard and the review pages (hostile query parameters and ids,
the token right) and the import (hostile rows, as a JSON array and as JSON lines). Never a 5xx;
afterwards the bot is healthy, its database consistent, and every page escapes the imported
titles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import example, given, strategies as st

from tests.e2e.fuzz_rig import (
    AUTH,
    MIN_PAYLOADS,
    MIN_SENT_BY_MODULE,
    Fuzz,
    aftermath,
    assert_escaped,
    sandbox,
)
from tests.e2e.hostile import JSON_VALUES, TEXT, TIMES

MIN_SENT = MIN_SENT_BY_MODULE["api"]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fz(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    yield from sandbox(request, tmp_path_factory)


QUERY_KEYS = st.one_of(
    st.sampled_from(["limit", "offset", "since", "until", "severity", "service"]), TEXT
)
QUERY_VALUES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["", "-1", "0", "1e3", "0x10", "١٢", "NaN", "2026-11-26", "sev1", "SEV1"]),
    TIMES.map(str),
    TEXT,
)
PATH_IDS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["1", "2", "0", "-1", "1.0", "١", "²", "%00", "..", "2147483648", "9" * 19]),
    TEXT,
)


def test_fuzz_api_and_pages(fz: Fuzz) -> None:
    """Four or five per example: the list (with the hostile parameters in both orders), one
    incident, the metrics, and now and then an HTML page (dashboard, review page)."""

    @fz.examples(600)
    @example(
        params=[("offset", str(2**64)), ("limit", str(-(2**70)))], incident="2147483648", page=None
    )
    @example(params=[], incident="²", page="/incidents/{id}")
    @given(
        params=st.lists(st.tuples(QUERY_KEYS, QUERY_VALUES), max_size=4),
        incident=PATH_IDS,
        page=st.sampled_from([None, None, "/", "/incidents/{id}"]),
    )
    def run(params: list[tuple[str, str]], incident: str, page: str | None) -> None:
        # httpx itself refuses NUL in a URL and queries over 64 KB
        safe = [(k.replace("\x00", "")[:500], v.replace("\x00", "")[:500]) for k, v in params]
        fz.send("api", "GET", "/api/incidents", params=safe, headers=AUTH)
        fz.send("api", "GET", "/api/incidents", params=safe[::-1], headers=AUTH)
        quoted = quote(incident.replace("\x00", "%00"), safe="")
        fz.send("api", "GET", f"/api/incidents/{quoted}", params=safe, headers=AUTH)
        fz.send("api", "GET", "/api/metrics", params=safe, headers=AUTH)
        if page is not None:
            path = page.replace("{id}", quoted)
            assert_escaped(path, fz.send("pages", "GET", path, params=safe, headers=AUTH))

    run()


SEVERITIES = st.one_of(st.sampled_from(["SEV1", "sev2", "SEV3", "Critical", "SEV9", ""]), TEXT)
STATUSES = st.one_of(
    st.sampled_from(["investigating", "resolved", "closed", "declined", "merged", "RESOLVED"]), TEXT
)
IMPORT_TIMES = st.one_of(st.none(), TIMES)


@st.composite
def import_rows(draw: st.DrawFn) -> Any:
    row: dict[str, Any] = {
        "external_id": draw(st.one_of(st.uuids().map(str), TEXT)),
        "title": draw(TEXT),
        "severity": draw(SEVERITIES),
        "status": draw(STATUSES),
    }
    for key in ("impact_started_at", "detected_at", "resolved_at", "closed_at"):
        if draw(st.booleans()):
            row[key] = draw(IMPORT_TIMES)
    if draw(st.integers(0, 4)) == 0:
        row[draw(TEXT)] = draw(JSON_VALUES)
    if draw(st.integers(0, 4)) == 0:
        row["drill"] = draw(JSON_VALUES)
    if draw(st.integers(0, 4)) == 0:
        row["service"] = draw(TEXT)
    return row if draw(st.integers(0, 9)) else draw(JSON_VALUES)


def test_fuzz_import(fz: Fuzz) -> None:
    """Two per example: the rows as a JSON array and as JSON lines."""

    nul_row = {
        "external_id": "nul\x00byte",  # stored with U+FFFD: it must still match itself
        "title": "NUL",
        "severity": "SEV3",
        "status": "closed",
        "detected_at": "2026-01-01T00:00:00Z",
        "resolved_at": "2026-01-01T01:00:00Z",
        "closed_at": "2026-01-01T02:00:00Z",
    }

    @fz.examples(300)
    @given(rows=st.lists(import_rows(), max_size=3))
    @example(rows=[nul_row])
    def run(rows: list[Any]) -> None:
        array = json.dumps(rows).encode()
        headers = {**AUTH, "Content-Type": "application/json"}
        fz.send("import", "POST", "/api/incidents/import", content=array, headers=headers)
        lines = "\n".join(json.dumps(r) for r in rows).encode()
        headers = {**AUTH, "Content-Type": "application/x-ndjson"}
        fz.send("import", "POST", "/api/incidents/import", content=lines, headers=headers)

    run()


def test_the_fuzz_modules_send_10000_payloads_on_sqlite_alone() -> None:
    """Each module asserts its MIN_SENT at its end; together they make MIN_PAYLOADS."""
    assert sum(MIN_SENT_BY_MODULE.values()) >= MIN_PAYLOADS


def test_zz_healthy_consistent_and_inert(fz: Fuzz, request: pytest.FixtureRequest) -> None:
    aftermath(fz, request, MIN_SENT)

"""Wrong credentials are throttled per client address, on every replica alike: after
AUTH_FAILURES_PER_MINUTE (10) wrong tokens within a minute, that address gets 429 with
Retry-After for any credential until the minute is over; other addresses are untouched, and a
proxy's header names the client only when TRUSTED_PROXY_HEADER says which header it is."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bot.sandbox import ScriptedClock
from bot.store.db import Database
from bot.web.throttle import canonical
from tests.web.conftest import TOKEN, Replica, client_at

WRONG = {"Authorization": "Bearer not-the-token"}
RIGHT = {"Authorization": f"Bearer {TOKEN}"}


def test_300_wrong_tokens_from_one_address_meet_429s_after_the_tenth(
    replicas: tuple[Replica, ScriptedClock],
) -> None:
    replica, clock = replicas  # 10 s into a minute: 50 s of it left
    app = replica().web
    attacker, neighbour = client_at(app, "198.51.100.7"), client_at(app, "198.51.100.8")
    answers = [attacker.get("/api/incidents", headers=WRONG) for _ in range(300)]
    assert [a.status_code for a in answers[:10]] == [401] * 10
    assert {a.status_code for a in answers[10:]} == {429}
    assert {a.headers["retry-after"] for a in answers[10:]} == {"50"}
    assert "Retry-After" not in answers[0].headers
    # the right token from the throttled address is refused as well: no guess is confirmed
    assert attacker.get("/api/incidents", headers=RIGHT).status_code == 429
    # another address is not throttled
    assert neighbour.get("/api/incidents", headers=WRONG).status_code == 401
    assert neighbour.get("/api/incidents", headers=RIGHT).status_code == 200
    # the throttle lifts when the minute is over
    clock.advance(seconds=50)
    assert attacker.get("/api/incidents", headers=RIGHT).status_code == 200
    assert attacker.get("/api/incidents", headers=WRONG).status_code == 401


def test_logins_bearer_pages_and_the_api_share_one_count(
    replicas: tuple[Replica, ScriptedClock],
) -> None:
    replica, _clock = replicas
    app = replica(metrics_token="scrape-token-0123456789").web
    c = client_at(app, "203.0.113.9")
    wrong_ones = [
        lambda: c.post("/login", data={"token": "guess", "next": "/"}),
        lambda: c.get("/", headers=WRONG),
        lambda: c.get("/api/metrics", headers=WRONG),
        lambda: c.post("/api/incidents/import", headers=WRONG, json=[]),
        lambda: c.get("/metrics", headers=WRONG),
    ]
    assert [wrong_ones[i % 5]().status_code for i in range(10)] == [401] * 10
    login = c.post("/login", data={"token": TOKEN, "next": "/"})
    assert login.status_code == 429 and int(login.headers["retry-after"]) > 0
    assert "Try again in" in login.text and "incidentbot_review" not in login.headers.get(
        "set-cookie", ""
    )
    assert c.get("/", headers=RIGHT).status_code == 429
    assert (
        c.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789"}).status_code
        == 429
    )
    metrics = client_at(app, "203.0.113.10").get(
        "/metrics", headers={"Authorization": "Bearer scrape-token-0123456789"}
    )
    assert 'incidentbot_throttled_requests_total{endpoint="login"} 1.0' in metrics.text
    assert 'incidentbot_unauthorized_requests_total{endpoint="login"} 2.0' in metrics.text


def test_failures_count_on_every_replica(replicas: tuple[Replica, ScriptedClock]) -> None:
    replica, _clock = replicas
    one, two = client_at(replica().web, "192.0.2.1"), client_at(replica().web, "192.0.2.1")
    for i in range(10):
        assert (one if i % 2 else two).get("/api/incidents", headers=WRONG).status_code == 401
    assert one.get("/api/incidents", headers=RIGHT).status_code == 429
    assert two.get("/api/incidents", headers=RIGHT).status_code == 429


def test_a_missing_token_is_no_guess_and_successes_write_nothing(
    db: Database, replicas: tuple[Replica, ScriptedClock]
) -> None:
    replica, _clock = replicas
    c = client_at(replica().web, "192.0.2.2")
    for _ in range(30):
        assert c.get("/api/incidents").status_code == 401  # no credential at all
        assert c.get("/api/incidents", headers=RIGHT).status_code == 200
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM auth_failure")).scalar_one() == 0


def test_a_proxy_header_is_ignored_unless_configured(
    replicas: tuple[Replica, ScriptedClock],
) -> None:
    replica, _clock = replicas
    app = replica().web
    c = client_at(app, "10.1.1.1")
    for i in range(10):  # a client cannot pose as many by making the header up
        spoofed = {**WRONG, "X-Forwarded-For": f"192.0.2.{i}"}
        assert c.get("/api/incidents", headers=spoofed).status_code == 401
    fresh = {**RIGHT, "X-Forwarded-For": "192.0.2.200"}
    assert c.get("/api/incidents", headers=fresh).status_code == 429


def test_behind_a_trusted_proxy_the_right_most_entry_is_the_client(
    replicas: tuple[Replica, ScriptedClock],
) -> None:
    replica, _clock = replicas
    proxy = client_at(replica(trusted_proxy_header="X-Forwarded-For").web, "10.0.0.254")
    for i in range(10):  # entries left of the proxy's own are the client's to invent
        forwarded = {**WRONG, "X-Forwarded-For": f"192.0.2.{i}, 203.0.113.50"}
        assert proxy.get("/api/incidents", headers=forwarded).status_code == 401
    again = {**RIGHT, "X-Forwarded-For": "198.51.100.1,203.0.113.50"}
    assert proxy.get("/api/incidents", headers=again).status_code == 429
    other = {**RIGHT, "X-Forwarded-For": "203.0.113.50, 203.0.113.51"}
    assert proxy.get("/api/incidents", headers=other).status_code == 200
    # the proxy's own requests (no header) are counted against the proxy, not the client
    assert proxy.get("/api/incidents", headers=RIGHT).status_code == 200


def test_throttled_state_expires_and_old_counts_are_pruned(
    db: Database, replicas: tuple[Replica, ScriptedClock]
) -> None:
    from bot.store.sign_in import prune_sign_in_records

    replica, clock = replicas
    c = client_at(replica().web, "192.0.2.3")
    for _ in range(11):
        c.post("/login", data={"token": "guess"})
    throttled = c.post("/login", data={"token": TOKEN})
    assert throttled.status_code == 429
    clock.advance(seconds=int(throttled.headers["retry-after"]))
    assert c.post("/login", data={"token": TOKEN}).status_code == 303
    assert prune_sign_in_records(db, clock.now()) == 0  # last minute's row may still matter
    clock.advance(minutes=3)
    assert prune_sign_in_records(db, clock.now()) == 1


@pytest.mark.parametrize(
    ("given", "counted"),
    [
        ("203.0.113.5", "203.0.113.5"),
        (" 203.0.113.5 ", "203.0.113.5"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.3", "198.51.100.3"),
        ("unknown", None),
        ("203.0.113.5:443", None),
        ("", None),
    ],
)
def test_addresses_are_counted_per_host_and_ipv6_per_64(given: str, counted: str | None) -> None:
    assert canonical(given) == counted


def test_clock_minutes_bound_the_window(replicas: tuple[Replica, ScriptedClock]) -> None:
    replica, clock = replicas
    c = client_at(replica().web, "192.0.2.4")
    clock.advance(seconds=45)  # 5 s before the minute ends
    for _ in range(10):
        c.get("/api/incidents", headers=WRONG)
    late = c.get("/api/incidents", headers=WRONG)
    assert late.status_code == 429 and late.headers["retry-after"] == "5"
    clock.advance(seconds=5)
    assert c.get("/api/incidents", headers=RIGHT).status_code == 200

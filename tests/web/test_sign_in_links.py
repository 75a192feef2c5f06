"""A review sign-in link signs in once, whichever replica it reaches and however often the bot
restarts: its use is stored in the database (the SHA-256 of its nonce, never the link), kept until
the link would have expired, then pruned."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text

from bot.sandbox import ScriptedClock
from bot.store import sign_in
from bot.store.db import Database
from bot.web.auth import COOKIE
from bot.web.review import ReviewSite
from tests.web.conftest import MEMBER, Replica, client_at


def _nonce(link: str, review: ReviewSite) -> str:
    token = parse_qs(urlsplit(link).query)["t"][0]
    return str(review.sessions._links.loads(token)["n"])


def test_a_link_signs_in_once_across_replicas_and_restarts(
    db: Database, replicas: tuple[Replica, ScriptedClock]
) -> None:
    replica, _clock = replicas
    one, two = replica(), replica()
    assert one.review is not None and two.review is not None
    link = one.review.review_link(MEMBER, 1)
    first = client_at(two.web, "10.0.0.1").get(link)  # minted by one, used on the other
    assert first.status_code == 303 and COOKIE in first.cookies
    again = client_at(one.web, "10.0.0.1").get(link)
    assert again.status_code == 400 and "already used" in again.text
    assert COOKIE not in again.cookies
    one.close()
    two.close()
    restarted = replica()  # a new process, nothing carried over in memory
    after = client_at(restarted.web, "10.0.0.2").get(link)
    assert after.status_code == 400 and "already used" in after.text
    # a fresh link still works on the restarted bot
    assert restarted.review is not None
    assert (
        client_at(restarted.web, "10.0.0.2")
        .get(restarted.review.review_link(MEMBER, 1))
        .status_code
        == 303
    )


def test_the_same_link_at_once_on_two_replicas_signs_in_once(
    replicas: tuple[Replica, ScriptedClock],
) -> None:
    replica, _clock = replicas
    bots = [replica(), replica()]
    assert bots[0].review is not None
    link = bots[0].review.review_link(MEMBER, 1)
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(
                lambda i: client_at(bots[i % 2].web, "10.0.0.3").get(link).status_code, range(8)
            )
        )
    assert sorted(answers) == [303] + [400] * 7


def test_only_a_hash_is_stored_and_it_is_pruned_once_the_link_has_expired(
    db: Database, replicas: tuple[Replica, ScriptedClock]
) -> None:
    replica, clock = replicas
    bot = replica()
    assert bot.review is not None
    link = bot.review.review_link(MEMBER, 1)
    token = parse_qs(urlsplit(link).query)["t"][0]
    nonce = _nonce(link, bot.review)
    assert client_at(bot.web, "10.0.0.4").get(link).status_code == 303
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM used_sign_in_link")).all()
    assert len(rows) == 1
    stored = " ".join(str(value) for value in rows[0])
    assert token not in stored and nonce not in stored
    assert sign_in.link_digest(nonce) in stored
    # kept while the link could still be tried, pruned after it expired
    clock.advance(minutes=9)
    assert sign_in.prune_sign_in_records(db, clock.now()) == 0
    assert sign_in.used_links(db) == 1
    clock.advance(minutes=1, seconds=1)
    assert sign_in.prune_sign_in_records(db, clock.now()) == 1
    assert sign_in.used_links(db) == 0
    late = client_at(bot.web, "10.0.0.4").get(link)  # pruned, yet no second sign-in
    assert late.status_code == 400 and "expired" in late.text


def test_a_link_claiming_a_longer_life_than_links_get_is_refused(
    replicas: tuple[Replica, ScriptedClock],
) -> None:
    replica, clock = replicas
    bot = replica()
    assert bot.review is not None
    sessions = bot.review.sessions
    forever = sessions._links.dumps(
        {"u": MEMBER, "i": 1, "exp": int(clock.now().timestamp()) + 86_400, "n": "x"}
    )
    answer = client_at(bot.web, "10.0.0.5").get("/review/login", params={"t": forever})
    assert answer.status_code == 400 and "not valid" in answer.text
    assert sign_in.used_links(bot.db) == 0


def test_a_dashboard_link_signs_in_once_and_opens_the_dashboard(
    replicas: tuple[Replica, ScriptedClock],
) -> None:
    replica, _clock = replicas
    bot = replica()
    assert bot.review is not None
    link = bot.review.dashboard_link(MEMBER)
    client = client_at(bot.web, "10.0.0.6")
    first = client.get(link)
    assert first.status_code == 303 and first.headers["location"] == "/"
    assert client.get("/").status_code == 200  # the session the link set
    again = client_at(bot.web, "10.0.0.6").get(link)
    assert again.status_code == 400 and "already used" in again.text


def test_a_review_link_needs_a_real_incident_id(
    replicas: tuple[Replica, ScriptedClock],
) -> None:
    replica, _clock = replicas
    bot = replica()
    assert bot.review is not None
    with pytest.raises(ValueError, match="not an incident id"):
        bot.review.review_link(MEMBER, 0)

"""Login, logout, bearer tokens, session cookies and magic links on the review pages."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous import URLSafeSerializer

from bot.web.auth import COOKIE, safe_next
from tests.web.conftest import MEMBER, NOW, TOKEN, Web, add_incident


def test_unauthenticated_pages_go_to_the_login_form(web: Web) -> None:
    c = web.client()
    r = c.get("/")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2F"
    r = c.get("/incidents/7?x=1")
    assert r.status_code == 303
    assert parse_qs(urlsplit(r.headers["location"]).query)["next"] == ["/incidents/7?x=1"]
    form = c.get("/login?next=/incidents/7")
    assert form.status_code == 200
    assert 'name="token"' in form.text and 'value="/incidents/7"' in form.text
    assert "default-src 'none'" in form.headers["content-security-policy"]


def test_login_with_the_token_sets_a_safe_session_cookie(web: Web) -> None:
    c = web.client()
    wrong = c.post("/login", data={"token": "nope", "next": "/"})
    assert wrong.status_code == 401 and "not the API token" in wrong.text
    assert COOKIE not in wrong.cookies
    r = c.post("/login", data={"token": TOKEN, "next": "/incidents/3"})
    assert r.status_code == 303 and r.headers["location"] == "/incidents/3"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert TOKEN not in cookie  # the token is never stored in the cookie
    assert c.get("/").status_code == 200
    assert "Signed in as admin (API token)" in c.get("/").text
    # the login form sends a signed-in viewer straight on
    assert c.get("/login?next=/").status_code == 303


def test_logout_ends_the_session(web: Web) -> None:
    c = web.admin()
    assert c.get("/").status_code == 200
    r = c.post("/logout")
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert f'{COOKIE}=""' in r.headers["set-cookie"] or "Max-Age=0" in r.headers["set-cookie"]
    assert c.get("/").status_code == 303
    assert c.get("/logout").status_code == 405  # a link cannot log anyone out


def test_posts_from_another_site_are_refused(web: Web) -> None:
    c = web.client()
    r = c.post("/login", data={"token": TOKEN}, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and COOKIE not in r.cookies
    assert (
        c.post("/login", content=b"{}", headers={"content-type": "application/json"}).status_code
        == 415
    )


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/ok\r\nSet-Cookie: x=1",
        "evil.example",
        "",
    ],
)
def test_no_open_redirect_after_login(web: Web, target: str) -> None:
    r = web.client().post("/login", data={"token": TOKEN, "next": target})
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert safe_next(target) == "/"
    assert web.client().get("/login", params={"next": target}).text.count('value="/"') == 1


def test_safe_next_keeps_local_paths() -> None:
    assert safe_next("/incidents/4?period=30d") == "/incidents/4?period=30d"


def test_bearer_token(web: Web) -> None:
    c = web.client()
    assert c.get("/", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    wrong = c.get("/", headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    # another scheme (a proxy's Basic auth in front of the pages) is not ours: the cookie decides
    assert c.get("/", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 303
    admin = web.admin()
    assert admin.get("/", headers={"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 200
    assert admin.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_tampered_or_forged_or_expired_cookies_are_refused(web: Web) -> None:
    c = web.admin()
    value = c.cookies[COOKIE]
    payload, _, signature = value.rpartition(".")
    for bad in (
        value[:-2] + ("AA" if not value.endswith("AA") else "BB"),  # signature changed
        f"{payload}x.{signature}",  # payload changed
        URLSafeSerializer("guessed-key", salt="review-session").dumps(
            {"sub": "token", "exp": 2**40}
        ),  # signed with another key
        "",
    ):
        other = web.client()
        other.cookies.set(COOKIE, bad)
        r = other.get("/")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    # a session lasts 12 hours
    web.clock.advance(hours=11, minutes=59)
    assert c.get("/").status_code == 200
    web.clock.advance(minutes=2)
    r = c.get("/")
    assert r.status_code == 303 and "Max-Age=0" in r.headers["set-cookie"]


def test_a_magic_link_signs_a_slack_user_in_once(web: Web) -> None:
    iid = add_incident(web.db, title="Public one", start=NOW - timedelta(hours=3))
    link = web.site.review_link(MEMBER, iid)
    assert link.startswith("http://review.test/review/login?t=")
    # Slack's link preview fetches it first: that must not use it up
    c = web.client()
    preview = c.get(link, headers={"User-Agent": "Slackbot-LinkExpanding 1.0"})
    assert preview.status_code == 200 and COOKIE not in preview.cookies
    r = c.get(link)
    assert r.status_code == 303 and r.headers["location"] == f"/incidents/{iid}"
    assert "HttpOnly" in r.headers["set-cookie"]
    page = c.get(f"/incidents/{iid}")
    assert page.status_code == 200 and "Signed in as mia" in page.text
    again = web.client().get(link)
    assert again.status_code == 400 and "already used" in again.text


def test_a_magic_link_expires_after_ten_minutes(web: Web) -> None:
    link = web.site.review_link(MEMBER, 1)
    web.clock.advance(minutes=10, seconds=1)
    r = web.client().get(link)
    assert r.status_code == 400 and "expired" in r.text and COOKIE not in r.cookies
    fresh = web.site.review_link(MEMBER, 1)
    web.clock.advance(minutes=9, seconds=59)
    assert web.client().get(fresh).status_code == 303


def test_tampered_magic_links_are_refused(web: Web) -> None:
    link = web.site.review_link(MEMBER, 1)
    token = parse_qs(urlsplit(link).query)["t"][0]
    payload, _, signature = token.rpartition(".")
    forged = URLSafeSerializer("x", salt="review-link").dumps(
        {"u": "UADMIN01", "i": 1, "exp": 2**40, "n": "n"}
    )
    for bad in (f"{payload}A.{signature}", forged, "", "garbage"):
        r = web.client().get("/review/login", params={"t": bad})
        assert r.status_code == 400 and "not valid" in r.text


def test_a_slack_session_is_not_an_admin_session(web: Web) -> None:
    c = web.slack_user(MEMBER)
    assert "Signed in as mia" in c.get("/").text
    assert "admin" not in c.get("/").text.split("Signed in as", 1)[1].split("</span>", 1)[0]


def test_without_api_token_the_pages_are_closed(web: Web) -> None:
    from starlette.applications import Starlette

    from bot.web.review import ReviewSite

    site = ReviewSite(
        db=web.db,
        catalog=web.catalog,
        clock=web.clock,
        chat=web.directory,
        drafts=None,
        api_token=None,
        public_url=None,
    )
    from starlette.testclient import TestClient

    c = TestClient(Starlette(routes=site.routes()), follow_redirects=False)
    assert c.get("/").status_code == 401
    assert c.post("/login", data={"token": ""}).status_code == 401
    assert c.post("/login", data={"token": "None"}).status_code == 401
    assert "API_TOKEN" in c.get("/login").text
    with pytest.raises(RuntimeError):
        site.review_link(MEMBER, 1)


def test_links_are_only_minted_for_slack_user_ids(web: Web) -> None:
    for bad in ("token", "alice", "", "U1"):
        with pytest.raises(ValueError):
            web.site.review_link(bad, 1)
    # a validly signed link naming no Slack user (say, "token") opens nothing
    forged = web.site.sessions._links.dumps({"u": "token", "i": 1, "exp": 2**40, "n": "z"})
    r = web.client().get("/review/login", params={"t": forged})
    assert r.status_code == 400

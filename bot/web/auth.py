"""Who is looking at the review pages, and what they may see.

Two ways in, both behind API_TOKEN:

* the token itself — `Authorization: Bearer <API_TOKEN>`, or posted once to the login form, which
  sets a session cookie. Token holders are admins: they see every incident;
* a Slack user's magic link — `review_link(user_id, incident_id)` mints a signed link that works
  for ten minutes, once (on every replica and across restarts: its use is stored, see
  bot.store.sign_in), and sets a session bound to that Slack user. They see
  public incidents, and private ones only while they are members of the incident's channel
  (asked of Slack, cached briefly) or are in the catalog's `admins`.

Session cookies and links are signed with a key derived from API_TOKEN (itsdangerous; HMAC), so
rotating the token ends every session and link. Cookies are HttpOnly and SameSite=Lax (Secure
when PUBLIC_URL is https); they carry their own expiry, checked against the bot's clock."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request
from starlette.responses import Response

from bot.flows.ports import Clock, IntegrationError

COOKIE = "incidentbot_review"
TOKEN_SUBJECT = "token"  # noqa: S105  (a session subject, not a secret: who typed API_TOKEN)
SESSION_TTL = timedelta(hours=12)
LINK_TTL = timedelta(minutes=10)
DASHBOARD = 0  # the "incident" of a sign-in link that opens the dashboard
MEMBERS_TTL = 60.0  # seconds a channel's member list is trusted
NAMES_TTL = 600.0
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,20}$")
# Link previewers fetch a URL posted in Slack before anyone clicks it: they must not use it up.
PREVIEWERS = ("slackbot", "slack-imgproxy", "facebookexternalhit", "twitterbot", "discordbot")


@dataclass(frozen=True)
class Viewer:
    user_id: str | None  # None: a token holder
    admin: bool

    @property
    def label(self) -> str:
        return self.user_id or "API token"


class LinkRefused(Exception):
    """A magic link that does not (or no longer) open anything; the message says why."""


UseLink = Callable[[str, datetime], bool]  # (nonce, expiry) → True the first time only


class Sessions:
    """Signed session cookies and magic links. `use_link` remembers which links were used
    (bot.store.sign_in.use_link, shared by every replica)."""

    def __init__(
        self,
        api_token: str | None,
        clock: Clock,
        *,
        public_url: str | None,
        use_link: UseLink,
        session_ttl: timedelta = SESSION_TTL,
        link_ttl: timedelta = LINK_TTL,
    ) -> None:
        self._token = api_token
        self.clock = clock
        self.public_url = public_url.rstrip("/") if public_url else None
        self.session_ttl = session_ttl
        self.link_ttl = link_ttl
        self.secure = bool(public_url and public_url.lower().startswith("https://"))
        key = hmac.new(
            (api_token or secrets.token_hex(32)).encode(),
            b"incidentbot review pages v1",
            hashlib.sha256,
        ).hexdigest()
        self._cookies = URLSafeSerializer(key, salt="review-session")
        self._links = URLSafeSerializer(key, salt="review-link")
        self._use_link = use_link

    @property
    def enabled(self) -> bool:
        return self._token is not None

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def token_ok(self, given: str) -> bool:
        """The API token, compared in constant time."""
        if self._token is None:
            return False
        return hmac.compare_digest(given.strip().encode(), self._token.encode())

    # -- cookies ---------------------------------------------------------------------------------
    def issue(self, subject: str) -> str:
        expires = int(self._now() + self.session_ttl.total_seconds())
        return str(self._cookies.dumps({"sub": subject, "exp": expires}))

    def subject(self, cookie: str | None) -> str | None:
        """Who the cookie stands for; None when absent, tampered with, or expired."""
        if not cookie or not self.enabled:
            return None
        try:
            data = self._cookies.loads(cookie)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("sub"), str):
            return None
        expires = data.get("exp")
        if not isinstance(expires, int) or expires <= self._now():
            return None
        return str(data["sub"])

    def set_cookie(self, response: Response, subject: str) -> None:
        response.set_cookie(
            COOKIE,
            self.issue(subject),
            max_age=int(self.session_ttl.total_seconds()),
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.secure,
        )

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=self.secure)

    # -- magic links -----------------------------------------------------------------------------
    def review_link(self, user_id: str, incident_id: int) -> str:
        """A link that signs `user_id` in and opens the incident's review page (10 minutes, once).
        Absolute when PUBLIC_URL is set."""
        if int(incident_id) <= 0:
            raise ValueError(f"not an incident id: {incident_id!r}")
        return self._link(user_id, int(incident_id))

    def dashboard_link(self, user_id: str) -> str:
        """A link that signs `user_id` in and opens the dashboard (10 minutes, once): what
        `incidentbot sandbox` prints. It carries incident 0, which no incident has."""
        return self._link(user_id, DASHBOARD)

    def _link(self, user_id: str, incident_id: int) -> str:
        if not self.enabled:
            raise RuntimeError("review links need API_TOKEN set on the server")
        if not _SLACK_USER.match(user_id):
            raise ValueError(f"not a Slack user id: {user_id!r}")
        token = self._links.dumps(
            {
                "u": user_id,
                "i": incident_id,
                "exp": int(self._now() + self.link_ttl.total_seconds()),
                "n": secrets.token_urlsafe(12),
            }
        )
        return f"{self.public_url or ''}/review/login?{urlencode({'t': token})}"

    def redeem(self, token: str) -> tuple[str, int]:
        """(Slack user, incident id — DASHBOARD for the dashboard) of a valid, unused link, which
        is used up; raises
        LinkRefused otherwise. It writes to the database: call it from a worker thread."""
        if not self.enabled:
            raise LinkRefused("The review pages are disabled on this server (no API_TOKEN).")
        try:
            data: Any = self._links.loads(token)
        except BadSignature:
            raise LinkRefused("This link is not valid. Ask for a new one in Slack.") from None
        try:
            user, incident, expires, nonce = (
                str(data["u"]),
                int(data["i"]),
                int(data["exp"]),
                str(data["n"]),
            )
        except (KeyError, TypeError, ValueError):
            raise LinkRefused("This link is not valid. Ask for a new one in Slack.") from None
        now = self._now()
        if not _SLACK_USER.match(user) or expires > now + self.link_ttl.total_seconds() + 60:
            # (a link that claims to last longer than links last was not minted here)
            raise LinkRefused("This link is not valid. Ask for a new one in Slack.")
        if expires <= now:
            raise LinkRefused(
                "This link has expired (links work for 10 minutes). Ask for a new one with "
                "/incident review."
            )
        if not self._use_link(nonce, datetime.fromtimestamp(expires, UTC)):
            raise LinkRefused(
                "This link was already used. Ask for a new one with /incident review."
            )
        return user, incident

    # -- the request -----------------------------------------------------------------------------
    def viewer(self, request: Request, admins: Iterable[str]) -> Viewer | None:
        """The viewer from a bearer token or the session cookie. A wrong bearer token is
        refused (WrongBearer) rather than falling back to the cookie; other schemes (a proxy's
        Basic auth in front of the pages) are not ours and are ignored."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            if self.token_ok(token):
                return Viewer(None, True)
            raise WrongBearer
        subject = self.subject(request.cookies.get(COOKIE))
        if subject is None:
            return None
        if subject == TOKEN_SUBJECT:
            return Viewer(None, True)
        if not _SLACK_USER.match(subject):
            return None
        return Viewer(subject, subject in set(admins))


class WrongBearer(Exception):
    pass


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go to after logging in; anything else (another host, a scheme,
    `//host`, backslashes, control characters) becomes `default`. No open redirects."""
    if not target or len(target) > 2000:
        return default
    if any(ord(c) < 0x20 or c == "\\" for c in target):
        return default
    if not target.startswith("/") or target.startswith("//"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def is_previewer(request: Request) -> bool:
    agent = request.headers.get("user-agent", "").lower()
    return any(p in agent for p in PREVIEWERS) or request.method == "HEAD"


class Directory(Protocol):
    """The part of the Chat port the review pages use."""

    def members(self, channel_id: str) -> list[str]: ...
    def user_name(self, user_id: str) -> str | None: ...


class People:
    """Slack, as the review pages need it: channel members (for private incidents) and names,
    both cached briefly. Slack failing means "not a member" (fail closed) and "no name"."""

    def __init__(
        self,
        chat: Directory | None,
        *,
        members_ttl: float = MEMBERS_TTL,
        names_ttl: float = NAMES_TTL,
    ) -> None:
        self.chat = chat
        self.members_ttl = members_ttl
        self.names_ttl = names_ttl
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._names: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    def members(self, channel_id: str) -> frozenset[str]:
        now = time.monotonic()
        with self._lock:
            cached = self._members.get(channel_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        ttl = self.members_ttl
        try:
            found = frozenset(self.chat.members(channel_id)) if self.chat else frozenset()
        except IntegrationError:
            found, ttl = frozenset(), min(ttl, 5.0)  # ask again soon
        with self._lock:
            self._members[channel_id] = (now + ttl, found)
            if len(self._members) > 10_000:
                self._members = {k: v for k, v in self._members.items() if v[0] > now}
        return found

    def is_member(self, user_id: str, channel_id: str | None) -> bool:
        return bool(channel_id) and user_id in self.members(str(channel_id))

    def name(self, user_id: str | None) -> str:
        """A person's display name; their id when Slack does not say."""
        if not user_id:
            return "—"
        if not _SLACK_USER.match(user_id) or self.chat is None:
            return user_id
        now = time.monotonic()
        with self._lock:
            cached = self._names.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1] or user_id
        try:
            found = self.chat.user_name(user_id)
        except IntegrationError:
            found = None
        with self._lock:
            self._names[user_id] = (now + self.names_ttl, found)
        return found or user_id

    def names(self, user_ids: Iterable[str | None]) -> dict[str, str]:
        return {u: self.name(u) for u in {u for u in user_ids if u}}


def can_see(viewer: Viewer, *, private: bool, channel_id: str | None, people: People) -> bool:
    if viewer.admin or not private:
        return True
    return viewer.user_id is not None and people.is_member(viewer.user_id, channel_id)

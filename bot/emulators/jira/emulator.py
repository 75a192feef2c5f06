"""``JiraEmulator``: a loopback Jira for tests — REST API v2 and v3 over HTTPS, as Jira Cloud
(Basic email + API token, accountIds) or Jira Data Center/Server (Bearer personal access
token, usernames; no v3), with a seeded project and users, faults and rate limits."""

from __future__ import annotations

import ssl
import threading
import time
from typing import Any, Self

from ..common.facade import LifecycleMixin
from . import issue_shapes, service_desk, shapes
from .faults import Fault
from .records import FLAVOURS, JSON, Comment, Flavour, Issue, Text
from .server import ApiServer, JiraCall
from .state import DONE_RESOLUTION, Site
from .tls import Tls


class JiraEmulator(LifecycleMixin[JiraCall]):
    """A faithful-enough Jira site on 127.0.0.1 (stdlib + trustme, thread-safe).

    ``JIRA(**emu.client_kwargs())`` — or by hand ``JIRA(server=emu.url, options={"verify":
    emu.ca_bundle}, basic_auth=emu.basic_auth)`` (Cloud) / ``token_auth=emu.pat`` (Server) —
    talks to it. Seeded with the admin the client authenticates as, Alice, Bob and Carol
    (``alice@example.com`` …), project ``OPS`` (Task, Bug, Sub-task, Epic) and a "Severity"
    select custom field.
    """

    scheme = "https"
    _api: ApiServer

    def __init__(
        self,
        flavour: Flavour = "cloud",
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        project_key: str = "OPS",
        username: str = "admin",
        email: str = "admin@example.com",
        api_token: str = "jira-api-token",  # noqa: S107
        pat: str = "jira-pat",
        password: str = "admin-password",  # noqa: S107
        seed: bool = True,
        rate_limits: bool = False,
        latency: float = 0.0,
    ) -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"flavour {flavour!r}: 'cloud' or 'server'")
        self._lock = threading.RLock()
        self.flavour: Flavour = flavour
        self.site = Site(flavour)
        self.project_key = project_key.upper()
        self.username = username.lower()
        self.email = email
        self.api_token = api_token
        self.pat = pat
        self.password = password
        token = api_token if flavour == "cloud" else pat
        if seed:
            self.site.seed(
                admin=username, email=email, token=token, password=password, project_key=project_key
            )
        else:
            self.site.add_user(username, "Jira Admin", email, token=token, password=password)
        self.tls = Tls([host])
        self._api = ApiServer(
            site=self.site, lock=self._lock, host=host, port=port, tls=self.tls.server_context
        )
        self._api.rate_limits = rate_limits
        self._api.latency = latency

    # ------------------------------------------------------------ lifecycle
    def start(self) -> Self:
        super().start()
        with self._lock:
            self.site.base_url = self.url
        return self

    def stop(self) -> None:
        super().stop()
        self.tls.cleanup()

    # ------------------------------------------------------------------ TLS
    @property
    def ca_bundle(self) -> str:
        """Path of a PEM file with the emulator's CA (removed on stop): the jira client's
        ``options={"verify": emu.ca_bundle}``, ``requests``' ``verify=``."""
        return self.tls.ca_bundle

    @property
    def ca_path(self) -> str:
        return self.tls.ca_bundle

    @property
    def ca_pem(self) -> str:
        return self.tls.ca_pem

    def ssl_context(self) -> ssl.SSLContext:
        """A client ``SSLContext`` trusting the emulator (``httpx``, ``urllib``)."""
        return self.tls.client_context()

    # ---------------------------------------------------------- credentials
    @property
    def cloud(self) -> bool:
        return self.flavour == "cloud"

    @property
    def basic_auth(self) -> tuple[str, str]:
        """Cloud: (email, API token). Server/DC: (username, password)."""
        if self.cloud:
            return (self.email, self.api_token)
        return (self.username, self.password)

    def token_for(self, user: str) -> str:
        """A user's API token (Cloud) or personal access token (Server/DC)."""
        with self._lock:
            return self.site.require_user(user).token

    def credentials(self, user: str | None = None) -> dict[str, Any]:
        """The jira client's auth argument for ``user`` (default: the admin): ``basic_auth``
        with email and API token on Cloud, ``token_auth`` with the PAT on Server/DC."""
        with self._lock:
            who = self.site.require_user(user or self.username)
            if self.cloud:
                return {"basic_auth": (who.email, who.token)}
            return {"token_auth": who.token}

    def client_kwargs(
        self, user: str | None = None, *, max_retries: int = 0, timeout: float | None = None
    ) -> dict[str, Any]:
        """``JIRA(**emu.client_kwargs())``: URL, CA, credentials, and no retries (the client
        retries 429/503 three times by default, sleeping ≥ 1 s each time)."""
        out: dict[str, Any] = {
            "server": self.url,
            "options": {"verify": self.ca_bundle},
            "max_retries": max_retries,
            **self.credentials(user),
        }
        if timeout is not None:
            out["timeout"] = timeout
        return out

    # ------------------------------------------------------- faults, limits
    def fail_next(
        self,
        status: int = 500,
        times: int = 1,
        *,
        path_prefix: str | None = None,
        method: str | None = None,
        route: str | None = None,
        delay: float = 0.0,
        body: str | None = None,
        apply: bool = False,
        retry_after: int | None = None,
    ) -> None:
        """Queues ``times`` failures for the next matching requests; ``path_prefix`` is a path
        (``"/rest/api/2/issue"``) or one relative to any API version (``"issue"``); ``route``
        a route name (``"POST issue"``). ``status=0`` drops the connection. See :class:`Fault`.
        """
        fault = Fault(status, path_prefix, method, route, delay, body, apply, retry_after)
        self._api.faults.add(fault, times)

    def hang(
        self,
        seconds: float,
        times: int = 1,
        *,
        path_prefix: str | None = None,
        method: str | None = None,
        route: str | None = None,
    ) -> None:
        """Holds the next matching requests ``seconds`` and hangs up without an answer: with a
        shorter client timeout, the client sees a read timeout."""
        self.fail_next(0, times, path_prefix=path_prefix, method=method, route=route, delay=seconds)

    def pending_faults(self) -> int:
        return self._api.faults.pending()

    def set_rate_limit(self, *, per_minute: float, burst: int | None = None) -> None:
        """The per-user token bucket used when ``rate_limits`` is on."""
        self._api.limiter.set_limit(per_minute=per_minute, burst=burst)

    # ---------------------------------------------------------- call record
    def calls_to(self, route: str) -> list[JiraCall]:
        """Calls to a route name, e.g. ``"POST issue"`` or ``"GET issue/{issueIdOrKey}"``."""
        return self._calls_where(lambda c: c.route == route)

    # ----------------------------------------------------------------- site
    def add_user(self, name: str, display_name: str | None = None, email: str | None = None) -> str:
        """A user (``email`` defaults to ``<name>@example.com``); returns the name."""
        with self._lock:
            user = self.site.add_user(
                name, display_name or name.title(), email or f"{name.lower()}@example.com"
            )
            return user.name

    def account_id(self, user: str) -> str:
        with self._lock:
            return self.site.require_user(user).account_id

    def user(self, user: str) -> JSON:
        """The user as the REST API shows it (``accountId`` on Cloud, ``name``/``key`` on
        Server/DC)."""
        with self._lock:
            return shapes.user_json(shapes.view(self.site, "2"), self.site.require_user(user))

    def deactivate(self, user: str) -> None:
        """The user can no longer authenticate (and is left out of user searches)."""
        with self._lock:
            self.site.require_user(user).active = False

    def add_project(self, key: str, name: str | None = None, *, lead: str | None = None) -> str:
        """A project with every issue type; returns its id."""
        with self._lock:
            return self.site.add_project(key, name or key.title(), lead=lead or self.username).id

    def add_service_desk(
        self,
        project: str | None = None,
        request_types: tuple[tuple[str, str, tuple[str, ...]], ...] = (
            ("Post-incident review", "Task", ("summary", "description", "labels")),
        ),
    ) -> str:
        """Jira Service Management on `project` (default: the seeded one): a service desk with
        request types (name, issue type, the fields on its form); returns the desk's id."""
        with self._lock:
            found = self.site.require_project(project or self.project_key)
            return service_desk.add_desk(self.site, found, list(request_types)).id

    def add_security_level(self, project: str, name: str, description: str = "") -> str:
        """A level of the project's issue security scheme (created with its first level); the
        `security` field then appears on its screens. Returns the level's id ("10000" …)."""
        with self._lock:
            return self.site.add_security_level(
                self.site.require_project(project), name, description
            )

    def add_custom_field(
        self, name: str, kind: str = "string", options: tuple[str, ...] = ()
    ) -> str:
        """A custom field on every create/edit screen (``string``, ``number`` or ``option``
        with ``options``); returns its id (``customfield_10011`` …)."""
        with self._lock:
            return self.site.add_custom_field(name, kind, tuple(options)).id

    def custom_field_id(self, name: str) -> str:
        with self._lock:
            found = self.site.custom_field_of(name)
            if found is None:
                raise KeyError(f"no custom field {name!r}")
            return found.id

    def deny(self, user: str, project: str | None = None, *, status: int = 403) -> None:
        """``user`` loses every permission on ``project`` (default: the seeded one): writes
        answer 403; reads answer ``status`` — 403, or 404 as Jira does for a project one may
        not browse; the project's issues drop out of searches."""
        if status not in (403, 404):
            raise ValueError("status: 403 or 404")
        with self._lock:
            self.site.deny(user, project or self.project_key, status)

    def allow(self, user: str, project: str | None = None) -> None:
        with self._lock:
            self.site.allow(user, project or self.project_key)

    # ----------------------------------------------------------- inspectors
    def issue(self, key: str, *, version: str = "2") -> JSON | None:
        """The issue as ``GET /rest/api/<version>/issue/<key>`` shows it to the admin (v2:
        description as wiki markup, v3: as ADF); None when there is none."""
        with self._lock:
            found = self.site.issue_of(key)
            return (
                issue_shapes.issue_json(shapes.view(self.site, version), found) if found else None
            )

    def issues(self, *, project: str | None = None, version: str = "2") -> list[JSON]:
        """Every issue, oldest first."""
        with self._lock:
            view = shapes.view(self.site, version)
            pid = self.site.require_project(project).id if project else None
            return [
                issue_shapes.issue_json(view, i)
                for i in self.site.issues.values()
                if pid is None or i.project_id == pid
            ]

    @property
    def links(self) -> list[JSON]:
        """Issue links as made: ``{"id", "type", "inwardIssue", "outwardIssue"}`` with issue
        keys; reads "<inwardIssue> <type's outward> <outwardIssue>"."""
        with self._lock:
            site = self.site
            return [
                {
                    "id": link.id,
                    "type": site.link_types[link.type_id].name,
                    "inwardIssue": site.issues[link.inward_id].key,
                    "outwardIssue": site.issues[link.outward_id].key,
                }
                for link in site.links.values()
            ]

    def remote_links(self, key: str) -> list[JSON]:
        with self._lock:
            issue = self._issue(key)
            view = shapes.view(self.site, "2")
            return [
                issue_shapes.remote_link_json(view, r, issue)
                for r in self.site.remote_links_of(issue)
            ]

    def comments(self, key: str, *, version: str = "2") -> list[JSON]:
        with self._lock:
            view = shapes.view(self.site, version)
            return [issue_shapes.comment_json(view, c) for c in self._issue(key).comments]

    # ----------------------------------------------- what people do in Jira
    def transition(self, key: str, status: str) -> None:
        """Moves the issue to ``status`` ("To Do", "In Progress", "Done") as someone in Jira's
        UI would; Done sets the resolution."""
        with self._lock:
            issue = self._issue(key)
            found = self.site.status_of(status)
            if found is None:
                raise KeyError(f"no status {status!r}")
            issue.status_id = found.id
            done = found.category == "done"
            issue.resolution_id = DONE_RESOLUTION[0] if done else None
            issue.resolved = time.time() if done else None
            issue.updated = time.time()

    def comment(self, key: str, body: str, *, author: str = "alice") -> str:
        """A wiki-markup comment by ``author``; returns its id."""
        with self._lock:
            issue = self._issue(key)
            who = self.site.require_user(author).name
            now = time.time()
            cid = self.site.new_comment_id()
            text = Text(wiki=body)
            self.site.new_comment(issue, Comment(cid, issue.id, who, text, now, now, who))
            return cid

    def _issue(self, key: str) -> Issue:
        found = self.site.issue_of(key)
        if found is None:
            raise KeyError(f"no issue {key!r}")
        return found

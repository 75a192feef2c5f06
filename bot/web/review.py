"""The dashboard (`GET /`), the review page (`GET /incidents/{id}`), login and logout: HTML
rendered on the server with Jinja2 (autoescaped), no JavaScript, behind API_TOKEN (bot.web.auth)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.core.catalog import Catalog
from bot.core.lifecycle import Refused
from bot.core.metrics import DEFINITIONS, Metric
from bot.flows.ports import Clock
from bot.flows.postmortem import Draft
from bot.store import incident_reads, sign_in
from bot.store.db import Database
from bot.web import charts
from bot.web.auth import (
    COOKIE,
    DASHBOARD,
    TOKEN_SUBJECT,
    Directory,
    LinkRefused,
    People,
    Sessions,
    Viewer,
    WrongBearer,
    can_see,
    is_previewer,
    safe_next,
)
from bot.web.common import BadBody, Metrics, parse_id, read_body
from bot.web.markdown import to_html
from bot.web.review_data import load_review
from bot.web.templating import CSS, HEADERS, environment
from bot.web.throttle import Throttle, has_bearer
from bot.web.views import (
    PERIODS,
    BadFilter,
    DashboardNumbers,
    load_dashboard,
    parse_filters,
    viewer_scope,
)
from bot.web.wording import said

log = logging.getLogger(__name__)

MAX_FORM = 8192


class ReviewSite:
    """The HTML side of `serve`. `review_link(user, incident)` is what Slack hands people."""

    def __init__(
        self,
        *,
        db: Database,
        catalog: Catalog,
        clock: Clock,
        chat: Directory | None,
        drafts: Callable[[int], Draft] | None,
        api_token: str | None,
        public_url: str | None,
        metrics: Metrics | None = None,
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.clock = clock
        self.drafts = drafts
        self.sessions = Sessions(
            api_token,
            clock,
            public_url=public_url,
            use_link=lambda nonce, expires: sign_in.use_link(
                db, nonce, expires_at=expires, now=clock.now()
            ),
        )
        self.people = People(chat)
        self.metrics = metrics
        self.throttle = Throttle(db, clock)  # build_web_app gives it the configured one
        self.env = environment()

    def review_link(self, user_id: str, incident_id: int) -> str:
        return self.sessions.review_link(user_id, incident_id)

    def dashboard_link(self, user_id: str) -> str:
        return self.sessions.dashboard_link(user_id)

    # -- plumbing --------------------------------------------------------------------------------
    def render(
        self, name: str, *, status: int = 200, viewer: Viewer | None = None, **context: Any
    ) -> HTMLResponse:
        label = None
        if viewer is not None:
            label = (
                "admin (API token)" if viewer.user_id is None else self.people.name(viewer.user_id)
            )
        html = self.env.get_template(name).render(viewer=viewer, viewer_label=label, **context)
        return HTMLResponse(html, status_code=status, headers=HEADERS)

    def message(
        self, title: str, text: str, *, status: int, viewer: Viewer | None = None
    ) -> HTMLResponse:
        return self.render("message.html", status=status, viewer=viewer, title=title, text=text)

    def _refused(self, endpoint: str) -> None:
        if self.metrics is not None:
            self.metrics.unauthorized.labels(endpoint).inc()

    def _too_many(self, retry_after: int) -> HTMLResponse:
        response = self.message(
            "Too many attempts",
            f"Too many wrong tokens came from your address. Try again in {retry_after} seconds.",
            status=429,
        )
        response.headers["Retry-After"] = str(retry_after)
        return response

    def guarded(self, handler: Callable[[Request, Viewer], Response]) -> Callable[[Request], Any]:
        """Runs `handler` for a signed-in viewer (in a worker thread); else 401 for a wrong bearer
        token, or off to the login form."""

        async def endpoint(request: Request) -> Response:
            if not self.sessions.enabled:
                return self.message(
                    "Review pages disabled",
                    "Set API_TOKEN on the server to use the dashboard and the review pages.",
                    status=401,
                )
            if has_bearer(request):  # a credential to judge: not while its sender is throttled
                wait = await self.throttle.blocked(request, "review")
                if wait is not None:
                    return self._too_many(wait)
            try:
                viewer = self.sessions.viewer(request, self.catalog.admins)
            except WrongBearer:
                self._refused("review")
                wait = await self.throttle.failed(request, "review")
                if wait is not None:
                    return self._too_many(wait)
                refusal = self.message(
                    "Wrong token", "The Authorization header carries a wrong token.", status=401
                )
                refusal.headers["WWW-Authenticate"] = "Bearer"
                return refusal
            if viewer is None:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response = RedirectResponse(
                    "/login?" + urlencode({"next": target}), status_code=303
                )
                if request.cookies.get(COOKIE):
                    self.sessions.clear_cookie(response)  # tampered with or expired
                return response
            return await run_in_threadpool(handler, request, viewer)

        return endpoint

    def _same_origin(self, request: Request) -> bool:
        """POSTs from our own pages only (browsers send Origin on form posts)."""
        origin = request.headers.get("origin")
        if origin is None:
            return True
        hosts = {request.headers.get("host", "")}
        if self.sessions.public_url:
            hosts.add(urlsplit(self.sessions.public_url).netloc)
        return urlsplit(origin).netloc in hosts

    # -- login -----------------------------------------------------------------------------------
    async def login_form(self, request: Request) -> Response:
        target = safe_next(request.query_params.get("next"))
        try:
            viewer = self.sessions.viewer(request, self.catalog.admins)
        except WrongBearer:
            viewer = None
        if viewer is not None:
            return RedirectResponse(target, status_code=303)
        return self.render("login.html", next=target, error=None, enabled=self.sessions.enabled)

    async def login(self, request: Request) -> Response:
        if not self._same_origin(request):
            return self.message("Refused", "This form was posted from another site.", status=403)
        if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
            return self.message("Unsupported form", "Post the login form as a form.", status=415)
        try:
            body = await read_body(request, MAX_FORM)
        except BadBody as bad:
            return self.message("Refused", bad.reason, status=bad.status)
        try:
            fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
        except ValueError:  # more than 10 fields: not our form
            return self.message("Refused", "The form has too many fields.", status=400)
        token = (fields.get("token") or [""])[0]
        target = safe_next((fields.get("next") or ["/"])[0])
        wait = await self.throttle.blocked(request, "login")
        if wait is not None:
            return self._too_many(wait)
        if not self.sessions.token_ok(token):
            self._refused("login")
            wait = await self.throttle.failed(request, "login")
            if wait is not None:
                return self._too_many(wait)
            return self.render(
                "login.html",
                status=401,
                next=target,
                error="That is not the API token." if self.sessions.enabled else None,
                enabled=self.sessions.enabled,
            )
        response = RedirectResponse(target, status_code=303)
        self.sessions.set_cookie(response, TOKEN_SUBJECT)
        return response

    async def logout(self, request: Request) -> Response:
        if not self._same_origin(request):
            return self.message("Refused", "This form was posted from another site.", status=403)
        response = RedirectResponse("/login", status_code=303)
        self.sessions.clear_cookie(response)
        return response

    async def magic_link(self, request: Request) -> Response:
        token = request.query_params.get("t", "")
        if is_previewer(request):  # Slack's unfurler must not use the link up
            return self.message(
                "incidentbot review", "Open this link in your browser to sign in.", status=200
            )
        try:
            user, incident_id = await run_in_threadpool(self.sessions.redeem, token)
        except LinkRefused as refused:
            self._refused("review_link")
            return self.message("This link does not work", str(refused), status=400)
        response = RedirectResponse(
            "/" if incident_id == DASHBOARD else f"/incidents/{incident_id}",
            status_code=303,
            headers={"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"},
        )
        self.sessions.set_cookie(response, user)
        return response

    async def stylesheet(self, _request: Request) -> Response:
        return Response(
            CSS,
            media_type="text/css",
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    # -- pages -----------------------------------------------------------------------------------
    def dashboard(self, request: Request, viewer: Viewer) -> Response:
        try:
            filters = parse_filters(request.query_params, self.catalog)
        except BadFilter as bad:
            return self.message("Bad filter", f"{bad}.", status=400, viewer=viewer)
        now = self.clock.now()
        scope = viewer_scope(self.db, viewer, self.people)
        board = load_dashboard(self.db, filters, scope, catalog=self.catalog, now=now)
        numbers, opened, recent = board.numbers, board.opened, board.recent
        names = self.people.names(r.commander for r in [*opened, *recent])
        return self.render(
            "dashboard.html",
            viewer=viewer,
            filters=filters,
            periods=PERIODS,
            catalog=self.catalog,
            services=board.services,
            opened=opened,
            recent=recent,
            names=names,
            numbers=numbers,
            tiles=[(m, numbers.tiles[m], DEFINITIONS[m][2]) for m in Metric],
            trend_mttr=self._mttr_chart(numbers),
            trend_count=self._count_chart(numbers),
            rank={s.id: i for i, s in enumerate(self.catalog.severities)},
            statuses={s.id: s.name for s in self.catalog.statuses},
            now=now,
        )

    def _mttr_chart(self, numbers: DashboardNumbers) -> Markup:
        labels = [w.start.strftime("%d %b") for w in numbers.weeks]
        return charts.line_chart(
            title="MTTR per week",
            desc="Median and mean time to resolve (resolved − impact start) of the incidents "
            "that started each week; weeks without a resolved incident have no point.",
            labels=labels,
            series=[
                charts.Series(
                    "median", [w.mttr.median_s for w in numbers.weeks], charts.PALETTE[3]
                ),
                charts.Series(
                    "mean", [w.mttr.mean_s for w in numbers.weeks], charts.PALETTE[0], dashed=True
                ),
            ],
            unit="time to resolve",
        )

    def _count_chart(self, numbers: DashboardNumbers) -> Markup:
        labels = [w.start.strftime("%d %b") for w in numbers.weeks]
        series = [
            charts.Series(
                f"{s.id} {s.name}",
                [float(w.counts.get(s.id, 0)) for w in numbers.weeks],
                charts.PALETTE[i % len(charts.PALETTE)],
            )
            for i, s in enumerate(self.catalog.severities)
        ]
        return charts.stacked_bar_chart(
            title="Incidents per week by severity",
            desc="How many incidents started each week, stacked by severity.",
            labels=labels,
            series=series,
            unit="incidents",
        )

    def incident_page(self, request: Request, viewer: Viewer) -> Response:
        raw = str(request.path_params["incident_id"])
        not_found = self.message(
            "No such incident",
            f"There is no incident {raw} you can see.",
            status=404,
            viewer=viewer,
        )
        incident_id = parse_id(raw)
        if incident_id is None:
            return not_found
        now = self.clock.now()
        with self.db.read() as session:
            incident = incident_reads.get_summary(session=session, incident_id=incident_id)
        if incident is None or not can_see(
            viewer,
            private=incident.private,
            channel_id=incident.conversation_id,
            people=self.people,
        ):
            return not_found  # a private incident is as absent as a missing one
        scope = viewer_scope(self.db, viewer, self.people)
        review = load_review(
            self.db, incident_id, catalog=self.catalog, people=self.people, scope=scope, now=now
        )
        if review is None:
            return not_found
        draft_html, draft_error = None, None
        if self.drafts is not None:
            try:
                draft = self.drafts(incident_id)
                draft_html = Markup(to_html(draft.markdown))  # noqa: S704  escaped by to_html
            except Refused as refused:
                draft_error = said(refused.reason)
            except Exception:
                log.exception("could not draft the post-mortem of incident %s", raw)
                draft_error = "The draft could not be rendered; the server log says why."
        else:
            draft_error = "Post-mortem drafting is not configured on this server."
        return self.render(
            "review.html",
            viewer=viewer,
            review=review,
            incident=review.incident,
            agenda=review.agenda,
            draft_html=draft_html,
            draft_error=draft_error,
            now=now,
        )

    def routes(self) -> list[Route]:
        return [
            Route("/", self.guarded(self.dashboard), methods=["GET"]),
            Route("/incidents/{incident_id}", self.guarded(self.incident_page), methods=["GET"]),
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/review/login", self.magic_link, methods=["GET"]),
            Route("/static/review.css", self.stylesheet, methods=["GET"]),
        ]

"""The one composition root: settings → database → clients → ports → flows → Bolt → web."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from slack_bolt import App
from slack_sdk import WebClient
from starlette.applications import Starlette

from bot.adapters import jira, jira_service_desk
from bot.adapters.alert_sources.sns import SnsGate, gate_from
from bot.adapters.jira import JiraTracker
from bot.adapters.jira_service_desk import JiraServiceDesk
from bot.adapters.opsgenie import OpsgenieClient, OpsgeniePager
from bot.adapters.pagerduty import PagerDutyPager
from bot.adapters.pagerduty_client import PACING, pagerduty_budgets
from bot.adapters.slack import pacing as slack_pacing
from bot.adapters.slack.app import build_bolt_app
from bot.adapters.slack.chat import SlackChat
from bot.adapters.slack.command_intake import CommandIntake
from bot.adapters.slack.links import conversation_link
from bot.adapters.slack.listeners import SlackContext
from bot.adapters.slack.pacing import SlackPacer
from bot.adapters.source_names import PRODUCTS
from bot.core.catalog import Catalog, PagerTarget, Phase
from bot.core.pacing import Budgets, Pacer
from bot.core.playbooks import Playbook
from bot.flows.alerts import AlertFlows
from bot.flows.background import BackgroundWork
from bot.flows.chat_effects import ChatEffects
from bot.flows.inbox import Inbox
from bot.flows.incidents import IncidentFlows
from bot.flows.oncall import OnCallLookup
from bot.flows.outbox import OutboxRunner
from bot.flows.pager_effects import PagerEffects
from bot.flows.pager_in import PagerInbound
from bot.flows.pagers import Pagers
from bot.flows.people import People
from bot.flows.ports import Clock, Pager, SystemClock
from bot.flows.postmortem import Drafter
from bot.flows.step_effects import StepEffects
from bot.flows.timer_flows import TimerFlows
from bot.flows.tracker_effects import TrackerEffects
from bot.playbook_files import load_directory
from bot.settings import Settings
from bot.store.budgets import SharedBudgets
from bot.store.db import Database
from bot.store.models import OutboxRow
from bot.web.app import build_web_app
from bot.web.review import ReviewSite

log = logging.getLogger(__name__)


@dataclass
class Bot:
    settings: Settings
    db: Database
    catalog: Catalog
    clock: Clock
    runner: OutboxRunner
    flows: IncidentFlows
    alerts: AlertFlows
    timers: TimerFlows
    work: BackgroundWork
    inbox: Inbox
    slack: WebClient
    bolt: App | None
    web: Starlette
    review: ReviewSite | None = None  # review.review_link(user, incident): the magic link

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Until the answered requests and the work they started are done (tests, the demo)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            left = deadline - time.monotonic()
            inbox_idle = self.inbox.wait_idle(left)
            if inbox_idle and self.work.wait_idle(max(left, 0.01)) and not self.inbox.busy():
                return True
        return False

    def close(self, grace: float | None = None) -> bool:
        """Stop: finish queued requests and the work they started within `grace` seconds
        (None: wait for all); requests left stay in the inbox for the next sweep. False if
        something was left unfinished (its thread may still be blocked in a call)."""
        if grace is None:
            self.inbox.stop(3600.0)
            self.work.shutdown()
            finished = True
        else:
            deadline = time.monotonic() + grace
            left = self.inbox.stop(grace)
            idle = self.work.wait_idle(max(0.0, deadline - time.monotonic()))
            self.work.shutdown(wait=False)
            finished = not left and idle
        self.runner.close()
        self.db.dispose()
        return finished


def _secret(value: object) -> str | None:
    getter = getattr(value, "get_secret_value", None)
    return getter() if getter is not None else None


def load_playbooks(settings: Settings, catalog: Catalog) -> dict[str, Playbook]:
    """The playbooks that pass lint; each broken one is logged (CI runs `playbooks lint`)."""
    if not settings.playbooks_dir.is_dir():
        log.info("no playbooks folder at %s", settings.playbooks_dir)
        return {}
    loaded = load_directory(settings.playbooks_dir, catalog)
    for problem in loaded.problems:
        log.error("playbook problem (left out): %s", problem)
    return {p.name: p for p in loaded.playbooks}


PAGER_NOT_SET_UP = "No pager is set up."
PAGER_SETUP = (
    "Set PAGERDUTY_API_TOKEN and PAGERDUTY_FROM_EMAIL (README → PagerDuty) "
    "or OPSGENIE_API_KEY (README → Opsgenie)."
)


def pagerduty_target(settings: Settings) -> PagerTarget:
    """PagerDuty's defaults for services the catalog does not map (env PAGERDUTY_*)."""
    return PagerTarget(
        kind="pagerduty",
        service_id=settings.pagerduty_service_id,
        escalation_policy_id=settings.pagerduty_escalation_policy_id,
        routing_key=_secret(settings.pagerduty_routing_key),
    )


def paging_defaults(settings: Settings) -> Pagers:
    """The pagers' default targets, without the pagers (what `config check` resolves with)."""
    return Pagers(default="pagerduty", targets={"pagerduty": pagerduty_target(settings)})


def build_pagers(settings: Settings, budget: Budgets) -> Pagers:
    """The pagers this deployment has, the first one the default: PagerDuty when its token or
    a routing key is set, Opsgenie when its API key is (alone, it pages every service)."""
    target = pagerduty_target(settings)
    by_kind: dict[str, Pager] = {}
    if settings.pagerduty_api_token is not None or target.routing_key:
        by_kind["pagerduty"] = PagerDutyPager(
            api_token=_secret(settings.pagerduty_api_token),
            from_email=settings.pagerduty_from_email,
            api_url=settings.pagerduty_api_url,
            events_url=settings.pagerduty_events_url,
            ca_bundle=settings.pagerduty_ca_bundle,
            budgets=budget,
        )
    opsgenie = opsgenie_pager(settings)
    if opsgenie is not None:
        by_kind[opsgenie.kind] = opsgenie
    return Pagers(
        by_kind=by_kind,
        targets={"pagerduty": target, "opsgenie": PagerTarget(kind="opsgenie")},
        missing=PAGER_NOT_SET_UP,
        missing_fix=PAGER_SETUP,
    )


def budgets(db: Database, *, pacing: bool = True) -> tuple[Budgets, Budgets]:
    """Slack's and PagerDuty's rate-limit budgets: in PostgreSQL, shared by every process of the
    deployment (web replicas and schedulers alike); with SQLite, one process's memory."""
    if not pacing:
        return Pacer({}), Pacer({})
    if db.is_postgres:
        return (
            SharedBudgets(db, slack_pacing.LIMITS, slack_pacing.DEFAULT, namespace="slack"),
            SharedBudgets(db, PACING, namespace="pagerduty"),
        )
    return slack_pacing.slack_budgets(), pagerduty_budgets()


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    db: Database | None = None,
    pacing: bool = True,
) -> Bot:
    """`pacing=False` lifts the client-side rate limits (the sandbox's tests and demo, which
    would otherwise wait out Slack's one-message-a-second per channel)."""
    db = db or Database(settings.database_url)
    catalog = settings.catalog()
    clock = clock or SystemClock()
    # No client-side re-sends: slack_sdk's default handler repeats a request after a connection
    # reset, blind, though Slack may have done it. The outbox retries instead, looking first
    # (ChatEffects.once, the channel by its name).
    slack = WebClient(
        token=_secret(settings.slack_bot_token),
        base_url=settings.slack_api_url,
        timeout=10,
        retry_handlers=[],
    )
    slack_budget, pager_budget = budgets(db, pacing=pacing)
    pagers = build_pagers(settings, pager_budget)
    chat = SlackChat(slack, SlackPacer(slack_budget))
    chat_effects = ChatEffects(
        db,
        chat,
        catalog,
        clock,
        feed_channel=settings.slack_incidents_channel,
        feed_setting="SLACK_INCIDENTS_CHANNEL",
        public_url=settings.public_url,
    )
    pager_effects = PagerEffects(
        db,
        pagers,
        catalog,
        clock,
        public_url=settings.public_url,
        conversation_link=conversation_link,
    )
    work = BackgroundWork()
    db.before_transaction = work.gate.step  # work behind the acks lets them go first

    step_effects = StepEffects(db, chat_effects, clock)
    # who a pager names, matched to the chat by email; whose email a follow-up's owner has
    people = People(db, chat, pagers, clock)
    tracker = jira_tracker(settings)
    tracker_effects = TrackerEffects(
        db,
        tracker,
        Drafter(
            catalog, settings.postmortem_templates_dir, PRODUCTS, aliases=jira.TEMPLATE_ALIASES
        ),
        chat,
        catalog,
        clock,
        public_url=settings.public_url,
        people=people,
        conversation_link=conversation_link,
        desk=service_desk(settings, tracker),
        pager_names={kind: pager.name for kind, pager in pagers.by_kind.items()},
        missing=jira.NOT_SET_UP,
        no_desk=jira_service_desk.NOT_SET_UP,
    )

    def gave_up(row: OutboxRow, error: str) -> None:
        chat_effects.gave_up(row, error)
        pager_effects.gave_up(row, error)
        step_effects.gave_up(row, error)
        tracker_effects.gave_up(row, error)

    def still_trying(row: OutboxRow, error: str) -> None:
        pager_effects.still_trying(row, error)
        tracker_effects.still_trying(row, error)

    inbox = Inbox(db, clock, owner=lambda: runner.owner, before_work=work.gate.yield_to_acks)
    runner = OutboxRunner(
        db,
        clock,
        {
            **chat_effects.handlers,
            **pager_effects.handlers,
            **step_effects.handlers,
            **tracker_effects.handlers,
        },
        on_give_up=gave_up,
        on_first_failure=still_trying,
        between_effects=work.gate.yield_to_acks,
    )
    playbooks = load_playbooks(settings, catalog)
    flows = IncidentFlows(db, catalog, clock, runner, paging=pagers, playbooks=playbooks)
    alerts = AlertFlows(
        db, catalog, clock, runner, paging=pagers, background=work.submit, playbooks=playbooks
    )
    review = ReviewSite(
        db=db,
        catalog=catalog,
        clock=clock,
        chat=chat,
        drafts=tracker_effects.draft,
        api_token=_secret(settings.api_token),
        public_url=settings.public_url,
    )
    bolt = None
    commands = None
    if settings.slack_bot_token is not None:
        ctx = SlackContext(
            flows=flows,
            catalog=catalog,
            clock=clock,
            work=work,
            inbox=inbox,
            client=slack,
            oncall=OnCallLookup(flows, pagers, people),
            postmortems=tracker_effects,
            review_link=review.review_link if settings.api_token is not None else None,
        )
        signing_secret = _secret(settings.slack_signing_secret)
        bolt = build_bolt_app(client=slack, signing_secret=signing_secret, ctx=ctx)
        if signing_secret is not None:  # slash commands over HTTP skip Bolt's dispatch
            commands = CommandIntake(ctx, signing_secret)
    # Socket Mode (no signing secret): Slack talks over the socket, so the HTTP endpoint, which
    # could not verify anything, stays closed.
    http_bolt = bolt if settings.slack_signing_secret is not None else None
    inbound = PagerInbound(flows, pagers, chat, people)
    web = build_web_app(
        db=db,
        bolt=http_bolt,
        alerts=alerts,
        api_token=_secret(settings.api_token),
        alert_token=_secret(settings.alert_webhook_token),
        pagerduty=inbound,
        opsgenie=inbound,
        opsgenie_token=_secret(settings.opsgenie_webhook_token),
        pagerduty_secrets=settings.webhook_secrets(),
        gate=work.gate,
        open_statuses=[s.id for s in catalog.statuses if s.phase is not Phase.CLOSED],
        clock=clock,
        catalog=catalog,
        review=review,
        metrics_token=_secret(settings.metrics_token),
        trusted_proxy_header=settings.trusted_proxy_header or None,
        auth_failure_limit=settings.auth_failures_per_minute,
        commands=commands,
        sns=sns_gate(settings),
    )
    timers = TimerFlows(db, catalog, clock, pagers, playbooks)
    return Bot(
        settings,
        db,
        catalog,
        clock,
        runner,
        flows,
        alerts,
        timers,
        work,
        inbox,
        slack,
        bolt,
        web,
        review,
    )


def sns_gate(settings: Settings) -> SnsGate:
    """CloudWatch alarms over Amazon SNS: on when SNS_TOPIC_ARNS lists a topic."""
    return gate_from(
        settings.sns_topic_arns,
        settings.sns_cert_hosts,
        str(settings.sns_ca_bundle) if settings.sns_ca_bundle else None,
    )


def service_desk(settings: Settings, tracker: JiraTracker | None) -> JiraServiceDesk | None:
    """Jira Service Management when JIRA_SERVICE_DESK names a service project (and Jira is set)."""
    if tracker is None or not (settings.jira_service_desk or "").strip():
        return None
    return JiraServiceDesk(tracker, settings.jira_service_desk or "")


def opsgenie_pager(settings: Settings) -> OpsgeniePager | None:
    """Opsgenie as a pager when OPSGENIE_API_KEY is set (None otherwise). Built here; the
    pagers' registry decides which services it pages."""
    if settings.opsgenie_api_key is None:
        return None
    client = OpsgenieClient(
        api_key=settings.opsgenie_api_key.get_secret_value(), api_url=settings.opsgenie_api_url
    )
    return OpsgeniePager(client, app_url=settings.opsgenie_app_url)


def jira_tracker(settings: Settings) -> JiraTracker | None:
    """Jira when JIRA_URL, JIRA_PROJECT and credentials are set; else post-mortems stay drafts."""
    if not (settings.jira_url and settings.jira_project):
        return None
    if settings.jira_pat is None and not (settings.jira_email and settings.jira_api_token):
        return None
    return JiraTracker(
        url=settings.jira_url,
        project=settings.jira_project,
        email=settings.jira_email,
        api_token=_secret(settings.jira_api_token),
        pat=_secret(settings.jira_pat),
        ca_bundle=str(settings.jira_ca_bundle) if settings.jira_ca_bundle else None,
        api_version=settings.jira_api_version,
        timeout=settings.jira_timeout,
    )

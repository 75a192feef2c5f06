"""/metrics counts the outbox by integration: the chat's effects (lanes `chat:<id>` and
`chat-notice:<id>`) under the product's name, as the metric is documented."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from bot.flows import chat_effects as fx
from bot.sandbox import ScriptedClock
from bot.store import outbox
from bot.store.db import Database
from tests.web.conftest import NOW, Replica, add_incident, client_at


def test_the_chats_waiting_effects_are_counted_as_slacks(
    db: Database, replicas: tuple[Replica, ScriptedClock]
) -> None:
    replica, _clock = replicas
    incident = add_incident(db, title="Checkout down", status="investigating", start=NOW)
    with db.transaction() as session:
        for lane, kind in (
            (fx.lane(incident), fx.POST_LINE),
            (fx.notice_lane(incident), fx.NOTICE),
        ):
            outbox.enqueue(session=session, lane=lane, kind=kind, now=NOW, incident_id=incident)
    body = client_at(replica().web, "192.0.2.30").get("/metrics").text
    assert 'incidentbot_outbox_pending{integration="slack"} 2.0' in body
    assert 'incidentbot_outbox_pending{integration="chat"}' not in body


def test_first_requests_on_several_threads_at_once_all_get_counted(
    replicas: tuple[Replica, ScriptedClock],
) -> None:
    """In-process clients build the app's middleware stack on their first request, once per
    thread when they start together: the request meters are registered once, not once a build."""
    replica, _clock = replicas
    web = replica().web
    web.build_middleware_stack()
    web.build_middleware_stack()  # a second build shares the meters instead of re-registering
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: client_at(web, "192.0.2.31").get("/healthz"), range(8)))
    assert [c.status_code for c in codes] == [200] * 8
    body = client_at(web, "192.0.2.31").get("/metrics").text
    assert (
        'incidentbot_http_requests_total{method="GET",outcome="2xx",route="/healthz"} 8.0' in body
    )

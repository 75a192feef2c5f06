"""/metrics counts the outbox by integration: the chat's effects (lanes `chat:<id>` and
`chat-notice:<id>`) under the product's name, as the metric is documented."""

from __future__ import annotations

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

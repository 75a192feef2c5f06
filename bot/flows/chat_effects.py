"""Outbox handlers that bring the chat surface in line with the stored incident. Each is
idempotent: it records what it made (the conversation, the card's message, the topic) so a retry
resumes instead of repeating."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from bot.core.catalog import COMMANDER, Catalog
from bot.core.milestones import Milestone
from bot.flows.chat_kinds import (
    ANNOUNCE as ANNOUNCE,
    ARCHIVE as ARCHIVE,
    CHECKLIST as CHECKLIST,
    DESCRIPTIONS,
    DIRECT as DIRECT,
    FILL_PIN as FILL_PIN,
    INVITE as INVITE,
    NO_CHANNEL as NO_CHANNEL,
    NOTICE as NOTICE,
    POST_LINE as POST_LINE,
    PROPOSE_MITIGATION as PROPOSE_MITIGATION,
    REFRESH as REFRESH,
    STEP_ACTION as STEP_ACTION,
    announce_entry as announce_entry,
    lane as lane,
    line_payload as line_payload,
    notice_lane as notice_lane,
)
from bot.flows.chat_surface import gave_up_on_it, require_this_surface
from bot.flows.conversation_opening import (
    OPEN_CHANNEL as OPEN_CHANNEL,
    Asked,
    ChannelEffect,
    channel_asked as channel_asked,
    create_channel,
    first_run,
)
from bot.flows.ports import (
    CardView,
    Chat,
    Clock,
    ConversationGone,
    IntegrationError,
    Line,
)
from bot.flows.views import card_view, checklist_view
from bot.store import chat_state, incidents as q, outbox, pins, playbook_runs as run_store
from bot.store.chat_state import ChatIncident
from bot.store.db import Database
from bot.store.read_models import IncidentSummary, QueuedEffect


class ChatEffects:
    def __init__(
        self,
        db: Database,
        chat: Chat,
        catalog: Catalog,
        clock: Clock,
        *,
        feed_channel: str | None,
        public_url: str | None,
        feed_setting: str = "the feed channel setting",
    ) -> None:
        """`feed_channel`: where incidents are announced (None: nowhere); `feed_setting`: the
        setting that names it, for texts that tell an operator to set it."""
        self.db = db
        self.chat = chat
        self.catalog = catalog
        self.clock = clock
        self.feed_channel = feed_channel
        self.public_url = public_url
        self.feed_setting = feed_setting
        self._opened_here = threading.local()  # see `_just_opened`

    @property
    def handlers(self) -> dict[str, Any]:
        return {
            OPEN_CHANNEL: self.open_channel,
            ANNOUNCE: self.announce,
            REFRESH: self.refresh,
            POST_LINE: self.post_line,
            FILL_PIN: self.fill_pin,
            NOTICE: self.notice,
            INVITE: self.invite,
            PROPOSE_MITIGATION: self.propose_mitigation,
            CHECKLIST: self.checklist,
            DIRECT: self.direct,
            ARCHIVE: self.archive,
        }

    # -- helpers ---------------------------------------------------------------------------------
    def load(self, row: QueuedEffect) -> tuple[ChatIncident, CardView]:
        assert row.incident_id is not None
        with self.db.read() as session:
            incident = chat_state.chat_incident(session=session, incident_id=row.incident_id)
            if incident is None:
                raise IntegrationError("bot", "incident_gone", retryable=False)
            require_this_surface(incident, self.chat)
            return incident, card_view(
                session=session, incident=incident, catalog=self.catalog, public_url=self.public_url
            )

    def _card(self, incident: ChatIncident) -> CardView:
        """The card of an incident just read (and written) by the caller."""
        with self.db.read() as session:
            return card_view(
                session=session, incident=incident, catalog=self.catalog, public_url=self.public_url
            )

    def channel(self, incident: IncidentSummary) -> str:
        if incident.conversation_id is None:
            if self._channel_given_up(incident.id):
                raise IntegrationError("chat", NO_CHANNEL, retryable=False)
            # another lane got here before open_channel finished: wait for it
            raise IntegrationError("chat", "no_channel_yet", retryable=True)
        return incident.conversation_id

    def _channel_given_up(self, incident_id: int) -> bool:
        with self.db.read() as session:
            return outbox.given_up(session=session, incident_id=incident_id, kind=OPEN_CHANNEL)

    def once(
        self,
        row: QueuedEffect,
        channel: str,
        post: Callable[..., str],
        *,
        part: str = "",
        look: bool = True,
    ) -> str:
        """Post a message once: the message carries the effect's key, and a retry first looks
        for it (the previous attempt may have posted it and lost the surface's answer)."""
        key = f"incidentbot:{row.id}{':' + part if part else ''}"
        if look and row.attempts > 1:
            try:
                found = self.chat.find_posted(channel, key)
            except IntegrationError as exc:
                if exc.retryable:
                    raise
                found = None  # no history to read (e.g. the feed set by name): post
            if found is not None:
                return found
        return post(key=key)

    # -- handlers --------------------------------------------------------------------------------
    def open_channel(self, row: ChannelEffect) -> None:
        assert row.incident_id is not None
        self._opened_here.last = None
        iid = row.incident_id
        asked = first_run(row)
        if (
            asked is not None
        ):  # never run before: no channel yet, nothing read before the chat is asked
            incident = self._opened(row, asked)
            fresh = True
        else:
            with self.db.read() as session:
                found = chat_state.chat_incident(session=session, incident_id=iid)
            if found is None:
                raise IntegrationError("bot", "incident_gone", retryable=False)
            require_this_surface(found, self.chat)
            fresh = found.conversation_id is None  # made now: no earlier attempt posted in it
            # the channel first: nothing else is written before the chat is asked
            incident = self._opened(row, found) if fresh else found
        card = self._card(incident)
        channel = self.channel(incident)
        people = [user for _role, user in card.roles if user]
        if incident.created_by and incident.created_by not in people:
            people.insert(0, incident.created_by)
        if people:
            self.chat.invite(channel, people)
        topic = self.chat.topic_for(card)
        new_topic = topic if topic != incident.topic else None
        if new_topic is not None:  # saved with the card: setting it twice is harmless
            self.chat.set_topic(channel, topic)
        card_ts = incident.card_message_id
        posted = None
        if card_ts is None:
            card_ts = posted = self.once(
                row, channel, partial(self.chat.post_card, channel, card), look=not fresh
            )
        if new_topic is not None or posted is not None:
            with self.db.one_write() as session:
                chat_state.record_in_conversation(
                    session=session, incident_id=iid, topic=new_topic, card_message_id=posted
                )
            incident = replace(incident, topic=topic, card_message_id=card_ts)
        self.chat.pin(channel, card_ts)  # keeps the card one click away in the channel header
        self._opened_here.last = (iid, incident, card)

    def _just_opened(self, row: QueuedEffect) -> tuple[ChatIncident, CardView] | None:
        """The incident and card this thread's `open_channel` of the same incident just left
        (the announcement is the lane's next effect): not read again. Anything that changed
        the incident since enqueued its refresh behind the announcement in the lane."""
        last = getattr(self._opened_here, "last", None)
        self._opened_here.last = None
        if last is None or last[0] != row.incident_id or row.attempts != 1:
            return None
        return last[1], last[2]

    def _opened(self, row: ChannelEffect, incident: Asked) -> ChatIncident:
        """Create the channel; the incident as it is with the channel recorded."""
        assert incident.id is not None
        channel_id, name = create_channel(
            self.db, self.chat, row, incident, partial(self._declared, incident.id)
        )
        with self.db.one_write() as session:
            stored = chat_state.record_conversation(
                session=session,
                incident_id=incident.id,
                conversation_id=channel_id,
                conversation_name=name,
                chat_surface=self.chat.kind,
            )
        if stored is None:
            raise IntegrationError("bot", "incident_gone", retryable=False)
        return stored

    def _declared(self, incident_id: int) -> datetime | None:
        with self.db.read() as session:
            stamps = q.milestones(session=session, incident_id=incident_id)
        declared = stamps.get(Milestone.DECLARED)
        return declared.at if declared else None

    def announce(self, row: QueuedEffect) -> None:
        incident, card = self._just_opened(row) or self.load(row)
        feed_channel = self.feed_channel
        if incident.announce_message_id or not feed_channel or incident.private:
            return
        try:
            self.channel(incident)  # the announcement links the channel: wait for it
        except IntegrationError as exc:
            if exc.code != NO_CHANNEL:
                raise  # announced without a channel when it could not be made
        answered: list[str] = []

        def post(*, key: str) -> str:
            channel, ts = self.chat.announce(feed_channel, card, key=key)
            answered.append(channel)  # the surface answers with the id, whatever the setting names
            return ts

        ts = self.once(row, feed_channel, post)
        with self.db.one_write() as session:
            chat_state.record_announced(
                session=session,
                incident_id=incident.id,
                conversation_id=(answered or [feed_channel])[0],
                message_id=ts,
                chat_surface=self.chat.kind,
            )

    def refresh(self, row: QueuedEffect) -> None:
        incident, card = self.load(row)
        if (
            incident.announce_conversation_id and incident.announce_message_id
        ):  # first: the feed outlives the channel
            self.chat.update_announcement(
                incident.announce_conversation_id, incident.announce_message_id, card
            )
        channel = self.channel(incident)
        if incident.card_message_id:
            self.chat.update_card(channel, incident.card_message_id, card)
        topic = self.chat.topic_for(card)
        if topic != incident.topic:
            self.chat.set_topic(channel, topic)
            with self.db.one_write() as session:
                chat_state.record_in_conversation(
                    session=session, incident_id=incident.id, topic=topic
                )

    def invite(self, row: QueuedEffect) -> None:
        incident, _card = self.load(row)
        self.chat.invite(self.channel(incident), list(row.payload["users"]))

    def propose_mitigation(self, row: QueuedEffect) -> None:
        incident, card = self.load(row)
        channel = self.channel(incident)
        at = datetime.fromisoformat(row.payload["at"])
        self.once(row, channel, partial(self.chat.propose_mitigation, channel, card, at))

    def checklist(self, row: QueuedEffect) -> None:
        """Post or update the checklist of every playbook on the incident (idempotent)."""
        incident, _card = self.load(row)
        channel = self.channel(incident)
        with self.db.read() as session:
            runs = run_store.checklists(session=session, incident_id=incident.id)
            views = [(run, checklist_view(session, run, self.catalog)) for run in runs]
        for run, view in views:
            if run.message_id:
                self.chat.update_checklist(channel, run.message_id, view)
                continue
            ts = self.once(
                row,
                channel,
                partial(self.chat.post_checklist, channel, view),
                part=f"run{run.id}",  # one row may post several playbooks' checklists
            )
            with self.db.one_write() as session:
                run_store.record_checklist_posted(session=session, run_id=run.id, message_id=ts)

    def archive(self, row: QueuedEffect) -> None:
        incident, _card = self.load(row)
        self.chat.archive(self.channel(incident))

    def direct(self, row: QueuedEffect) -> None:
        p = row.payload
        line = Line(
            kind=p["kind"],
            text=p["text"],
            actor=None,
            at=datetime.fromisoformat(p["at"]),
            data=p.get("data", {}),
        )
        self.chat.direct_message(p["user"], line)

    def post_line(self, row: QueuedEffect) -> None:
        incident, card = self.load(row)
        p = row.payload
        line = Line(
            kind=p["kind"],
            text=p["text"],
            actor=p.get("actor"),
            at=datetime.fromisoformat(p["at"]),
            data=p.get("data", {}),
        )
        channel = self.channel(incident)
        self.once(row, channel, partial(self.chat.post_line, channel, line, card))

    def fill_pin(self, row: QueuedEffect) -> None:
        p = row.payload
        message = self.chat.fetch_message(p["channel"], p["ts"])
        with self.db.transaction() as session:  # unpinned before we got to it: nothing to fill
            pins.record_message(
                session=session,
                entry_id=p["entry_id"],
                text=message.text or "(message without text)",
                author=message.user,
                permalink=message.permalink,
            )

    def gave_up(self, row: QueuedEffect, error: str) -> None:
        """Make a given-up effect visible in the incident channel (or the feed), once per way of
        failing: when the channel is gone every later update fails alike, and one notice says it."""
        if row.kind == NOTICE or row.incident_id is None or row.kind.startswith("tracker."):
            return  # the tracker's failures are told by tracker_effects, with what to fix
        if error.startswith(f"chat: {NO_CHANNEL}"):
            return  # the channel's own failure was reported
        if gave_up_on_it(error):
            return  # nowhere to say it: the incident's conversation is another surface's
        what = DESCRIPTIONS.get(row.kind, row.kind)
        text = f"I could not {what} after {row.attempts} attempts ({error}). The incident itself is saved; check the bot's {self.chat.surface} access and logs."
        with self.db.transaction() as session:
            recent = self.clock.now() - timedelta(hours=1)
            if outbox.failed_alike(session=session, row=row, error=error, since=recent):
                return
            outbox.enqueue(
                session=session,
                lane=notice_lane(row.incident_id),
                kind=NOTICE,
                now=self.clock.now(),
                incident_id=row.incident_id,
                payload={"text": text},
            )

    def notice(self, row: QueuedEffect) -> None:
        """A visible report that an effect was given up: in the channel, or in the feed (naming
        the incident) when there is no channel or it is archived, gone or closed to the bot."""
        incident, card = self.load(row)
        text = row.payload["text"]
        if incident.conversation_id is not None:
            channel = incident.conversation_id
            line = Line(kind="error", text=text, actor=None, at=self.clock.now())
            try:
                self.once(row, channel, partial(self.chat.post_line, channel, line, card))
                return
            except ConversationGone as exc:
                text = f"{text} (and its channel: {self.chat.surface} says {exc.code})"
        if incident.private:  # the feed must not learn of it: its commander and declarer are told
            text = f"Private incident “{incident.title}”: {text}"
            line = Line(
                "error", text, None, self.clock.now(), {"channel_id": incident.conversation_id}
            )
            commander = [user for role, user in card.roles if role.id == COMMANDER and user]
            for user in dict.fromkeys([*commander, *filter(None, [incident.created_by])]):
                self.chat.direct_message(user, line)
            return
        feed = self.feed_channel
        if feed is None:
            return
        line = Line(kind="error", text=text, actor=None, at=self.clock.now(), data={"feed": True})
        self.once(row, feed, partial(self.chat.post_line, feed, line, card))

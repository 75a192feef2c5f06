"""People across surfaces and pagers: who did something in a pager, as the chat knows them.

A person is one identity (`bot.store.people`) with a handle per system; the chat surface's
handle is what roles, milestones and the timeline hold. A pager names whoever acted by its own
user id, its username or their email; `People.from_pager` finds the person through the table
first, asks the chat surface for that email only when the table cannot say, and remembers the
answer, so the same person acknowledging in two pagers is one person with one
chat handle, and the chat is asked once. Someone the chat does not know keeps their email: the
person is recorded, and the email is how the timeline names them."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.flows.pagers import Pagers
from bot.flows.ports import Chat, Clock, IntegrationError
from bot.store import people as store
from bot.store.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Someone:
    """A person a pager named, as far as they are known."""

    person_id: int | None  # None: the pager named nobody (no id, no email)
    email: str | None
    chat: str | None  # their chat handle; None when the chat surface does not know them
    name: str | None  # as the pager names them

    @property
    def named(self) -> str | None:
        """How a sentence names them: the pager's name for them, else their email."""
        return self.name or self.email

    @property
    def known_as(self) -> str | None:
        """How a sentence names them when there is no chat handle to mention: the pager's name
        and their email, so whoever reads it can find them."""
        if self.name and self.email and self.name.lower() != self.email:
            return f"{self.name} ({self.email})"
        return self.named


class People:
    def __init__(self, db: Database, chat: Chat, pagers: Pagers, clock: Clock) -> None:
        self.db = db
        self.chat = chat
        self.pagers = pagers
        self.clock = clock

    def from_pager(
        self, kind: str, *, user_id: str | None, email: str | None, name: str | None = None
    ) -> Someone:
        """The person behind a pager's user (`kind`: the pager's registry key)."""
        system = store.pager_system(kind)
        known: store.Person | None = None
        if user_id:
            with self.db.read() as session:
                known = store.by_handle(session=session, system=system, handle=user_id)
                chat = (
                    store.handle_of(session=session, person_id=known.id, system=store.CHAT)
                    if known
                    else None
                )
            if known is not None and chat is not None:
                return Someone(known.id, known.email, chat, name or known.name)
        email = email or (known.email if known else None) or self._pager_email(kind, user_id)
        if not email or len(email) > store.EMAIL_MAX or "@" not in email:
            return Someone(known.id if known else None, None, None, name or email)
        email = store.normal_email(email)
        handles = [(system, user_id)] if user_id else []
        if email != (user_id or "").lower():
            handles.append((system, email))  # a pager whose usernames are emails
        with self.db.read() as session:
            person = store.by_email(session=session, email=email)
            chat = (
                store.handle_of(session=session, person_id=person.id, system=store.CHAT)
                if person
                else None
            )
            settled = person is not None and all(
                store.by_handle(session=session, system=where, handle=handle) == person
                for where, handle in handles
            )
        if person is not None and chat is not None and settled:
            return Someone(person.id, email, chat, name or person.name)  # nothing new to keep
        if chat is None:
            chat = self._chat_user(email)
        person = self._remember(email, name, chat, handles)
        return Someone(person.id, email, chat, name or person.name)

    def email_of(self, chat: str) -> str | None:
        """The email of the person with chat handle `chat` (a follow-up's owner, for the
        tracker's assignee): from the table, else asked of the chat surface once and kept."""
        with self.db.read() as session:
            known = store.by_handle(session=session, system=store.CHAT, handle=chat)
        if known is not None and known.email is not None:
            return known.email
        try:
            email = self.chat.user_email(chat)
        except IntegrationError as exc:
            log.warning("could not ask the chat surface for %s's email: %s", chat, exc)
            return None
        if not email:
            return None
        return self._remember(store.normal_email(email), None, chat, []).email

    def _pager_email(self, kind: str, user_id: str | None) -> str | None:
        pager = self.pagers.get(kind)
        if pager is None or not user_id:
            return None
        try:
            return pager.person_email(user_id)
        except IntegrationError as exc:
            log.warning("could not ask %s for user %s's email: %s", kind, user_id, exc)
            return None

    def _chat_user(self, email: str) -> str | None:
        try:
            return self.chat.user_by_email(email)
        except IntegrationError as exc:
            log.warning("could not ask the chat surface who %s is: %s", email, exc)
            return None

    def _remember(
        self, email: str, name: str | None, chat: str | None, handles: list[tuple[str, str]]
    ) -> store.Person:
        """One transaction: the person with `email` (a person known by their chat handle only,
        as migration 0017 back-filled them, gets the email), their chat handle and the pager's."""
        now = self.clock.now()
        with self.db.transaction() as session:
            holder = (
                store.by_handle(session=session, system=store.CHAT, handle=chat) if chat else None
            )
            if (
                holder is not None
                and holder.email is None
                and store.by_email(session=session, email=email) is None
            ):
                holder = store.record_email(session=session, person_id=holder.id, email=email)
            person = holder or store.record_person(session=session, email=email, name=name, now=now)
            if chat is not None and holder is None:
                store.record_handle(
                    session=session, person_id=person.id, system=store.CHAT, handle=chat, now=now
                )
            for system, handle in handles:
                store.record_handle(
                    session=session, person_id=person.id, system=system, handle=handle, now=now
                )
        return person

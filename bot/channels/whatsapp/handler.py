"""One WhatsApp event handled: the customer's conversation found (or the redelivery dropped), the
bot's turn taken through ChatService like any channel's, and the reply sent through the outbox.

The customer's message is marked read, with "typing…", as soon as the bot takes it. WhatsApp has no
hand-over protocol: a hand-off goes to faqbot's own agent inbox, and while a person holds the
conversation ChatService records what the customer writes and the bot says nothing. Statuses of our
messages confirm them in the outbox; failed ones are counted and logged with their error code."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from bot.channels.graph.errors import code_label
from bot.channels.messenger import payloads
from bot.channels.whatsapp import outgoing
from bot.channels.whatsapp.events import CHANNEL, Choice, Event, Media, Reaction, Status, Text
from bot.channels.whatsapp.graph import WhatsAppGraph
from bot.channels.whatsapp.sender import Sender
from bot.dialogue.messages import message
from bot.dialogue.vocabulary import Reason
from bot.service.chat import ChatService, Turn
from bot.storage.channel_threads import Thread, Threads
from bot.storage.statuses import ConversationStatus, Role
from bot.storage.store import UnknownConversation

log = logging.getLogger("faqbot.whatsapp")


class Handler:
    """Handles events one at a time (the caller keeps each customer's events in order)."""

    def __init__(
        self,
        chat: ChatService,
        threads: Threads,
        graph: WhatsAppGraph,
        sender: Sender,
        default_lang: str = "it",
        max_chars: int = 2000,
        observe: Callable[[Turn], None] | None = None,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        self.chat = chat
        self.threads = threads
        self.graph = graph
        self.sender = sender
        self.default_lang = default_lang
        self.max_chars = max_chars
        self.observe = observe
        self.on_failure = on_failure  # a failed status, by its error code

    def __call__(self, event: Event, again: bool = False) -> None:
        """Handle one event; with `again`, a replay from the inbox, which handles an event once more
        if its earlier handling was cut short (the process died, the database went away)."""
        self.threads.forget_stale_events()
        if isinstance(event, Status):
            self._status(event)
            return
        if isinstance(event, Reaction):  # read, never answered (see README: reactions)
            log.info("WhatsApp reaction %r to message %s: not answered", event.emoji, event.message_id)
            return
        thread = self.threads.arrive(event.user, event.key, event.at or _now(), True, again)
        if thread is None:
            log.info("WhatsApp message %s already handled (a redelivery): skipped", event.key)
            return
        self._handle(event, thread)
        self.threads.done(event.key)

    def _handle(self, event: Event, thread: Thread) -> None:
        holds = thread.status == ConversationStatus.HANDOFF  # a person holds it: they answer
        if not holds and not self.sender.waiting(thread.external_id):
            self.graph.read(event.key)  # blue ticks and "typing…" (not while replies wait)
        if isinstance(event, Text):
            self._turn(thread, event.text.strip()[: self.max_chars])
        elif isinstance(event, Choice):
            self._choice(thread, event, holds)
        elif isinstance(event, Media):
            self.threads.note(thread.conversation_id, Role.USER, f"[{', '.join(event.kinds)}]")
            if not holds:
                text = message("text_only", self._lang(thread))
                self.threads.note(thread.conversation_id, Role.BOT, text, Reason.TEXT_ONLY)
                self._send(thread, outgoing.text_messages(text))

    def _choice(self, thread: Thread, event: Choice, holds: bool) -> None:
        """A reply button or list row: the article it offered, feedback, or a person."""
        picked = payloads.parse(event.id)
        if holds:
            self._turn(thread, event.title)  # recorded for the person who holds the conversation
        elif picked.kind == "article":
            record = self.chat.bot.retriever.article(picked.value)
            if record is not None:
                self._turn(thread, record.title, record.lang)
            else:  # an article gone since the choice was sent: its title is the question
                self._turn(thread, event.title)
        elif picked.kind == "feedback":
            self._feedback(thread, picked)
        elif picked.kind == "person":
            self._turn(thread, message("person_request", self._lang(thread)))
        else:  # a template's button, or one we no longer know: its words are the question
            self._turn(thread, event.title)

    def _turn(self, thread: Thread, text: str, lang: str | None = None) -> None:
        if not text:
            return
        turn = self.chat.handle(text, thread.conversation_id, lang, CHANNEL)
        if self.observe is not None:
            self.observe(turn)
        self._send(thread, outgoing.turn_messages(turn))

    def _feedback(self, thread: Thread, picked: payloads.Payload) -> None:
        try:
            handoff = self.chat.feedback(thread.conversation_id, picked.value, bool(picked.helpful), None)
        except UnknownConversation:
            log.warning("feedback on message %s, which is not in this customer's conversation", picked.value)
            return
        if picked.helpful:
            self._send(thread, outgoing.text_messages(message("feedback_thanks", self._lang(thread))))
        elif handoff is not None:
            self._send(thread, outgoing.text_messages(handoff.message))

    def _status(self, event: Status) -> None:
        """Any status means WhatsApp took the message, so the outbox never sends it again (sending a
        failed one again would fail the same way); a failed one is counted and logged with
        WhatsApp's error code."""
        if event.status == "failed":
            for code, title in event.errors or ((None, "no reason given"),):
                log.error("WhatsApp message %s to %s failed: error code %s, %s",
                          event.message_id, event.user, code, title)  # fmt: skip
                if self.on_failure is not None:
                    self.on_failure(code_label(code))
        if event.token is not None:
            self.sender.confirmed(event.token)

    def _send(self, thread: Thread, messages: list[dict]) -> None:
        """Send in order; what the Graph API does not take now waits in the outbox. The
        conversation was recorded before, so a failed send loses nothing of it."""
        self.sender.send(thread.external_id, messages, thread.conversation_id)

    def _lang(self, thread: Thread) -> str:
        return thread.lang or self.default_lang


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)

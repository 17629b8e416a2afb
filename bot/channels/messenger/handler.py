"""One Messenger (or Instagram, see bot.channels.messenger.platform) event handled: the customer's
thread found (or the redelivery dropped), the bot's turn taken through ChatService like any
channel's, and the reply sent with the Send API (through the outbox when the Graph API does not
take it now).

The customer sees "seen" as soon as a message is read and "typing…" while a reply takes longer
than `typing_after`. Get Started and m.me links (`ref`) greet in the customer's language (the
link's ref, the button's localised title, their Messenger locale) and may open on an article; a
button of an old menu or a link on its own is answered, never handed to a person unasked."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bot.channels.messenger import outgoing, payloads
from bot.channels.messenger.events import (
    Attachment,
    Echo,
    Event,
    Postback,
    Referral,
    Text,
    ThreadControl,
)
from bot.channels.messenger.graph import GraphClient, GraphError
from bot.channels.messenger.handover import Handover
from bot.channels.messenger.platform import MESSENGER, Platform
from bot.channels.messenger.sender import Sender
from bot.dialogue.escalation import asks_for_person
from bot.dialogue.messages import MESSAGES, message
from bot.dialogue.vocabulary import DecisionKind, Reason
from bot.service.chat import ChatService, Turn
from bot.storage.channel_threads import BOT, INBOX, Thread, Threads
from bot.storage.statuses import ConversationStatus, Role
from bot.storage.store import UnknownConversation

log = logging.getLogger("faqbot.messenger")
_LINKS_ONLY = re.compile(r"^(?:\s*(?:https?://|www\.)\S+)+\s*$", re.IGNORECASE)


class Handler:
    """Handles events one at a time (the caller keeps each customer's events in order)."""

    def __init__(
        self,
        chat: ChatService,
        threads: Threads,
        graph: GraphClient,
        handover: Handover,
        default_lang: str = "it",
        max_chars: int = 2000,
        typing_after: float | None = 0.6,
        observe: Callable[[Turn], None] | None = None,
        sender: Sender | None = None,
        platform: Platform = MESSENGER,
    ) -> None:
        self.chat = chat
        self.platform = platform  # Messenger, or Instagram (same events, its own limits)
        self.channel = platform.channel
        self.threads = threads
        self.graph = graph
        self.handover = handover
        self.sender = sender or handover.sender
        self.default_lang = default_lang
        self.max_chars = max_chars
        self.typing_after = typing_after  # seconds of thinking before the customer sees "typing…"
        self.observe = observe

    def __call__(self, event: Event, again: bool = False) -> None:
        """Handle one event; with `again`, a replay from the inbox, which handles an event once more
        if its earlier handling was cut short (the process died, the database went away)."""
        self.threads.forget_stale_events()
        if isinstance(event, Echo):  # one of our messages reached the customer
            self.sender.confirmed(event.token)
            return
        control = isinstance(event, ThreadControl)
        thread = self.threads.arrive(event.psid, event.key, event.at or _now(), not control, again)
        if thread is None:
            log.info("%s event %s already handled (a redelivery): skipped", self.platform.name, event.key)
            return
        self._handle(event, thread)
        self.threads.done(event.key)

    def _handle(self, event: Event, thread: Thread) -> None:
        if isinstance(event, ThreadControl):
            self.handover.on_control(event, thread)
        elif event.standby:
            self._listen(event, thread)
        else:
            if thread.owner != BOT:  # delivered to us, not as standby: Meta says we hold the thread
                self.threads.set_owner(thread.conversation_id, BOT)
            self._answer(event, thread)

    def _answer(self, event: Event, thread: Thread) -> None:
        if not isinstance(event, Referral):
            self._sender_action(thread.external_id, "mark_seen")
        if isinstance(event, Text):
            picked = payloads.parse(event.quick_reply) if event.quick_reply else None
            text = event.text.strip()[: self.max_chars]
            if picked is not None:
                self._act(thread, picked, text)
            elif _LINKS_ONLY.match(text) and thread.status != ConversationStatus.HANDOFF:
                self.threads.note(thread.conversation_id, Role.USER, text)
                self._say(thread, message("link_only", self._lang(thread)), Reason.LINK_ONLY, person=True)
            else:
                self._turn(thread, text)
        elif isinstance(event, Postback):
            self._act(thread, payloads.parse(event.payload), event.title.strip(), event.ref)
        elif isinstance(event, Referral):
            if thread.status != ConversationStatus.HANDOFF:
                self._opened(thread, event.ref, greet=False)
        elif isinstance(event, Attachment):
            self.threads.note(thread.conversation_id, Role.USER, f"[{', '.join(event.kinds)}]")
            # While a person holds it, they decide what to say.
            if thread.status != ConversationStatus.HANDOFF:
                self._say(thread, message("text_only", self._lang(thread)), Reason.TEXT_ONLY)

    def _act(self, thread: Thread, picked: payloads.Payload, shown: str, ref: str | None = None) -> None:
        """A button or quick reply: `shown` is its title, what the customer saw and tapped."""
        lang = self._lang(thread)
        holds = thread.status == ConversationStatus.HANDOFF  # a person holds it: they decide
        if picked.kind == "feedback":
            self._feedback(thread, picked)
        elif picked.kind == "article":
            record = self.chat.bot.retriever.article(picked.value)
            if record is not None:
                self._turn(thread, record.title, record.lang)
            else:  # an article gone since the button was sent
                self._stale(thread, shown, holds)
        elif picked.kind == "person":
            self._turn(thread, shown if asks_for_person(shown) else message("person_request", lang))
        elif picked.kind == "get_started" and not holds:
            self.threads.note(thread.conversation_id, Role.USER, shown or "Get Started")
            self._opened(thread, ref, greet=True, title=shown)
        elif picked.kind == "start_over" and not holds:
            self.threads.note(thread.conversation_id, Role.USER, shown or "Start over")
            self.threads.start_over(thread.conversation_id)
            self._say(thread, message("start_over", lang), Reason.START_OVER)
        elif picked.kind in ("get_started", "start_over"):
            self._turn(thread, shown)  # recorded for the person who holds the conversation
        else:  # a button we did not make (an old menu's), or of a message that no longer applies
            self._stale(thread, shown, holds)

    def _stale(self, thread: Thread, shown: str, holds: bool) -> None:
        """A button we cannot act on: its title is answered if it is a question the bot answers
        with confidence; otherwise the customer is asked to write, with a person one tap away."""
        if holds or (shown and self._confident(shown, thread)):
            self._turn(thread, shown)
            return
        self.threads.note(thread.conversation_id, Role.USER, shown or "?")
        self._say(thread, message("stale_button", self._lang(thread)), Reason.STALE_BUTTON, person=True)

    def _confident(self, text: str, thread: Thread) -> bool:
        reply, _ = self.chat.bot.reply(text, None, lang=thread.lang)
        return reply.decision == DecisionKind.ANSWER

    def _opened(self, thread: Thread, ref: str | None, greet: bool, title: str = "") -> None:
        """The customer opened the conversation (Get Started, or an m.me link / ad with `ref`): a
        ref naming an article answers it; otherwise a greeting in the customer's language."""
        record = self.chat.bot.retriever.article(ref) if ref else None
        lang = record.lang if record is not None else self._welcome_lang(thread, ref, title)
        if lang != thread.lang:
            self.threads.set_lang(thread.conversation_id, lang)
        if record is not None:
            self._turn(thread, record.title, record.lang)
        elif greet or ref:
            self._say(thread, message("greeting", lang), Reason.GREETING)

    def _welcome_lang(self, thread: Thread, ref: str | None, title: str) -> str:
        """The customer's language before they wrote: a ref that is a language code, the Get
        Started button's title (Messenger shows it in the customer's locale), the language the
        conversation already has, their Messenger locale, else the default."""
        if ref and ref.lower() in MESSAGES:
            return ref.lower()
        for lang in MESSAGES:
            if title and title.casefold() == message("get_started", lang).casefold():
                return lang
        if thread.lang:
            return thread.lang
        if not self.platform.locale_lookup:  # Instagram's profile has no locale
            return self.default_lang
        return self._locale(thread.external_id) or self.default_lang

    def _locale(self, psid: str) -> str | None:
        """The customer's language from their Messenger locale (User Profile API; needs the
        Page's permission for `locale`: without it, None)."""
        try:
            locale = str(self.graph.get(psid, {"fields": "locale"}).get("locale") or "")
        except GraphError as exc:
            log.info("customer locale not available (%s): the default language greets", exc)
            return None
        lang = locale.split("_")[0].lower()
        return lang if lang in MESSAGES else None

    def _turn(self, thread: Thread, text: str, lang: str | None = None) -> None:
        if not text:
            return
        with self._typing(thread.external_id):
            turn = self.chat.handle(text, thread.conversation_id, lang, self.channel)
        if self.observe is not None:
            self.observe(turn)
        self._send(thread, outgoing.turn_messages(turn, self.platform.max_text))
        if turn.handoff is not None and turn.reply.reason != Reason.AGENT_HOLDS:
            self.handover.pass_to_inbox(
                thread, turn.handoff.ticket_id, turn.reply.reason, turn.reply.lang, text
            )

    def _feedback(self, thread: Thread, picked: payloads.Payload) -> None:
        try:
            handoff = self.chat.feedback(thread.conversation_id, picked.value, bool(picked.helpful), None)
        except UnknownConversation:
            log.warning("feedback on message %s, which is not in this customer's conversation", picked.value)
            return
        if picked.helpful:
            self._send(thread, self._texts(message("feedback_thanks", self._lang(thread))))
        elif handoff is not None:
            self._send(thread, self._texts(handoff.message))
            self.handover.pass_to_inbox(
                thread, handoff.ticket_id, Reason.NEGATIVE_FEEDBACK, self._lang(thread), ""
            )

    def _listen(self, event: Event, thread: Thread) -> None:
        """Someone else (the Page Inbox) holds the thread: record what the customer wrote, answer nothing."""
        if thread.status != ConversationStatus.HANDOFF or thread.owner == BOT:
            self.threads.set_owner(thread.conversation_id, INBOX)
            self.threads.hold(thread.conversation_id, Reason.INBOX)
        if isinstance(event, Text):
            self.chat.handle(event.text.strip()[: self.max_chars], thread.conversation_id, None, self.channel)
        elif isinstance(event, Attachment):
            self.threads.note(thread.conversation_id, Role.USER, f"[{', '.join(event.kinds)}]")
        elif isinstance(event, Postback) and event.title.strip():
            self.threads.note(thread.conversation_id, Role.USER, event.title.strip())

    def _say(self, thread: Thread, text: str, reason: Reason, person: bool = False) -> None:
        """A message of the bot's own outside a turn, recorded with the conversation and sent
        (with `person`, a quick reply to reach one)."""
        self.threads.note(thread.conversation_id, Role.BOT, text, reason)
        lang = self._lang(thread)
        quick = [outgoing.quick_reply(message("quick_person", lang), payloads.PERSON)] if person else None
        self._send(thread, self._texts(text, quick))

    def _texts(self, text: str, quick: list[dict] | None = None) -> list[dict]:
        return outgoing.text_messages(text, quick, self.platform.max_text)

    def _send(self, thread: Thread, messages: list[dict]) -> None:
        """Send in order; what the Graph API does not take now waits in the outbox. The
        conversation was recorded before, so a failed send loses nothing of it."""
        self.sender.send(thread.external_id, messages, thread.conversation_id)

    @contextmanager
    def _typing(self, psid: str) -> Iterator[None]:
        """Show "typing…" if the reply takes longer than `typing_after` seconds."""
        if self.typing_after is None:
            yield
            return
        timer = threading.Timer(self.typing_after, self._typing_on, args=(psid,))
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
            timer.join()  # if it fired, let the indicator go out before the reply

    def _typing_on(self, psid: str) -> None:
        self._sender_action(psid, "typing_on")

    def _sender_action(self, psid: str, action: str) -> None:
        """mark_seen or typing_on, unless Messenger is not taking this customer's messages now
        (their replies wait in the outbox): an indicator is not worth a wait, nor a retry."""
        if self.sender.waiting(psid):
            return
        with contextlib.suppress(GraphError):  # logged
            self.graph.sender_action(psid, action)

    def _lang(self, thread: Thread) -> str:
        return thread.lang or self.default_lang


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)

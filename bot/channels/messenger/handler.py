"""One Messenger event handled: the customer's thread found (or the redelivery dropped), the bot's
turn taken through ChatService like any channel's, and the reply sent with the Send API."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from bot.channels.messenger import outgoing, payloads
from bot.channels.messenger.events import CHANNEL, Attachment, Event, Postback, Text, ThreadControl
from bot.channels.messenger.graph import GraphClient, GraphError
from bot.channels.messenger.handover import Handover
from bot.dialogue.escalation import asks_for_person
from bot.dialogue.messages import message
from bot.dialogue.vocabulary import Reason
from bot.service.chat import ChatService, Turn
from bot.storage.channel_threads import BOT, INBOX, Thread, Threads
from bot.storage.statuses import ConversationStatus, Role
from bot.storage.store import UnknownConversation

EVENTS_KEPT = dt.timedelta(days=7)  # Meta stops redelivering a webhook long before this
log = logging.getLogger("faqbot.messenger")


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
    ) -> None:
        self.chat = chat
        self.threads = threads
        self.graph = graph
        self.handover = handover
        self.default_lang = default_lang
        self.max_chars = max_chars
        self.typing_after = typing_after  # seconds of thinking before the customer sees "typing…"
        self.observe = observe
        self._pruned = 0.0

    def __call__(self, event: Event, again: bool = False) -> None:
        """Handle one event; with `again`, a replay from the inbox, which handles an event once more
        if its earlier handling was cut short (the process died, the database went away)."""
        self._prune()
        control = isinstance(event, ThreadControl)
        thread = self.threads.arrive(event.psid, event.key, event.at or _now(), not control, again)
        if thread is None:
            log.info("Messenger event %s already handled (a redelivery): skipped", event.key)
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
        if isinstance(event, Text):
            picked = payloads.parse(event.quick_reply) if event.quick_reply else None
            text = event.text.strip()[: self.max_chars]
            if picked is None:
                self._turn(thread, text)
            else:
                self._act(thread, picked, text)
        elif isinstance(event, Postback):
            self._act(thread, payloads.parse(event.payload), event.title.strip())
        elif isinstance(event, Attachment):
            self.threads.note(thread.conversation_id, Role.USER, f"[{', '.join(event.kinds)}]")
            # While a person holds it, they decide what to say.
            if thread.status != ConversationStatus.HANDOFF:
                self._say(thread, message("text_only", self._lang(thread)), Reason.TEXT_ONLY)

    def _act(self, thread: Thread, picked: payloads.Payload, shown: str) -> None:
        """A button or quick reply: `shown` is its title, what the customer saw and tapped."""
        lang = self._lang(thread)
        if picked.kind == "feedback":
            self._feedback(thread, picked)
        elif picked.kind == "article":
            record = self.chat.bot.retriever.article(picked.value)
            self._turn(thread, record.title if record else shown or picked.value)
        elif picked.kind == "person":
            self._turn(thread, shown if asks_for_person(shown) else message("person_request", lang))
        elif picked.kind == "get_started" and thread.status != ConversationStatus.HANDOFF:
            self.threads.note(thread.conversation_id, Role.USER, shown or "Get Started")
            self._say(thread, message("greeting", lang), Reason.GREETING)
        elif picked.kind == "start_over" and thread.status != ConversationStatus.HANDOFF:
            self.threads.note(thread.conversation_id, Role.USER, shown or "Start over")
            self.threads.start_over(thread.conversation_id)
            self._say(thread, message("start_over", lang), Reason.START_OVER)
        elif shown:  # a button we did not make, or one pressed while a person holds the thread
            self._turn(thread, shown)

    def _turn(self, thread: Thread, text: str) -> None:
        if not text:
            return
        with self._typing(thread.external_id):
            turn = self.chat.handle(text, thread.conversation_id, None, CHANNEL)
        if self.observe is not None:
            self.observe(turn)
        self._send(thread, outgoing.turn_messages(turn))
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
            self._send(thread, outgoing.text_messages(message("feedback_thanks", self._lang(thread))))
        elif handoff is not None:
            self._send(thread, outgoing.text_messages(handoff.message))
            self.handover.pass_to_inbox(
                thread, handoff.ticket_id, Reason.NEGATIVE_FEEDBACK, self._lang(thread), ""
            )

    def _listen(self, event: Event, thread: Thread) -> None:
        """Someone else (the Page Inbox) holds the thread: record what the customer wrote, answer nothing."""
        if thread.status != ConversationStatus.HANDOFF or thread.owner == BOT:
            self.threads.set_owner(thread.conversation_id, INBOX)
            self.threads.hold(thread.conversation_id, Reason.INBOX)
        if isinstance(event, Text):
            self.chat.handle(event.text.strip()[: self.max_chars], thread.conversation_id, None, CHANNEL)
        elif isinstance(event, Attachment):
            self.threads.note(thread.conversation_id, Role.USER, f"[{', '.join(event.kinds)}]")
        elif isinstance(event, Postback) and event.title.strip():
            self.threads.note(thread.conversation_id, Role.USER, event.title.strip())

    def _say(self, thread: Thread, text: str, reason: Reason) -> None:
        """A message of the bot's own outside a turn, recorded with the conversation and sent."""
        self.threads.note(thread.conversation_id, Role.BOT, text, reason)
        self._send(thread, outgoing.text_messages(text))

    def _send(self, thread: Thread, messages: list[dict]) -> bool:
        """Send in order; stop at the first failure (already logged with its Graph error code).
        The conversation was recorded before, so a failed send loses nothing of it."""
        for item in messages:
            try:
                self.graph.send(thread.external_id, item)
            except GraphError:
                log.error("reply to conversation %s not delivered", thread.conversation_id)
                return False
        return True

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
        with contextlib.suppress(GraphError):  # logged; an indicator is not worth more
            self.graph.sender_action(psid, "typing_on")

    def _lang(self, thread: Thread) -> str:
        return thread.lang or self.default_lang

    def _prune(self) -> None:
        """Forget de-duplication keys older than a week, at most once an hour."""
        if time.monotonic() - self._pruned < 3600 and self._pruned:
            return
        self._pruned = time.monotonic()
        self.threads.forget_events(_now() - EVENTS_KEPT)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)

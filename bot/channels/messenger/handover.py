"""Hand-offs on Messenger (Handover Protocol) and people's replies reaching the customer.

At a hand-off the thread is passed to the Page Inbox with the ticket summary; it comes back when
the inbox passes it back (or another app takes it for us), or when staff close the ticket. Agent
replies from the staff console go out through the Send API: within 24 hours of the customer's
last message as a response, after that with the HUMAN_AGENT tag (allowed for 7 days).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from bot.channels.messenger.events import ThreadControl
from bot.channels.messenger.graph import GraphClient, GraphError, bounded_metadata
from bot.channels.messenger.outgoing import text_messages
from bot.channels.messenger.platform import MESSENGER, Platform
from bot.channels.messenger.sender import Sender, Sent
from bot.service.inbox import Inbox
from bot.service.outbound import Delivery
from bot.storage.channel_threads import BOT, INBOX, OTHER, Thread, Threads
from bot.text.redact import redact

log = logging.getLogger("faqbot.messenger")

RESPONSE_WINDOW = dt.timedelta(hours=24)
HUMAN_AGENT_WINDOW = dt.timedelta(days=7)


class Handover:
    """Who holds a Messenger thread, and moving it between the bot and people."""

    def __init__(
        self,
        graph: GraphClient,
        threads: Threads,
        inbox_app_id: str,
        app_id: str | None = None,
        human_agent_tag: bool = True,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        sender: Sender | None = None,
        inbox: Inbox | None = None,
        platform: Platform = MESSENGER,
    ) -> None:
        if not inbox_app_id:
            raise ValueError("the Page Inbox app id must not be empty")
        self.graph = graph
        self.platform = platform
        self.sender = sender or Sender(graph, threads.store, platform=platform)
        self.inbox = inbox or Inbox(threads.store)
        self.threads = threads
        self.inbox_app_id = inbox_app_id
        self.app_id = app_id
        self.human_agent_tag = human_agent_tag
        self.clock = clock

    def pass_to_inbox(self, thread: Thread, ticket_id: str, reason: str, lang: str, question: str) -> bool:
        """Give the thread to the Page Inbox with the ticket summary; False (logged) if Meta refused,
        in which case the bot keeps the thread and staff answer from the console."""
        summary = {
            "ticket_id": ticket_id, "conversation_id": thread.conversation_id, "reason": reason,
            "lang": lang, "question": redact(question),
        }  # fmt: skip
        metadata = bounded_metadata(summary, "question")  # valid JSON within Meta's 1000 characters
        try:
            self.graph.pass_thread_control(thread.external_id, self.inbox_app_id, metadata)
        except GraphError:
            return False  # already logged with its Graph error code
        self.threads.set_owner(thread.conversation_id, INBOX)
        return True

    def on_control(self, event: ThreadControl, thread: Thread) -> None:
        """A thread-control event: the thread came back to us, or someone else took it."""
        if event.kind == "request":
            log.info("thread control requested by app %s; the bot keeps it", event.new_owner)
            return
        if self._ours(event.new_owner, event.kind):
            self.threads.set_owner(thread.conversation_id, BOT)
            ticket = self.threads.open_ticket(thread.conversation_id)
            if ticket is not None:
                note = self.inbox.close(ticket, push=False)
                self.release(thread.conversation_id, note.text)
            return
        owner = INBOX if event.new_owner in (None, self.inbox_app_id) else OTHER
        self.threads.set_owner(thread.conversation_id, owner)
        self.threads.hold(thread.conversation_id, "inbox" if owner == INBOX else "other_app")

    def send(self, conversation_id: str, text: str) -> Delivery | None:
        """An agent's reply (staff console, admin API) to the customer; takes the thread first if
        the inbox holds it, since only the thread's holder may write."""
        thread = self.threads.get(conversation_id)
        if thread is None:
            return None  # not this channel's customer (the web API was told the channel's name)
        window = self._window(thread, human=True)
        if window is None:
            limit = "7 days" if self.human_agent_tag else "24 hours (the HUMAN_AGENT tag is off)"
            return Delivery(
                False, f"the customer last wrote over {limit} ago: {self.platform.name} allows no reply"
            )
        try:
            self._hold(thread)
        except GraphError as exc:
            return Delivery(False, f"{self.platform.name} refused it: {exc}")
        return self._delivered(thread, text, window)

    def release(self, conversation_id: str, notice: str | None) -> Delivery | None:
        """The hand-off is over: take the thread back if someone else holds it, and tell the
        customer `notice` (only within 24 hours: a bot message may not use the agent tag)."""
        thread = self.threads.get(conversation_id)
        if thread is None:
            return None
        try:
            self._hold(thread)
        except GraphError as exc:
            return Delivery(False, f"{self.platform.name} refused it: {exc}")
        if not notice:
            return None
        window = self._window(thread, human=False)
        if window is None:
            return Delivery(False, "outside the 24-hour window: the customer was not told")
        return self._delivered(thread, notice, window)

    def _delivered(self, thread: Thread, text: str, window: tuple[str, str | None]) -> Delivery:
        messages = text_messages(text, limit=self.platform.max_text)
        outcome = self.sender.send(thread.external_id, messages, thread.conversation_id, *window)
        name = self.platform.name
        if outcome.sent == Sent.QUEUED:
            why = f" ({outcome.error})" if outcome.error else ""
            return Delivery(False, f"{name} is not taking messages now{why}: it waits in the outbox "
                            f"and goes out, in order, as soon as {name} takes it")  # fmt: skip
        if outcome.sent == Sent.FAILED:
            return Delivery(False, f"{name} refused it: {outcome.error}")
        return Delivery(True)

    def _hold(self, thread: Thread) -> None:
        if thread.owner != BOT:
            self.graph.take_thread_control(thread.external_id, "faqbot: the hand-off is over")
            self.threads.set_owner(thread.conversation_id, BOT)

    def _ours(self, app_id: str | None, kind: str) -> bool:
        """Is `app_id` this app? Known exactly when FAQBOT_MESSENGER_APP_ID is set; otherwise a pass
        event names us (it goes to the new holder) and anything but the Page Inbox is us."""
        if app_id is None:
            return kind == "pass"
        if self.app_id:
            return app_id == self.app_id
        return app_id != self.inbox_app_id

    def _window(self, thread: Thread, human: bool) -> tuple[str, str | None] | None:
        """(messaging_type, tag) allowed now, or None when Messenger allows no message."""
        if thread.last_customer_at is None:
            return None
        age = self.clock() - thread.last_customer_at
        if age <= RESPONSE_WINDOW:
            return ("RESPONSE", None)
        if human and self.human_agent_tag and age <= HUMAN_AGENT_WINDOW:
            return ("MESSAGE_TAG", "HUMAN_AGENT")
        return None

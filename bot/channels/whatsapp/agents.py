"""People's replies reaching WhatsApp customers (the app's Outbound, under "whatsapp").

WhatsApp allows free text only within the customer-service window: 24 hours from the customer's
last message. After that a business may only send an approved template message, so an agent's
reply goes out as the template FAQBOT_WHATSAPP_AGENT_TEMPLATE names (the reply as its one body
parameter), or, with none configured, not at all: the Delivery tells the agent why. There is no
thread to hand back: the bot answers again as soon as the ticket closes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from bot.channels.whatsapp.outgoing import text_messages
from bot.channels.whatsapp.sender import Sender, Sent
from bot.channels.whatsapp.text import one_line, split_text
from bot.service.outbound import Delivery
from bot.storage.channel_threads import Thread, Threads

SERVICE_WINDOW = dt.timedelta(hours=24)
MAX_PARAMETER = 1024  # characters of a template's body, which the parameter must fit


class AgentReplies:
    """Staff messages (console, admin API) to the customer on WhatsApp."""

    def __init__(
        self,
        threads: Threads,
        sender: Sender,
        template: str | None = None,
        template_lang: str | None = None,
        default_lang: str = "it",
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.threads = threads
        self.sender = sender
        self.template = template
        self.template_lang = template_lang
        self.default_lang = default_lang
        self.clock = clock

    def send(self, conversation_id: str, text: str) -> Delivery | None:
        """An agent's reply: free text within 24 hours of the customer's last message, the
        approved template after that, or nothing (and why)."""
        thread = self.threads.get(conversation_id)
        if thread is None:
            return None  # not a WhatsApp user's conversation (the web API was told "whatsapp")
        if self._open(thread):
            return self._delivered(thread, text_messages(text))
        if self.template is None:
            why = "the customer last wrote over 24 hours ago: WhatsApp allows only an approved template "
            return Delivery(False, why + "message, and FAQBOT_WHATSAPP_AGENT_TEMPLATE is not set")
        sent = self._delivered(thread, self.template_messages(text, thread.lang or self.default_lang))
        if sent.delivered:
            return Delivery(
                True, f"sent as the template {self.template!r}: the customer last wrote over 24 hours ago"
            )
        return sent

    def release(self, conversation_id: str, notice: str | None) -> Delivery | None:
        """The hand-off is over (the bot answers the customer's next message); tell the customer
        `notice`, only within 24 hours (the agents' template is for agents' words)."""
        thread = self.threads.get(conversation_id)
        if thread is None or not notice:
            return None
        if not self._open(thread):
            return Delivery(False, "outside the 24-hour window: the customer was not told")
        return self._delivered(thread, text_messages(notice))

    def template_messages(self, text: str, lang: str) -> list[dict]:
        """`text` as template messages, one per piece of at most 1024 characters (a parameter may
        hold no new line: paragraphs are joined on one line)."""
        language = {"code": self.template_lang or lang}
        return [
            {
                "type": "template",
                "template": {
                    "name": self.template,
                    "language": language,
                    "components": [
                        {"type": "body", "parameters": [{"type": "text", "text": piece}]},
                    ],
                },
            }  # fmt: skip
            for piece in split_text(one_line(text), MAX_PARAMETER)
        ]

    def _open(self, thread: Thread) -> bool:
        """Is the customer-service window open (the customer wrote within 24 hours)?"""
        last = thread.last_customer_at
        return last is not None and self.clock() - last <= SERVICE_WINDOW

    def _delivered(self, thread: Thread, messages: list[dict]) -> Delivery:
        outcome = self.sender.send(thread.external_id, messages, thread.conversation_id)
        if outcome.sent == Sent.QUEUED:
            why = f" ({outcome.error})" if outcome.error else ""
            return Delivery(False, f"WhatsApp is not taking messages now{why}: it waits in the outbox "
                            "and goes out, in order, as soon as WhatsApp takes it")  # fmt: skip
        if outcome.sent == Sent.FAILED:
            return Delivery(False, f"WhatsApp refused it: {outcome.error}")
        return Delivery(True)

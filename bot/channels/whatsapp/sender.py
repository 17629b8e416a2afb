"""Messages to WhatsApp customers through the durable outbox (bot.channels.graph.sender).

Every message carries its outbox token in `biz_opaque_callback_data` ("faqbot:<token>"), which the
Cloud API gives back in the message's status webhooks (sent, delivered, read, failed): a send whose
answer was lost is sent again only if no status came within the grace.
"""

from __future__ import annotations

from typing import Any

from bot.channels.graph.sender import Outcome, Sent
from bot.channels.graph.sender import Sender as GraphSender
from bot.channels.whatsapp.events import CHANNEL, ECHO_PREFIX
from bot.channels.whatsapp.graph import PRODUCT, WhatsAppGraph

__all__ = ["Outcome", "Sender", "Sent"]


class Sender(GraphSender):
    """Cloud API messages, kept in the outbox when the Graph API does not take them now."""

    channel = CHANNEL
    name = "WhatsApp"
    graph: WhatsAppGraph

    def path(self) -> str:
        return self.graph.messages_path

    def request(self, recipient: str, message: dict, token: str, **options: Any) -> dict:
        return {
            **PRODUCT, "recipient_type": "individual", "to": recipient, **message,
            "biz_opaque_callback_data": ECHO_PREFIX + token,
        }  # fmt: skip

    def send(self, recipient: str, messages: list[dict], conversation_id: str | None) -> Outcome:
        """Send `messages` to `recipient` in order, or keep what could not go out yet."""
        return self.send_all(recipient, messages, conversation_id)

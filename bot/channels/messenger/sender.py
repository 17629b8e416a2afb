"""Messages to Messenger customers through the durable outbox (bot.channels.graph.sender).

Every message carries its outbox token in `metadata` ("faqbot:<token>"), which Meta echoes back on
the `message_echoes` webhook field: a send whose answer was lost is sent again only if no echo came.
"""

from __future__ import annotations

from typing import Any

from bot.channels.graph.sender import LEASE_SECONDS, MAX_NAMED_WAIT, MAX_WAIT, Outcome, Sent
from bot.channels.graph.sender import Sender as GraphSender
from bot.channels.messenger.events import ECHO_PREFIX
from bot.channels.messenger.graph import message_body
from bot.channels.messenger.platform import MESSENGER, Platform

__all__ = ["LEASE_SECONDS", "MAX_NAMED_WAIT", "MAX_WAIT", "Outcome", "Sender", "Sent"]


class Sender(GraphSender):
    """Send API messages, kept in the outbox when the Graph API does not take them now (rows of
    the platform's channel: "messenger", or "instagram", whose Send API is the same)."""

    channel = MESSENGER.channel
    name = MESSENGER.name

    def __init__(self, *args: Any, platform: Platform = MESSENGER, **kwargs: Any) -> None:
        self.channel, self.name = platform.channel, platform.name
        super().__init__(*args, **kwargs)

    def path(self) -> str:
        return "me/messages"

    def request(self, recipient: str, message: dict, token: str, **options: Any) -> dict:
        tagged = {**message, "metadata": ECHO_PREFIX + token}
        return message_body(recipient, tagged, options.get("messaging_type", "RESPONSE"), options.get("tag"))

    def send(
        self,
        recipient: str,
        messages: list[dict],
        conversation_id: str | None,
        messaging_type: str = "RESPONSE",
        tag: str | None = None,
    ) -> Outcome:
        """Send `messages` to `recipient` in order, or keep what could not go out yet."""
        return self.send_all(recipient, messages, conversation_id, messaging_type=messaging_type, tag=tag)

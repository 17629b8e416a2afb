"""What staff write, delivered on the customer's channel when that channel pushes messages.

The web widget polls for agent replies, so it needs nothing here; Messenger must be sent to.
Channels register an implementation at start-up; the core and the admin layer look it up by the
conversation's channel and never import a channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Delivery:
    """Whether the customer got it, and if not, why (for staff to read)."""

    delivered: bool
    detail: str = ""


class ChannelOutbound(Protocol):
    def send(self, conversation_id: str, text: str) -> Delivery | None:
        """Deliver a person's message to the customer (None: the conversation is not one of this
        channel's threads, e.g. the web API was told this channel's name)."""
        ...

    def release(self, conversation_id: str, notice: str | None) -> Delivery | None:
        """The hand-off ended: the bot holds the thread again; tell the customer `notice`, if any."""
        ...


class Outbound:
    """The channels that push messages, by name."""

    def __init__(self) -> None:
        self._channels: dict[str, ChannelOutbound] = {}

    def register(self, channel: str, outbound: ChannelOutbound) -> None:
        self._channels[channel] = outbound

    def unregister(self, channel: str) -> None:
        self._channels.pop(channel, None)

    def get(self, channel: str) -> ChannelOutbound | None:
        return self._channels.get(channel)

"""What a running Meta channel does the same way: start its workers and outbox drainer and offer
staff replies a way out, keep deliveries, and stop in order."""

from __future__ import annotations

from typing import Any

from bot.channels.graph.deliveries import Deliveries
from bot.channels.graph.sender import Sender
from bot.service.outbound import ChannelOutbound, Outbound


class RunningChannel:
    """A channel's `deliveries`, `sender`, `graph` and its `outbound` (how agents' replies reach
    its customers), registered under `name` while it runs. Subclasses set them up."""

    name: str
    deliveries: Deliveries
    sender: Sender
    graph: Any
    interval: float

    def outbound_of(self) -> ChannelOutbound:
        raise NotImplementedError

    def start(self, outbound: Outbound) -> RunningChannel:
        self.deliveries.start()
        self.sender.start(self.interval)
        outbound.register(self.name, self.outbound_of())
        return self

    def accept(self, events: list[tuple[Any, dict]]) -> bool:
        """Keep a delivery's events (each with its raw JSON) and queue them for the workers; True
        once they may be acknowledged (see Deliveries.accept)."""
        return self.deliveries.accept(events)

    def stop(self, outbound: Outbound) -> None:
        outbound.unregister(self.name)
        self.deliveries.stop()
        self.sender.stop()
        self.graph.close()

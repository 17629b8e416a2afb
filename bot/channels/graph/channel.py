"""What a running Meta channel does the same way: start its workers and outbox drainer and offer
staff replies a way out, keep deliveries, and stop in order."""

from __future__ import annotations

import logging
from typing import Any

from bot.channels.graph.deliveries import Deliveries
from bot.channels.graph.sender import Sender
from bot.service.outbound import ChannelOutbound, Outbound


class RunningChannel:
    """A channel's `deliveries`, `sender`, `graph` and its `outbound` (how agents' replies reach
    its customers), registered under `name` while it runs. Subclasses set them up."""

    name: str
    config: Any  # the channel's settings: app_secret, …
    deliveries: Deliveries
    sender: Sender
    graph: Any
    interval: float

    @property
    def app_secret(self) -> bytes:
        """The app secret its deliveries are signed with (empty when unset: nothing verifies)."""
        secret = self.config.app_secret
        return secret.get_secret_value().encode() if secret is not None else b""

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


def configured(
    name: str, missing: list[str], required: int, verify_token: object, log: logging.Logger
) -> bool:
    """Whether a channel may start: nothing `missing`. Half a configuration (fewer missing than the
    `required` settings, or a verify token without them) is said in the log; none at all is silence."""
    if not missing:
        return True
    if len(missing) < required or verify_token is not None:
        log.error("%s channel not started: %s missing or empty", name, " and ".join(missing))
    return False

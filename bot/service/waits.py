"""The typical wait for a person, from measured waits: an exponential average of recent times from
hand-off to an agent's first reply, on the customer's channel, at this hour of the day when there
are enough of those, and the configured prior when nothing is measured yet."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass

from bot.dialogue.business_hours import Queue
from bot.storage.store import Store

WINDOW = dt.timedelta(days=28)  # how far back measured waits count
SAME_HOUR = 3  # answered hand-offs at this hour needed before the hour's own figure is used
ALPHA = 0.3  # weight of the newest wait in the average


def moving_average(minutes: list[float], alpha: float = ALPHA) -> float:
    """The exponentially weighted mean of `minutes` (oldest first): each wait weighs (1 - alpha)
    times the one after it, normalised, so a few old waits do not stand in for the recent ones."""
    weights = [(1 - alpha) ** age for age in range(len(minutes) - 1, -1, -1)]
    return sum(w * m for w, m in zip(weights, minutes, strict=True)) / sum(weights)


@dataclass
class Waits:
    """The queue a customer joins: who waits before them, the typical wait, who is online."""

    store: Store
    prior_minutes: int  # per ticket ahead, while no wait is measured (FAQBOT_MINUTES_PER_TICKET)
    zone: dt.tzinfo
    clock: Callable[[], dt.datetime]

    def typical(self, channel: str) -> float | None:
        """Minutes from hand-off to first reply on `channel` lately (None: nothing measured)."""
        now = self.clock()
        answered = self.store.answered_waits(channel, now - WINDOW)
        if not answered:
            return None
        hour = now.astimezone(self.zone).hour
        at_hour = [(a, b) for a, b in answered if a.astimezone(self.zone).hour == hour]
        chosen = at_hour if len(at_hour) >= SAME_HOUR else answered
        return moving_average([max(0.0, (b - a).total_seconds() / 60) for a, b in chosen])

    def queue(self, channel: str, ahead: int) -> Queue:
        """The queue for a customer with `ahead` customers before them. A measured wait already holds
        the queue of its day; customers ahead add to it as many more turns as there are agents
        to share them. Nothing measured: the prior pace per customer."""
        online = len(self.store.online_staff())
        typical = self.typical(channel)
        if typical is None:
            minutes = (ahead + 1) * self.prior_minutes
        else:
            minutes = typical * (1 + ahead / max(1, online))
        return Queue(ahead, max(1, math.ceil(minutes)), online)

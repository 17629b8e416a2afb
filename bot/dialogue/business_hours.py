"""What the customer is told at a hand-off: who answers, where, and when (business hours aware)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.dialogue.messages import message

_DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_WEEKDAYS = {
    "it": ["lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
_RULE = re.compile(
    r"^(mon|tue|wed|thu|fri|sat|sun)(?:-(mon|tue|wed|thu|fri|sat|sun))?\s+(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$"
)


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours per weekday (0 = Monday) in one time zone, from rules like "mon-fri 09:00-18:00"."""

    zone: ZoneInfo
    hours: dict[int, tuple[dt.time, dt.time]]

    @classmethod
    def parse(cls, rules: list[str], zone: str) -> BusinessHours:
        hours: dict[int, tuple[dt.time, dt.time]] = {}
        for rule in rules:
            match = _RULE.match(rule.strip().lower())
            if match is None:
                raise ValueError(f"business hours {rule!r}: expected e.g. 'mon-fri 09:00-18:00'")
            first, last = _DAYS.index(match[1]), _DAYS.index(match[2] or match[1])
            opens = dt.time(int(match[3]), int(match[4]))
            midnight = (match[5], match[6]) == ("24", "00")
            closes = dt.time.max if midnight else dt.time(int(match[5]), int(match[6]))
            if closes <= opens:
                raise ValueError(f"business hours {rule!r}: closing must follow opening")
            for day in range(first, last + 1):
                hours[day] = (opens, closes)
        return cls(ZoneInfo(zone), hours)

    @classmethod
    def always(cls) -> BusinessHours:
        """A service staffed around the clock."""
        return cls(ZoneInfo("UTC"), {day: (dt.time.min, dt.time.max) for day in range(7)})

    def is_open(self, when: dt.datetime) -> bool:
        local = when.astimezone(self.zone)
        span = self.hours.get(local.weekday())
        return span is not None and span[0] <= local.time() <= span[1]

    def next_opening(self, when: dt.datetime) -> dt.datetime | None:
        """The next moment the service opens after `when` (local time), None if it never does."""
        local = when.astimezone(self.zone)
        for ahead in range(8):
            day = (local + dt.timedelta(days=ahead)).date()
            span = self.hours.get(day.weekday())
            if span is None:
                continue
            opening = dt.datetime.combine(day, span[0], tzinfo=self.zone)
            if opening > local:
                return opening
        return None


@dataclass(frozen=True)
class Expectation:
    open_now: bool
    eta_minutes: int
    text: str
    position: int = 1  # the customer's place among those waiting for a first reply


@dataclass(frozen=True)
class Queue:
    """What is known of the wait when a customer is handed off: how many wait before them, the
    typical wait (minutes, measured or the configured prior) and how many agents are online (None:
    unknown, e.g. while the database is out of reach)."""

    ahead: int
    typical_minutes: int
    online: int | None = None


def expectation(
    hours: BusinessHours, now: dt.datetime, lang: str, channel: str, queue: Queue, email: str | None = None
) -> Expectation:
    """The honest wait: within hours, the typical wait, the place in the queue and whether anyone is
    online; outside them, the next opening and the channel (on the web: the e-mail address the
    customer gave, or a request for one)."""
    position = queue.ahead + 1
    if hours.is_open(now):
        eta = queue.typical_minutes
        parts = [message("handoff_open_one" if eta == 1 else "handoff_open", lang).format(minutes=eta)]
        if queue.ahead:
            key = "handoff_queue_one" if queue.ahead == 1 else "handoff_queue"
            parts.append(message(key, lang).format(ahead=queue.ahead))
        if queue.online == 0:
            key = "handoff_nobody_online_email" if channel == "web" and not email else "handoff_nobody_online"
            parts.append(message(key, lang))
        return Expectation(True, eta, " ".join(parts), position)
    opening = hours.next_opening(now)
    eta = int((opening - now).total_seconds() // 60) + queue.typical_minutes if opening else 24 * 60
    when = _when(opening, lang) if opening else message("handoff_soon", lang)
    if channel != "web":
        return Expectation(False, eta, message("handoff_closed_here", lang).format(when=when), position)
    key = "handoff_closed_email_known" if email else "handoff_closed_email"
    return Expectation(False, eta, message(key, lang).format(when=when, email=email), position)


def _when(moment: dt.datetime, lang: str) -> str:
    day = _WEEKDAYS.get(lang, _WEEKDAYS["en"])[moment.weekday()]
    joiner = "alle" if lang == "it" else "at"
    return f"{day} {moment:%d/%m} {joiner} {moment:%H:%M}"

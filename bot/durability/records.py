"""A customer turn as it is spooled while the database is out of reach, and read back for replay.

Every id in it (conversation, both messages, ticket) was chosen when the turn was answered and
shown to the customer, so the replayed rows carry the ids the customer already has."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, fields

VERSION = 1


@dataclass(frozen=True)
class SpooledTicket:
    id: str
    reason: str
    contact: str | None = None


@dataclass(frozen=True)
class SpooledMissed:
    text: str  # already redacted
    lang: str | None
    channel: str
    reason: str
    confidence: float | None
    candidates: list[dict]


@dataclass(frozen=True)
class TurnRecord:
    """The customer's message, the bot's reply and what they change, as one turn writes them."""

    conversation_id: str
    channel: str
    at: dt.datetime  # when it was answered (UTC); the messages get this time
    user_id: str
    text: str
    bot_id: str
    decision: str
    reason: str
    reply_text: str
    lang: str
    article_id: str | None
    confidence: float
    latency_ms: float
    state: dict  # the conversation's state after the turn (ConversationState as JSON)
    ticket: SpooledTicket | None = None  # the turn handed off (or reached a person who holds it)
    missed: SpooledMissed | None = None

    def to_json(self) -> dict:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return {"kind": "turn", "v": VERSION, **data}

    @classmethod
    def from_json(cls, data: dict) -> TurnRecord:
        """The record back; ValueError naming the problem if it is not a turn this version wrote."""
        if data.get("kind") != "turn" or data.get("v") != VERSION:
            raise ValueError(f"not a version {VERSION} turn: kind={data.get('kind')!r} v={data.get('v')!r}")
        try:
            values = {f.name: data[f.name] for f in fields(cls) if f.name in data}
            values["at"] = dt.datetime.fromisoformat(data["at"])
            if values["at"].tzinfo is None:
                raise ValueError("at: a time without a time zone")
            if data.get("ticket") is not None:
                values["ticket"] = SpooledTicket(**data["ticket"])
            if data.get("missed") is not None:
                values["missed"] = SpooledMissed(**data["missed"])
            record = cls(**values)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"malformed turn record: {exc!r}") from exc
        if not all(isinstance(v, str) and v for v in (record.conversation_id, record.user_id, record.bot_id)):
            raise ValueError("malformed turn record: ids must be non-empty strings")
        return record

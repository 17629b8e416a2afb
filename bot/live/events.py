"""One live event: what happened, in which conversation, as JSON small enough for a NOTIFY."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

MAX_TEXT = 1000  # characters of a message's text an event carries (NOTIFY payloads stop at 8000 bytes)


class Kind(StrEnum):
    MESSAGE = "message"  # someone wrote in a handed-off conversation (customer, agent, note, notice)
    TICKET = "ticket"  # a hand-off opened, was claimed, read or closed
    TYPING = "typing"  # the customer or an agent is typing
    RESYNC = "resync"  # events may have been missed: read the store again


@dataclass(frozen=True)
class Event:
    kind: Kind
    conversation_id: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        data = dict(self.data)
        if isinstance(data.get("text"), str):
            data["text"] = data["text"][:MAX_TEXT]
        return json.dumps({"kind": self.kind, "conversation_id": self.conversation_id, "data": data})

    @classmethod
    def from_json(cls, raw: str) -> Event:
        """The event a `to_json` wrote; ValueError for anything else."""
        try:
            body = json.loads(raw)
            return cls(Kind(body["kind"]), str(body["conversation_id"]), dict(body.get("data") or {}))
        except (TypeError, KeyError, ValueError) as exc:  # JSONDecodeError and an unknown kind too
            raise ValueError(f"not a live event: {raw[:80]!r}") from exc

"""A WhatsApp webhook delivery (`entry[].changes[].value`: `messages`, `statuses`, `errors`) read
into typed events.

Only changes for our business number (`metadata.phone_number_id`) are read: a business account
may hold other numbers, which are not ours to answer. Every event carries the key it is
de-duplicated by (the message's `wamid`): a redelivery has the same one. Account-level `errors`
are logged with their code and dropped here.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from bot.channels.graph.deliveries import Codec
from bot.durability.inbox import VERSION, event_record
from bot.storage.fields import storable_text

log = logging.getLogger("faqbot.whatsapp")
CHANNEL = "whatsapp"
ECHO_PREFIX = "faqbot:"  # our messages' biz_opaque_callback_data: "faqbot:<outbox token>"
MEDIA = frozenset({"image", "audio", "video", "document", "sticker", "location", "contacts"})


@dataclass(frozen=True)
class Event:
    user: str  # the customer's WhatsApp id (wa_id, their number)
    key: str  # de-duplication key: the message id (wamid), or the status and its message id
    at: dt.datetime | None  # when the customer acted (the message's timestamp)


@dataclass(frozen=True)
class Text(Event):
    text: str


@dataclass(frozen=True)
class Choice(Event):
    """A reply button or list row tapped (or a template's quick-reply button)."""

    id: str  # what we put in the button's or row's id
    title: str  # what the customer saw and tapped


@dataclass(frozen=True)
class Reaction(Event):
    message_id: str  # the wamid reacted to
    emoji: str  # empty: a reaction taken back


@dataclass(frozen=True)
class Media(Event):
    kinds: tuple[str, ...]  # image, audio, video, document, sticker, location, contacts, unsupported…


@dataclass(frozen=True)
class Status(Event):
    """What became of one of our messages: sent, delivered, read or failed. `user` is the customer
    it went to; `token` the outbox token it carried (None: not one of the outbox's)."""

    message_id: str
    status: str
    token: str | None
    errors: tuple[tuple[int | None, str], ...] = ()  # (code, title) of a failed message


def parse(body: dict, phone_number_id: str | None = None) -> list[Event]:
    """Every event of a (verified) delivery we may act on, in delivery order."""
    return [event for event, _raw in read(body, phone_number_id)]


def read(body: dict, phone_number_id: str | None = None) -> list[tuple[Event, dict]]:
    """Every event we may act on, each with the raw JSON it was read from (what the inbox keeps);
    with `phone_number_id`, only those for that business number."""
    if not isinstance(body, dict) or body.get("object") != "whatsapp_business_account":
        return []
    events: list[tuple[Event, dict]] = []
    for entry in body.get("entry") or []:
        for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict) or change.get("field", "messages") != "messages":
                continue
            number = str((value.get("metadata") or {}).get("phone_number_id") or "")
            if phone_number_id and number and number != phone_number_id:
                log.info("WhatsApp change for phone number id %s ignored: not ours", number)
                continue
            for error in value.get("errors") or []:
                _log_error("WhatsApp reported an error", error)
            for raw in value.get("messages") or []:
                event = _message(raw) if isinstance(raw, dict) else None
                if event is not None:
                    events.append((event, {"message": raw}))
            for raw in value.get("statuses") or []:
                event = _status(raw) if isinstance(raw, dict) else None
                if event is not None:
                    events.append((event, {"status": raw}))
    return events


def to_record(event: Event, raw: dict) -> dict:
    """The inbox record of an event: its raw JSON, read again by `from_record`."""
    return event_record(CHANNEL, event.key, event.user, event=raw)


def from_record(record: dict) -> Event:
    """The event an inbox record holds; ValueError if it is not a WhatsApp event this version kept."""
    if record.get("kind") != "event" or record.get("v") != VERSION or record.get("channel") != CHANNEL:
        raise ValueError(
            f"not a version {VERSION} WhatsApp event: {record.get('kind')!r} {record.get('v')!r}"
        )
    raw = record.get("event") if isinstance(record.get("event"), dict) else {}
    event = None
    if isinstance(raw.get("message"), dict):
        event = _message(raw["message"])
    elif isinstance(raw.get("status"), dict):
        event = _status(raw["status"])
    if event is None:
        raise ValueError("the record holds no event to act on")
    return event


CODEC = Codec(CHANNEL, lambda e: e.user, lambda e: e.key, to_record, from_record)


def _at(stamp) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(stamp), dt.UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _message(raw: dict) -> Event | None:
    user, key, kind = str(raw.get("from") or ""), str(raw.get("id") or ""), str(raw.get("type") or "")
    if not user or not key:
        log.warning("WhatsApp message without a sender or an id ignored: %s", sorted(raw))
        return None
    at = _at(raw.get("timestamp"))
    for error in raw.get("errors") or []:  # e.g. type "unsupported": what WhatsApp could not pass on
        _log_error(f"WhatsApp message {key} came with an error", error)
    body = raw.get(kind) if isinstance(raw.get(kind), dict) else {}
    if kind == "text":
        text = storable_text(str(body.get("body") or ""))
        return Text(user, key, at, text) if text.strip() else None
    if kind == "interactive":
        reply = body.get(str(body.get("type") or "")) if isinstance(body, dict) else None
        if isinstance(reply, dict) and body.get("type") in ("button_reply", "list_reply"):
            return Choice(
                user, key, at, str(reply.get("id") or ""), storable_text(str(reply.get("title") or ""))
            )
        return Media(user, key, at, (str(body.get("type") or "interactive"),))
    if kind == "button":  # a quick-reply button of a template message
        return Choice(
            user, key, at, str(body.get("payload") or ""), storable_text(str(body.get("text") or ""))
        )
    if kind == "reaction":
        return Reaction(user, key, at, str(body.get("message_id") or ""), str(body.get("emoji") or ""))
    if kind == "system":  # e.g. the customer changed number: nothing to answer
        return None
    return Media(user, key, at, (kind if kind in MEDIA else "unsupported",))


def _status(raw: dict) -> Status | None:
    message_id, status = str(raw.get("id") or ""), str(raw.get("status") or "")
    if not message_id or not status:
        return None
    opaque = raw.get("biz_opaque_callback_data")
    token = (
        opaque.removeprefix(ECHO_PREFIX)
        if isinstance(opaque, str) and opaque.startswith(ECHO_PREFIX)
        else None
    )
    errors = tuple(
        (
            e.get("code") if isinstance(e.get("code"), int) else None,
            str(e.get("title") or e.get("message") or ""),
        )
        for e in raw.get("errors") or []
        if isinstance(e, dict)
    )
    user = str(raw.get("recipient_id") or "")
    return Status(
        user, f"status:{status}:{message_id}", _at(raw.get("timestamp")), message_id, status, token, errors
    )


def _log_error(what: str, error) -> None:
    if not isinstance(error, dict):
        return
    details = (
        (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else ""
    )
    log.warning("%s: code %s, %s%s", what, error.get("code"), error.get("title") or error.get("message"),
                f" ({details})" if details else "")  # fmt: skip

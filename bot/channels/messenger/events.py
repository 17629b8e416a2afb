"""A webhook delivery (`entry[].messaging[]`, `entry[].standby[]`) read into typed events.

Echoes are kept only when they carry our outbox's metadata (they prove a send went through);
other echoes, delivery and read receipts and anything else we do not act on are dropped here.
Every event carries the key it is de-duplicated by: a redelivery has the same one.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from bot.channels.graph.deliveries import Codec
from bot.channels.messenger.platform import MESSENGER, Platform
from bot.durability.inbox import VERSION, event_record
from bot.storage.fields import storable_text

log = logging.getLogger("faqbot.messenger")
CHANNEL = MESSENGER.channel
ECHO_PREFIX = "faqbot:"  # the metadata of our own messages: "faqbot:<outbox token>"
# The thumbs-up button of Messenger's composer arrives as one of these stickers (small, medium,
# large by how long it was held): it is read as the text "👍".
LIKE_STICKERS = frozenset({"369239263222822", "369239343222814", "369239383222810"})
# Instagram's heart (a double tap, or the composer's heart) arrives as an attachment of this type.
LIKE_ATTACHMENTS = frozenset({"like_heart"})


@dataclass(frozen=True)
class Event:
    psid: str  # the customer's page-scoped id
    key: str  # de-duplication key: the message id, or what identifies an event without one
    at: dt.datetime | None  # when the customer acted (the event's timestamp)
    standby: bool  # another app holds the thread: we may read, not answer


@dataclass(frozen=True)
class Text(Event):
    text: str
    quick_reply: str | None = None  # the payload of the quick reply tapped, if it was one


@dataclass(frozen=True)
class Attachment(Event):
    kinds: tuple[str, ...]  # image, audio, video, file, location, fallback…


@dataclass(frozen=True)
class Postback(Event):
    payload: str
    title: str
    ref: str | None = None  # the m.me link's or ad's `ref`, when the button was Get Started


@dataclass(frozen=True)
class Referral(Event):
    """A customer already in the thread came through an m.me link, an ad or a QR code."""

    ref: str
    source: str


@dataclass(frozen=True)
class Echo(Event):
    """Our own message, echoed back by Meta: `token` is the outbox token it carried. `psid` is the
    customer it went to (an echo's sender is the Page)."""

    token: str


@dataclass(frozen=True)
class ThreadControl(Event):
    kind: str  # pass | take | request
    new_owner: str | None
    previous_owner: str | None
    metadata: str


def parse(body: dict, platform: Platform = MESSENGER) -> list[Event]:
    """Every event of a (verified) delivery we may act on, in delivery order."""
    return [event for event, _raw in read(body, platform)]


def read(body: dict, platform: Platform = MESSENGER) -> list[tuple[Event, dict]]:
    """Every event we may act on, each with the raw JSON it was read from (what the inbox keeps);
    nothing of a delivery for another platform's `object`."""
    if not isinstance(body, dict) or body.get("object") != platform.webhook_object:
        return []
    events: list[tuple[Event, dict]] = []
    for entry in body.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        for field, standby in (("messaging", False), ("standby", True)):
            for raw in entry.get(field) or []:
                event = _event(raw, standby) if isinstance(raw, dict) else None
                if event is not None:
                    events.append((event, raw))
    return events


def to_record(event: Event, raw: dict, platform: Platform = MESSENGER) -> dict:
    """The inbox record of an event: its raw JSON, read again by `from_record`."""
    return event_record(platform.channel, event.key, event.psid, standby=event.standby, event=raw)


def from_record(record: dict, platform: Platform = MESSENGER) -> Event:
    """The event an inbox record holds; ValueError if it is not an event of `platform` this version kept."""
    kept = record.get("kind") == "event" and record.get("v") == VERSION
    if not kept or record.get("channel") != platform.channel:
        raise ValueError(
            f"not a version {VERSION} {platform.name} event: {record.get('kind')!r} {record.get('v')!r}"
        )
    raw = record.get("event")
    event = _event(raw, bool(record.get("standby"))) if isinstance(raw, dict) else None
    if event is None:
        raise ValueError("the record holds no event to act on")
    return event


def _event(raw: dict, standby: bool) -> Event | None:
    psid = str((raw.get("sender") or {}).get("id") or "")
    stamp = raw.get("timestamp")
    at = dt.datetime.fromtimestamp(stamp / 1000, dt.UTC) if isinstance(stamp, int | float) else None
    echo = _echo(raw, at, standby)
    if echo is not None:
        return echo
    if not psid:
        log.warning("Messenger event without a sender ignored: %s", sorted(raw))
        return None
    if isinstance(raw.get("message"), dict):
        return _message(raw["message"], psid, at, standby)
    if isinstance(raw.get("postback"), dict):
        postback = raw["postback"]
        key = postback.get("mid") or f"postback:{psid}:{stamp}:{postback.get('payload')}"
        referral = postback.get("referral")
        ref = _ref(referral)
        payload, title = str(postback.get("payload") or ""), str(postback.get("title") or "")
        return Postback(psid, key, at, standby, payload, title, ref)
    if isinstance(raw.get("referral"), dict) and _ref(raw["referral"]):
        referral = raw["referral"]
        key = f"referral:{psid}:{stamp}:{_ref(referral)}"
        return Referral(psid, key, at, standby, str(_ref(referral)), str(referral.get("source") or ""))
    for kind in ("pass", "take", "request"):
        control = raw.get(f"{kind}_thread_control")
        if isinstance(control, dict):
            new_owner = _app(control.get("new_owner_app_id") or control.get("requested_owner_app_id"))
            key = f"{kind}_thread_control:{psid}:{stamp}:{new_owner}"
            previous = _app(control.get("previous_owner_app_id"))
            return ThreadControl(
                psid, key, at, standby, kind, new_owner, previous, str(control.get("metadata") or "")
            )
    return None  # delivery, read, reaction, optin…: nothing to answer


def _echo(raw: dict, at: dt.datetime | None, standby: bool) -> Echo | None:
    """Our outbox's echo, if `raw` is one: an echo whose metadata names an outbox token."""
    message = raw.get("message")
    if not isinstance(message, dict) or not message.get("is_echo"):
        return None
    metadata = message.get("metadata")
    customer = str((raw.get("recipient") or {}).get("id") or "")
    if not isinstance(metadata, str) or not metadata.startswith(ECHO_PREFIX) or not customer:
        return None
    key = f"echo:{message.get('mid') or metadata}"
    return Echo(customer, key, at, standby, metadata.removeprefix(ECHO_PREFIX))


def _ref(referral) -> str | None:
    if not isinstance(referral, dict):
        return None
    ref = referral.get("ref")
    return str(ref).strip()[:250] or None if ref not in (None, "") else None


def _message(message: dict, psid: str, at: dt.datetime | None, standby: bool) -> Event | None:
    if message.get("is_echo") or not message.get("mid"):
        return None  # our own message (or a person's, from the Page Inbox) coming back
    if message.get("is_deleted"):
        return None  # Instagram: the customer unsent a message
    key = str(message["mid"])
    text = message.get("text")
    if isinstance(text, str):
        text = storable_text(text)
    if isinstance(text, str) and text.strip():
        quick = message.get("quick_reply")
        payload = quick.get("payload") if isinstance(quick, dict) else None
        return Text(psid, key, at, standby, text, str(payload) if payload else None)
    if str(message.get("sticker_id")) in LIKE_STICKERS:
        return Text(psid, key, at, standby, "👍")
    kinds = tuple(
        str(a.get("type") or "file") for a in message.get("attachments") or [] if isinstance(a, dict)
    )
    if kinds and set(kinds) <= LIKE_ATTACHMENTS:
        return Text(psid, key, at, standby, "👍")
    if message.get("sticker_id") and not kinds:
        kinds = ("sticker",)
    return Attachment(psid, key, at, standby, kinds or ("unknown",))


def _app(value) -> str | None:
    return str(value) if value not in (None, "") else None


def codec(platform: Platform) -> Codec:
    """How the shared deliveries (bot.channels.graph.deliveries) name and keep `platform`'s events."""
    return Codec(
        platform.channel,
        lambda e: e.psid,
        lambda e: e.key,
        lambda event, raw: to_record(event, raw, platform),
        lambda record: from_record(record, platform),
    )


CODEC = codec(MESSENGER)

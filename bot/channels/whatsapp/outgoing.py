"""A bot turn as WhatsApp messages: text in WhatsApp's formatting, split to fit, and what the
customer may pick as interactive reply buttons (at most 3) or, with more choices, a list (at most 10
rows). The message objects here are the request's `type` and content; the sender adds
`messaging_product`, `recipient_type` and `to`."""

from __future__ import annotations

from dataclasses import dataclass

from bot.channels.messenger import payloads
from bot.channels.whatsapp.text import split_text, whatsapp_text
from bot.dialogue.bot import Reply
from bot.dialogue.messages import message
from bot.dialogue.vocabulary import DecisionKind, Reason
from bot.service.chat import Turn

MAX_BODY = 1024  # characters of an interactive message's body
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_BUTTON_ID = 256
MAX_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_ROW_ID = 200
MAX_LIST_BUTTON = 20  # the label of the button that opens a list
# WhatsApp's own words (no other channel shows a list): the button that opens the list.
LIST_BUTTON = {"it": "Vedi le opzioni", "en": "See the options"}


@dataclass(frozen=True)
class Option:
    """One choice offered: what it carries back to us (a payload) and what the customer sees."""

    id: str
    title: str


def shortened(text: str, limit: int) -> str:
    """`text` on one line in at most `limit` characters, shortened with "…"."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def text_messages(text: str) -> list[dict]:
    """Text messages for `text`, split to fit 4096 characters."""
    return [{"type": "text", "text": {"body": piece, "preview_url": False}} for piece in split_text(text)]


def choices(body: str, options: list[Option], lang: str) -> dict:
    """An interactive message offering `options`: reply buttons for up to 3, else a list of up to 10
    rows (a row's full title, if cut, goes in its description)."""
    body = shortened(body, MAX_BODY) if len(body) > MAX_BODY else body
    if len(options) <= MAX_BUTTONS:
        buttons = [
            {
                "type": "reply",
                "reply": {"id": o.id[:MAX_BUTTON_ID], "title": shortened(o.title, MAX_BUTTON_TITLE)},
            }
            for o in options
        ]
        return {
            "type": "interactive",
            "interactive": {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}},
        }
    rows = []
    for option in options[:MAX_ROWS]:
        row = {"id": option.id[:MAX_ROW_ID], "title": shortened(option.title, MAX_ROW_TITLE)}
        if row["title"] != " ".join(option.title.split()):
            row["description"] = shortened(option.title, MAX_ROW_DESCRIPTION)
        rows.append(row)
    label = shortened(LIST_BUTTON.get(lang, LIST_BUTTON["en"]), MAX_LIST_BUTTON)
    action = {"button": label, "sections": [{"rows": rows}]}
    return {"type": "interactive", "interactive": {"type": "list", "body": {"text": body}, "action": action}}


def with_choices(text: str, options: list[Option], lang: str, prompt: str) -> list[dict]:
    """`text` with `options` under it: the last piece of text is the interactive message's body if
    it fits one (1024 characters), else `prompt` is."""
    pieces = split_text(text)
    if not options:
        return text_messages(text)
    if pieces and len(pieces[-1]) <= MAX_BODY:
        return [
            *(m for piece in pieces[:-1] for m in text_messages(piece)),
            choices(pieces[-1], options, lang),
        ]
    return [*text_messages(text), choices(prompt, options, lang)]


def reply_options(reply: Reply, message_id: str) -> list[Option]:
    """What the customer may pick after this reply: the suggestions (numbered, as the text lists
    them) or follow-ups, 👍/👎 on an answer, and a person when offered; at most 10."""
    extras = []
    if reply.decision == DecisionKind.ANSWER:
        extras += [
            Option(payloads.feedback(True, message_id), "👍"),
            Option(payloads.feedback(False, message_id), "👎"),
        ]
    if reply.offer_person:
        extras.append(Option(payloads.PERSON, message("quick_person", reply.lang)))
    if reply.suggestions:
        picks = [
            Option(payloads.article(s.article_id), f"{i}. {s.title}")
            for i, s in enumerate(reply.suggestions, start=1)
        ]
    else:
        picks = [Option(payloads.article(s.article_id), s.title) for s in reply.follow_ups]
    return picks[: MAX_ROWS - len(extras)] + extras


def turn_messages(turn: Turn) -> list[dict]:
    """What the customer sees for one turn; nothing while a person holds the conversation."""
    reply = turn.reply
    if reply.reason == Reason.AGENT_HOLDS:
        return []
    if turn.handoff is not None:
        return text_messages(turn.handoff.message)
    text = whatsapp_text(reply.text) if reply.decision == DecisionKind.ANSWER else reply.text
    return with_choices(
        text, reply_options(reply, turn.message_id), reply.lang, message("helpful", reply.lang)
    )

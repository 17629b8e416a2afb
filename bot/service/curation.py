"""Staff actions on the missed-query log and on hand-offs, shared by the admin API and the console."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.dialogue.messages import message
from bot.kb.writer import add_question, new_draft
from bot.service.outbound import Delivery, Outbound
from bot.storage.store import Conversation, Message, MissedQuery, Store

log = logging.getLogger("faqbot.curation")

ACTIONS = ("add_question", "new_article", "dismiss")


class NotOpen(ValueError):
    """The missed question was already resolved or dismissed (e.g. a form submitted twice)."""


@dataclass(frozen=True)
class Resolution:
    """What staff decided for one missed question."""

    action: str
    article_id: str | None = None
    question: str | None = None  # defaults to the (redacted) missed text
    lang: str | None = None
    title: str | None = None
    body: str = ""


def resolve_missed(store: Store, kb_root: Path, missed_id: int, what: Resolution, who: str) -> MissedQuery:
    """Apply `what` to a missed question and record it (who, when).

    Raises LookupError (unknown question or article), ValueError (missing or bad fields, or the
    question is no longer open), FileExistsError (the new article exists) or InvalidKnowledgeBase
    (the edit would break the KB; the file is left as it was)."""
    if what.action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
    missed = store.get_missed(missed_id)
    if missed is None:
        raise LookupError(f"no missed query {missed_id}")
    if missed.status != "open":
        raise NotOpen(f"missed query {missed_id} is already {missed.status}")
    question = what.question or missed.text
    path = None
    if what.action == "add_question":
        if not what.article_id:
            raise ValueError("article_id: required for add_question")
        try:
            path = add_question(kb_root, what.article_id, question)
        except KeyError as exc:
            raise LookupError(exc.args[0]) from exc
    elif what.action == "new_article":
        if not (what.article_id and what.title):
            raise ValueError("article_id and title: required for new_article")
        lang = what.lang or missed.lang or "it"
        path = new_draft(kb_root, what.article_id, lang, what.title, [question], what.body)
    status = "dismissed" if what.action == "dismiss" else "resolved"
    resolution = {
        "action": what.action,
        "article_id": what.article_id if what.action != "dismiss" else None,
        "question": question,
        "file": str(path) if path else None,
    }
    return store.resolve_missed(missed_id, status, resolution, who)


def return_to_bot(store: Store, ticket_id: str, outbound: Outbound | None = None) -> Message:
    """Close a hand-off, telling the customer in their language that the bot answers again.

    On a channel that pushes messages (Messenger) the bot also takes the thread back."""
    conversation = _conversation_of(store, ticket_id)
    lang = conversation.lang if conversation else None
    note = store.agent_message(ticket_id, message("back_to_bot", lang or "it"), close=True)
    channel = outbound.get(conversation.channel) if outbound and conversation else None
    if channel is not None:
        _deliver(lambda: channel.release(note.conversation_id, note.text))
    return note


def agent_reply(
    store: Store, ticket_id: str, text: str, close: bool, outbound: Outbound | None = None
) -> tuple[Message, Delivery | None]:
    """An agent's reply in a handed-off conversation; `close` hands it back to the bot.

    It is recorded first, so a failed delivery never loses it; then, on a channel that pushes
    messages, it is sent: the Delivery says whether the customer got it (None: the channel
    fetches replies itself, like the web widget)."""
    conversation = _conversation_of(store, ticket_id)
    recorded = store.agent_message(ticket_id, text, close)
    channel = outbound.get(conversation.channel) if outbound and conversation else None
    if channel is None:
        return recorded, None
    delivery = _deliver(lambda: channel.send(recorded.conversation_id, text))
    if close:
        _deliver(lambda: channel.release(recorded.conversation_id, None))
    return recorded, delivery


def _conversation_of(store: Store, ticket_id: str) -> Conversation | None:
    return next((c for t, c in store.open_tickets() if t.id == ticket_id), None)


def _deliver(action: Callable[[], Delivery | None]) -> Delivery | None:
    """Run a channel delivery; a failure is reported to staff, never raised over a recorded message."""
    try:
        return action()
    except Exception as exc:  # noqa: BLE001 - the message is stored; staff must learn it did not go out
        log.exception("delivery failed")
        return Delivery(False, f"{type(exc).__name__}: {exc}")

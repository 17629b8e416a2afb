"""Data-subject requests (GDPR articles 15 and 17): export, or erase, all a customer left with us.

A customer is found by conversation id (the web widget keeps it in the browser) or by Messenger
page-scoped id. What the store holds about a conversation: the conversation itself (channel,
language, state), every message (the customer's, the bot's, agents'), feedback with comments,
hand-off tickets (with the contact address left for them) and missed questions (redacted text).
Erasure deletes all of it in one transaction. Index files never hold customer text; log lines
hold it only redacted and only as long as the operator keeps logs.

Turns and Messenger events taken while the database was out of reach wait in this machine's spool
directories until they are replayed: an access request lists them, and an erasure removes them
there too, so that no replay recreates what was erased (see bot.durability.erasure).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from bot.durability.erasure import Subject, Tombstones, purge, spooled
from bot.storage.schema import Conversation, Feedback, Message, MissedQuery, OutboxMessage, Ticket
from bot.storage.store import Store

MESSENGER = "messenger"  # the Messenger channel's name in conversations.channel
# Deleted children first: messages are referenced by feedback, conversations by everything.
_CHILDREN = (MissedQuery, Feedback, Ticket, Message, OutboxMessage)


class MessengerLookupUnavailable(LookupError):
    """The store cannot find conversations by Messenger user (the Messenger channel adds that)."""


def messenger_conversations(store: Store, psid: str) -> list[str]:
    """The ids of a Messenger user's conversations, by page-scoped id (PSID).

    A store method `messenger_conversations(psid)` answers if there is one; otherwise the
    conversations the Messenger channel keeps per user (channel "messenger", `external_id` = PSID).
    A schema with neither cannot answer."""
    lookup = getattr(store, "messenger_conversations", None)
    if lookup is not None:
        return list(lookup(psid))
    return channel_conversations(store, MESSENGER, psid)


def channel_conversations(store: Store, channel: str, user: str) -> list[str]:
    """The ids of a channel user's conversations (WhatsApp: the wa_id; Messenger: the PSID), as the
    channels keep them (`conversations.channel`, `external_id`)."""
    external_id = getattr(Conversation, "external_id", None)
    if external_id is None:
        raise MessengerLookupUnavailable(
            "this store does not record Messenger users (no conversations.external_id); "
            "find the conversation ids another way and use --conversation"
        )
    with store.session() as session:
        query = select(Conversation.id).where(Conversation.channel == channel, external_id == user)
        return list(session.scalars(query))


def export(store: Store, conversation_ids: Iterable[str]) -> dict[str, Any]:
    """Everything stored about these conversations, as JSON-ready data (unknown ids are skipped)."""
    ids = sorted(set(conversation_ids))
    with store.session() as session:
        conversations = session.scalars(
            select(Conversation).where(Conversation.id.in_(ids)).order_by(Conversation.created_at)
        ).all()
        return {"conversations": [_conversation(session, c) for c in conversations]}


def erase(store: Store, conversation_ids: Iterable[str]) -> dict[str, int]:
    """Delete these conversations and everything attached to them; how many rows of each went."""
    ids = sorted(set(conversation_ids))
    counts: dict[str, int] = {}
    with store.session() as session:
        for model in _CHILDREN:
            result = session.execute(delete(model).where(model.conversation_id.in_(ids)))
            counts[model.__tablename__] = result.rowcount or 0
        result = session.execute(delete(Conversation).where(Conversation.id.in_(ids)))
        counts["conversations"] = result.rowcount or 0
    store.checkpoint()  # not left behind in SQLite's write-ahead log until the server stops
    return counts


def export_spooled(
    spools: Iterable[Path], conversation_ids: Iterable[str], users: Iterable[str]
) -> list[dict]:
    """The records of these conversations / channel users still waiting in these spool directories."""
    return spooled(spools, Subject(frozenset(conversation_ids), frozenset(users)))


def erase_everywhere(
    store: Store, spools: Iterable[Path], conversation_ids: Iterable[str], users: Iterable[str] = ()
) -> dict[str, int]:
    """`erase`, plus the records waiting in this machine's spool directories. The spools get their
    tombstone first, so no replay recreates a conversation after it is deleted; the store is erased
    once more at the end, for a replay that had read its records just before the tombstone.

    Counts: rows per table, `spooled_removed` (records deleted from spool files) and `spooled_held`
    (records in files of running servers: never replayed, gone at their next replay)."""
    ids, spools = sorted(set(conversation_ids)), [Path(d) for d in spools]
    subject = Subject(frozenset(ids), frozenset(users))
    for directory in spools:
        if directory.is_dir():
            Tombstones(directory).add(subject)
    counts = erase(store, ids)
    purged = [purge(directory, subject) for directory in spools]
    for table, rows in erase(store, ids).items():
        counts[table] += rows
    counts["spooled_removed"] = sum(p.removed for p in purged)
    counts["spooled_held"] = sum(p.held for p in purged)
    return counts


def _conversation(session, conversation: Conversation) -> dict[str, Any]:
    cid = conversation.id

    def rows(model, order) -> Sequence:
        return session.scalars(select(model).where(model.conversation_id == cid).order_by(order)).all()

    return {
        "id": cid,
        "channel": conversation.channel,
        "lang": conversation.lang,
        "status": conversation.status,
        "state": conversation.state,
        "created_at": _when(conversation.created_at),
        "updated_at": _when(conversation.updated_at),
        "messages": [
            {
                "id": m.id, "role": m.role, "text": m.text, "decision": m.decision, "reason": m.reason,
                "article_id": m.article_id, "confidence": m.confidence, "created_at": _when(m.created_at),
            }
            for m in rows(Message, Message.created_at)
        ],
        "feedback": [
            {
                "message_id": f.message_id, "helpful": f.helpful, "comment": f.comment,
                "created_at": _when(f.created_at),
            }
            for f in rows(Feedback, Feedback.id)
        ],
        "tickets": [
            {
                "id": t.id, "status": t.status, "reason": t.reason, "contact": t.contact,
                "created_at": _when(t.created_at),
            }
            for t in rows(Ticket, Ticket.created_at)
        ],
        "missed_queries": [
            {
                "id": q.id, "text": q.text, "lang": q.lang, "channel": q.channel, "reason": q.reason,
                "status": q.status, "created_at": _when(q.created_at),
            }
            for q in rows(MissedQuery, MissedQuery.id)
        ],
        "outbox": [  # messages to the customer not delivered yet (the platform out of reach)
            {
                "channel": o.channel, "message": o.body.get("message"), "attempts": o.attempts,
                "created_at": _when(o.created_at),
            }
            for o in rows(OutboxMessage, OutboxMessage.id)
        ],
    }  # fmt: skip


def _when(value) -> str | None:
    return value.isoformat() if value is not None else None

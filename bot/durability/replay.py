"""Replaying the spool into the store once the database is back: in order, up to `batch` turns per
transaction (a record that fails is retried alone, and set aside if it cannot be applied),
idempotent by record ids.

A turn whose customer message is already stored is skipped: it was replayed before (a crash in the
middle of a replay), or the request's own transaction did commit before its connection dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from bot.durability.erasure import Tombstones
from bot.durability.periodic import Periodic
from bot.durability.records import TurnRecord
from bot.durability.spool import Spool
from bot.storage.schema import Conversation, Message, MissedQuery, Ticket, aware, new_id
from bot.storage.statuses import ConversationStatus, Role, TicketStatus
from bot.storage.store import Store, StoreUnavailable
from bot.storage.tickets import new_ref

log = logging.getLogger("faqbot.replay")
APPLIED, DUPLICATE, REJECTED, ERASED = "applied", "duplicate", "rejected", "erased"


def apply_turn(session: Session, turn: TurnRecord) -> bool:
    """Write one spooled turn; False if it is in the store already."""
    if session.get(Message, turn.user_id) is not None:
        return False
    conversation = _conversation(session, turn)
    session.add(
        Message(
            id=turn.user_id,
            conversation_id=conversation.id,
            role=Role.USER,
            text=turn.text,
            created_at=turn.at,
        )
    )
    session.add(
        Message(
            id=turn.bot_id, conversation_id=conversation.id, role=Role.BOT, text=turn.reply_text,
            decision=turn.decision, reason=turn.reason, article_id=turn.article_id,
            confidence=turn.confidence, latency_ms=turn.latency_ms,
            created_at=turn.at + dt.timedelta(microseconds=1),
        )
    )  # fmt: skip
    if aware(conversation.updated_at) <= turn.at:  # a later turn's state wins, whichever lands first
        conversation.state, conversation.lang, conversation.updated_at = turn.state, turn.lang, turn.at
    if turn.ticket is not None:
        _hand_off(session, conversation, turn)
    if turn.missed is not None:
        missed = turn.missed
        session.add(
            MissedQuery(
                conversation_id=conversation.id, text=missed.text, lang=missed.lang, channel=missed.channel,
                reason=missed.reason, confidence=missed.confidence, candidates=missed.candidates,
                created_at=turn.at,
            )
        )  # fmt: skip
    session.flush()  # a conflicting row fails here, inside this record's transaction
    return True


def _conversation(session: Session, turn: TurnRecord) -> Conversation:
    """The turn's conversation, locked; created if the turn started it (or another process's spool,
    not replayed yet, holds the turn that did)."""
    query = select(Conversation).where(Conversation.id == turn.conversation_id).with_for_update()
    conversation = session.scalars(query).first()
    if conversation is None:
        conversation = Conversation(
            id=turn.conversation_id, channel=turn.channel, lang=turn.lang, status=ConversationStatus.BOT,
            state={}, created_at=turn.at, updated_at=turn.at,
        )  # fmt: skip
        session.add(conversation)
        session.flush()
    return conversation


def _hand_off(session: Session, conversation: Conversation, turn: TurnRecord) -> None:
    """The conversation's open ticket (kept if there is one) or the spooled one, created at the time
    the customer asked, so the queue keeps its order."""
    spooled = turn.ticket
    query = select(Ticket).where(
        Ticket.conversation_id == conversation.id, Ticket.status == TicketStatus.OPEN
    )
    ticket = session.scalars(query).first()
    if ticket is None:
        taken = session.get(Ticket, spooled.id) is not None  # a closed ticket of the same id
        session.add(
            Ticket(
                id=new_id("t") if taken else spooled.id, conversation_id=conversation.id,
                reason=spooled.reason, contact=spooled.contact, created_at=turn.at,
                ref=new_ref(session), channel=conversation.channel,
            )
        )  # fmt: skip
    elif spooled.contact and not ticket.contact:
        ticket.contact = spooled.contact
    conversation.status = ConversationStatus.HANDOFF


@dataclass(frozen=True)
class Drained:
    applied: int
    duplicates: int
    rejected: int
    left: int  # still waiting: the database went away again, or turns arrived meanwhile
    erased: int = 0  # skipped: their conversation was erased (faqbot gdpr erase) after they were spooled


class Replayer:
    """Offers the spool to the database every `interval` seconds, in a background thread."""

    def __init__(self, store: Store, spool: Spool, interval: float = 1.0, batch: int = 100) -> None:
        if batch < 1:
            raise ValueError(f"batch must be >= 1, got {batch}")
        self.store = store
        self.spool = spool
        self.interval = interval
        self.batch = batch  # turns per transaction
        self.tombstones = Tombstones(spool.directory)  # erased conversations are never replayed
        self._draining = threading.Lock()
        self._loop = Periodic("faqbot-replayer", interval, self.drain)
        self._waiting = False  # the last drain stopped on an unreachable database

    def drain(self) -> Drained:
        """Replay what waits, in order, until done or the database is out of reach again."""
        counts = {APPLIED: 0, DUPLICATE: 0, REJECTED: 0, ERASED: 0}
        with self._draining:
            try:
                for path in self.spool.backlog():
                    self._segment(path, counts)
            except StoreUnavailable as exc:
                if not self._waiting:
                    waiting = self.spool.pending()
                    log.warning("database unreachable, %d records wait in the spool: %s", waiting, exc)
                self._waiting = True
            else:
                if self._waiting or counts[APPLIED]:
                    done, stored = counts[APPLIED], counts[DUPLICATE]
                    log.info("spool replayed: %d applied, %d already stored", done, stored)
                self._waiting = False
        left = self.spool.pending()
        return Drained(counts[APPLIED], counts[DUPLICATE], counts[REJECTED], left, counts[ERASED])

    def start(self) -> Replayer:
        self._loop.start()
        return self

    def stop(self) -> None:
        """Stop the thread after one last drain; what is left stays on disk for the next process."""
        self._loop.stop()

    def _segment(self, path: Path, counts: dict[str, int]) -> None:
        records = self.spool.records(path)
        for start in range(0, len(records), self.batch):
            chunk = records[start : start + self.batch]
            if self._together(path, chunk, counts):
                continue
            for record in chunk:  # one of them fails: one by one, so that only it is set aside
                counts[self._apply(record)] += 1
                self.spool.applied(path, record)
        self.spool.finished(path)

    def _together(self, path: Path, chunk: list[dict], counts: dict[str, int]) -> bool:
        """Apply `chunk` in one transaction (one commit for many turns: a replay must outpace the
        turns still arriving); False, with nothing applied, if any record in it fails."""
        try:
            turns = [None if self.tombstones.erased(r) else TurnRecord.from_json(r) for r in chunk]
            with self.store.session() as session:
                stored = [None if turn is None else apply_turn(session, turn) for turn in turns]
        except (ValueError, SQLAlchemyError) as exc:
            log.info("a chunk of %d records failed (%s): applying them one by one", len(chunk), exc)
            return False
        for record, applied in zip(chunk, stored, strict=True):
            counts[ERASED if applied is None else APPLIED if applied else DUPLICATE] += 1
            self.spool.applied(path, record)
        return True

    def _apply(self, record: dict) -> str:
        """Apply one record; raises StoreUnavailable (the record then stays for later)."""
        if self.tombstones.erased(record):
            return ERASED
        try:
            turn = TurnRecord.from_json(record)
        except ValueError as exc:
            return self._reject(record, str(exc))
        conflict = None
        for _ in range(2):
            try:
                with self.store.session() as session:
                    return APPLIED if apply_turn(session, turn) else DUPLICATE
            except IntegrityError as exc:  # another writer made the same row meanwhile: look again
                conflict = exc
            except SQLAlchemyError as exc:
                return self._reject(record, f"{type(exc).__name__}: {exc}")
        return self._reject(record, f"conflict: {conflict}")

    def _reject(self, record: dict, reason: str) -> str:
        log.error("spooled record %s can never be applied (%s): set aside", record.get("user_id"), reason)
        self.spool.reject(record, reason)
        return REJECTED

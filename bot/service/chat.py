"""One customer turn end to end: load the conversation from the store, ask the Bot, record it.

When the database is out of reach, the turn is answered all the same and recorded in the spool
(see bot.durability.offline): the customer gets a reply, and the turn reaches the store when it is back."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from bot.dialogue.bot import Bot, ConversationState, Reply
from bot.dialogue.business_hours import BusinessHours
from bot.dialogue.messages import message
from bot.dialogue.vocabulary import DecisionKind, Reason
from bot.durability.offline import Offline, TurnIds
from bot.durability.records import SpooledMissed, TurnRecord
from bot.live.bus import LocalBus
from bot.live.events import Event
from bot.service.handoffs import Handoff, Handoffs
from bot.service.inbox import Inbox, message_event, ticket_event
from bot.storage.statuses import ConversationStatus, Role
from bot.storage.store import Conversation, Message, Store, StoreUnavailable, UnknownConversation
from bot.text.redact import redact

__all__ = ["ChatService", "Handoff", "Turn"]


@dataclass(frozen=True)
class Turn:
    """The result of one turn, as every channel needs it."""

    conversation_id: str
    message_id: str
    reply: Reply
    handoff: Handoff | None
    events: tuple[Event, ...] = ()  # told live once the turn is committed


class ChatService:
    """Conversations that survive restarts and span processes: all state goes through the store.

    With `offline` (a spool), turns are answered and spooled while the database is out of reach."""

    def __init__(
        self,
        bot: Bot,
        store: Store,
        minutes_per_ticket: int = 5,
        hours: BusinessHours | None = None,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        offline: Offline | None = None,
        live: LocalBus | None = None,
    ) -> None:
        self.bot = bot
        self.store = store
        self.handoffs = Handoffs(store, minutes_per_ticket, hours or BusinessHours.always(), clock)
        self.offline = offline
        self.live = live or LocalBus()
        self.inbox = Inbox(store, self.live)

    def handle(self, text: str, conversation_id: str | None, lang: str | None, channel: str) -> Turn:
        """Answer `text` in a conversation (a new one when `conversation_id` is None).

        When this returns, the turn is committed to the store, or (database out of reach, spool
        configured) fsync'd to the spool; otherwise it raises StoreUnavailable or SpoolUnavailable."""
        if self.offline is not None and self.offline.bypass(conversation_id):
            return self._offline_turn(text, conversation_id, lang, channel, TurnIds.new(offline=True))
        ids = TurnIds.new()
        try:
            turn = self._online_turn(text, conversation_id, lang, channel, ids)
        except StoreUnavailable as exc:
            if self.offline is None:
                raise
            self.offline.went_down()
            # In doubt (the COMMIT was sent), the same ids: if it went through, the replay skips it.
            ids = ids if exc.in_doubt else ids.offline()
            return self._offline_turn(text, conversation_id, lang, channel, ids)
        except UnknownConversation:
            if self.offline is None or not self.offline.born_offline(conversation_id):
                raise
            # Started in a spool that is not replayed yet: this turn waits in a spool too.
            return self._offline_turn(text, conversation_id, lang, channel, ids)
        if self.offline is not None:
            self.offline.went_up()
        self._tell(turn)
        return turn

    def _tell(self, turn: Turn) -> None:
        """Once the turn is committed, staff consoles learn of it live (a customer message in a
        handed-off conversation, a hand-off that opened)."""
        for event in turn.events:
            self.live.publish(event)

    def _online_turn(
        self, text: str, conversation_id: str | None, lang: str | None, channel: str, ids: TurnIds
    ) -> Turn:
        """The bot thinks outside any transaction: the conversation is read in one short transaction,
        the reply computed, and the turn written in a second one that locks the conversation. If
        another turn changed the conversation in between, the reply is recomputed under the lock,
        so no update is lost and the store is never held while the model runs."""
        seen = None if conversation_id is None else self.store.snapshot(conversation_id)
        if seen is not None and self.offline is not None:
            self.offline.remember(conversation_id, seen.status, seen.state, channel, None)
        if seen is not None and seen.status == ConversationStatus.HANDOFF:
            with self.store.session() as session:
                return self._turn_locked(session, text, conversation_id, lang, channel, ids)
        reply, state = self.bot.reply(text, seen.state if seen else None, lang=lang)

        def write(session) -> Turn | None:
            conversation = self.store.conversation_for_update(
                session, conversation_id, channel, lang, ids.conversation
            )
            if seen is not None and (conversation.updated_at, conversation.status) != (
                seen.updated_at,
                seen.status,
            ):
                return None  # another turn landed meanwhile: this one is answered again, under lock
            return self._record(session, conversation, text, reply, state, channel, ids)

        turn = self.store.write(write)  # committed together with the turns of other requests
        if turn is not None:
            return turn
        with self.store.session() as session:
            return self._turn_locked(session, text, conversation_id, lang, channel, ids)

    def _turn_locked(
        self,
        session,
        text: str,
        conversation_id: str | None,
        lang: str | None,
        channel: str,
        ids: TurnIds,
        conversation: Conversation | None = None,
    ) -> Turn:
        """The whole turn inside one transaction: hand-offs, and turns that lost a race."""
        if conversation is None:
            conversation = self.store.conversation_for_update(session, conversation_id, channel, lang)
        if conversation.status == ConversationStatus.HANDOFF:
            return self._agent_holds(session, conversation, text, lang, ids)
        reply, state = self.bot.reply(text, self.store.state_of(conversation), lang=lang)
        return self._record(session, conversation, text, reply, state, channel, ids)

    def _record(
        self, session, conversation: Conversation, text: str, reply: Reply, state, channel: str, ids: TurnIds
    ) -> Turn:
        handoff = ticket_id = None
        events: tuple[Event, ...] = ()
        if reply.decision == DecisionKind.HANDOFF:
            ticket, handoff = self.handoffs.open(
                session, conversation, reply.reason, reply.lang, channel, reply.text
            )
            ticket_id = ticket.id
            events = (
                _said(conversation.id, ids.user, text, ticket),
                ticket_event(conversation.id, ticket, "opened"),
            )
        # "non mi è stato utile", typed: as a 👎 on the last answer.
        if reply.reason == Reason.NEGATIVE_FEEDBACK:
            answer = self._log_unhelpful(session, conversation, None, DecisionKind.ANSWER)
            if answer is not None:
                self.store.feedback_row(session, conversation.id, answer.id, False, redact(text))
        recorded = self.store.record_turn(session, conversation, text, reply, state, (ids.user, ids.bot))
        missed = reply.decision in (DecisionKind.CLARIFY, DecisionKind.HANDOFF)
        # a complaint or "none of these" is about the question before, which is logged already
        if missed and reply.reason not in (Reason.NEGATIVE_FEEDBACK, Reason.NONE_FIT):
            self.store.add_missed(
                session, redact(text), reply.lang, channel, reply.decision, reply.confidence,
                _candidates(reply), conversation.id,
            )  # fmt: skip
        if self.offline is not None:
            self.offline.remember(conversation.id, conversation.status, state, channel, ticket_id)
        return Turn(conversation.id, recorded.id, reply, handoff, events)

    def _agent_holds(
        self, session, conversation: Conversation, text: str, lang: str | None, ids: TurnIds
    ) -> Turn:
        """While an agent holds the conversation the bot stays silent: the message waits for them, and
        every console is told of it."""
        reply_lang = lang or conversation.lang or self.bot.retriever.detector.default
        ticket, said = self.handoffs.hold(session, conversation, text, reply_lang)
        reply = Reply(DecisionKind.AGENT, reply_lang, 0.0, said, Reason.AGENT_HOLDS)
        state = self.store.state_of(conversation)
        recorded = self.store.record_turn(session, conversation, text, reply, state, (ids.user, ids.bot))
        if self.offline is not None:
            self.offline.remember(
                conversation.id, ConversationStatus.HANDOFF, state, conversation.channel, ticket.id
            )
        return Turn(
            conversation.id, recorded.id, reply, None, (_said(conversation.id, ids.user, text, ticket),)
        )

    def _offline_turn(
        self, text: str, conversation_id: str | None, lang: str | None, channel: str, ids: TurnIds
    ) -> Turn:
        """The turn without the database: from what this process remembers of the conversation
        (see bot.durability.offline), written to the spool. The queue ahead of a hand-off is unknown: the
        wait given is for an empty queue."""
        known = self.offline.recall(conversation_id)
        cid = conversation_id or ids.conversation
        ticket = handoff = missed = None
        if known is not None and known.status == ConversationStatus.HANDOFF:
            state = known.state
            reply_lang = lang or state.lang or self.bot.retriever.detector.default
            ticket, said = self.handoffs.spooled_hold(known.ticket_id, text, reply_lang)
            reply = Reply(DecisionKind.AGENT, reply_lang, 0.0, said, Reason.AGENT_HOLDS)
        else:
            reply, state = self.bot.reply(text, known.state if known else None, lang=lang)
            if reply.decision == DecisionKind.HANDOFF:
                ticket, handoff = self.handoffs.spooled_open(reply.reason, reply.lang, channel, reply.text)
            if reply.decision in (DecisionKind.CLARIFY, DecisionKind.HANDOFF):
                missed = SpooledMissed(
                    redact(text), reply.lang, channel, reply.decision, reply.confidence, _candidates(reply)
                )
        record = TurnRecord(
            conversation_id=cid, channel=known.channel if known else channel, at=self.handoffs.clock(),
            user_id=ids.user, text=text, bot_id=ids.bot, decision=reply.decision, reason=reply.reason,
            reply_text=reply.text, lang=reply.lang,
            article_id=reply.article.article_id if reply.article else None,
            confidence=reply.confidence, latency_ms=reply.latency_ms, state=_json_state(state),
            ticket=ticket, missed=missed,
        )  # fmt: skip
        self.offline.keep(record, ConversationStatus.HANDOFF if ticket else ConversationStatus.BOT, state)
        return Turn(cid, ids.bot, reply, handoff)

    def feedback(
        self, conversation_id: str, message_id: str | None, helpful: bool, comment: str | None
    ) -> Handoff | None:
        """Record feedback. An unhelpful answer goes to the missed-query log and brings in a person:
        the hand-off (ticket and honest wait) is returned so the channel can tell the customer."""
        self.store.add_feedback(conversation_id, message_id, helpful, comment)
        if helpful:
            return None
        with self.store.session() as session:
            conversation = self.store.conversation_for_update(session, conversation_id, "web", None)
            self._log_unhelpful(session, conversation, message_id)
            if conversation.status == ConversationStatus.HANDOFF:
                return None  # a person already has it
            lang = conversation.lang or self.bot.retriever.detector.default
            unhelpful = message("handoff_unhelpful", lang)
            reason = Reason.NEGATIVE_FEEDBACK
            ticket, handoff = self.handoffs.open(
                session, conversation, reason, lang, conversation.channel, unhelpful
            )
            self.store.bot_note(session, conversation, handoff.message, DecisionKind.HANDOFF, reason)
            if self.offline is not None:
                state = self.store.state_of(conversation)
                status = ConversationStatus.HANDOFF
                self.offline.remember(conversation_id, status, state, conversation.channel, ticket.id)
            opened = ticket_event(conversation_id, ticket, "opened")
        self.live.publish(opened)
        return handoff

    def _log_unhelpful(
        self, session, conversation: Conversation, message_id: str | None, decision: str | None = None
    ):
        """Log the question that bot message `message_id` (default: the last, of `decision` if
        given) answered unhelpfully as a missed query, with the article given; returns that bot
        message, if any."""
        question, answer = self.store.exchange(session, conversation.id, message_id, decision)
        if question is not None:
            candidates = []
            if answer is not None and answer.article_id:
                candidates = [{"article_id": answer.article_id, "title": "", "score": answer.confidence}]
            confidence = answer.confidence if answer else None
            self.store.add_missed(
                session, redact(question.text), conversation.lang, conversation.channel,
                Reason.NEGATIVE_FEEDBACK, confidence, candidates, conversation.id,
            )  # fmt: skip
        return answer


def _said(conversation_id: str, message_id: str, text: str, ticket) -> Event:
    """The live event of a customer's message in a handed-off conversation (as recorded this turn)."""
    said = Message(id=message_id, role=Role.USER, author=None, text=text, created_at=dt.datetime.now(dt.UTC))
    return message_event(conversation_id, said, ticket)


def _json_state(state: ConversationState) -> dict:
    """The state as the store keeps it (JSON: tuples become lists)."""
    return dataclasses.asdict(state) | {"pending": [list(p) for p in state.pending]}


def _candidates(reply: Reply) -> list[dict]:
    """The top articles the bot considered, for staff deciding where a missed question belongs."""
    if reply.result is None:
        return []
    return [
        {"article_id": h.article_id, "title": h.title, "score": round(h.score, 4)}
        for h in reply.result.hits[:3]
    ]

"""Deflection and hand-off statistics, and retention (purge)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, delete, func, select

from bot.dialogue.vocabulary import DecisionKind
from bot.storage.connection import StoreBase
from bot.storage.schema import Conversation, Feedback, Message, MissedQuery, OutboxMessage, Ticket
from bot.storage.statuses import ConversationStatus, Role


class Reports(StoreBase):
    """Deflection and hand-off statistics, and retention (purge)."""

    def stats(self, since: dt.datetime) -> dict:
        """Deflection and hand-off rates, feedback, top articles, by day and channel."""
        with self.reading() as session:
            conversations = session.execute(
                select(
                    Conversation.channel,
                    func.count(),
                    func.sum(case((Conversation.status == ConversationStatus.HANDOFF, 1), else_=0)),
                )
                .where(Conversation.created_at >= since)
                .group_by(Conversation.channel)
            ).all()
            handed = set(session.scalars(select(Ticket.conversation_id).where(Ticket.created_at >= since)))
            decisions = dict(
                session.execute(
                    select(Message.decision, func.count())
                    .where(Message.role == Role.BOT, Message.created_at >= since)
                    .group_by(Message.decision)
                ).all()
            )
            top = session.execute(
                select(Message.article_id, func.count())
                .where(
                    Message.role == Role.BOT,
                    Message.decision == DecisionKind.ANSWER,
                    Message.created_at >= since,
                )
                .group_by(Message.article_id)
                .order_by(func.count().desc())
                .limit(10)
            ).all()
            helpful = dict(
                session.execute(
                    select(Feedback.helpful, func.count())
                    .where(Feedback.created_at >= since)
                    .group_by(Feedback.helpful)
                ).all()
            )
            days = session.execute(
                select(func.date(Message.created_at), Message.decision, func.count())
                .where(Message.role == Role.BOT, Message.created_at >= since)
                .group_by(func.date(Message.created_at), Message.decision)
            ).all()
        total = sum(n for _, n, _ in conversations)
        by_day: dict[str, dict[str, int]] = {}
        for day, decision, n in days:
            by_day.setdefault(str(day), {})[decision or "none"] = n
        return {
            "conversations": total,
            "handoff_rate": len(handed) / total if total else 0.0,
            "deflection_rate": (total - len(handed)) / total if total else 0.0,
            "by_channel": {channel: n for channel, n, _ in conversations},
            "decisions": {k or "none": v for k, v in decisions.items()},
            "helpful": helpful.get(True, 0),
            "unhelpful": helpful.get(False, 0),
            "top_articles": [{"article_id": a, "answers": n} for a, n in top],
            "by_day": by_day,
        }

    def purge(self, older_than: dt.datetime) -> dict[str, int]:
        """Delete missed queries and conversations (with their messages, feedback and tickets)
        last active before `older_than`; returns how many rows of each went."""
        with self.session() as session:
            missed = session.execute(delete(MissedQuery).where(MissedQuery.created_at < older_than)).rowcount
            old = select(Conversation.id).where(Conversation.updated_at < older_than)
            counts = {"missed_queries": missed or 0}
            for model in (Feedback, Ticket, Message, OutboxMessage):
                result = session.execute(delete(model).where(model.conversation_id.in_(old)))
                counts[model.__tablename__] = result.rowcount or 0
            result = session.execute(delete(Conversation).where(Conversation.updated_at < older_than))
            counts["conversations"] = result.rowcount or 0
            return counts

"""Deflection and hand-off statistics, and retention (purge)."""

from __future__ import annotations

import datetime as dt
import statistics

from sqlalchemy import case, delete, func, select

from bot.dialogue.vocabulary import DecisionKind
from bot.storage.connection import StoreBase
from bot.storage.schema import Conversation, Feedback, Message, MissedQuery, OutboxMessage, Ticket, aware
from bot.storage.statuses import ConversationStatus, Role

# A bot reply to a question (not small talk): a conversation with one is one where the customer
# asked something. Deflection counts only those, answered and not handed off.
QUESTION_DECISIONS = (DecisionKind.ANSWER, DecisionKind.CLARIFY, DecisionKind.HANDOFF)


def _outcomes(rows, handed: set[str], by: int = 1) -> dict[str, dict]:
    """Per group (the rows' column `by`: 1 the language, 2 the channel) and for "all": of the
    conversations where the customer asked something, the share self-served (answered, never
    handed off), handed off, and left without an answer (only clarifications, then nothing)."""
    groups: dict[str, list[tuple[bool, bool]]] = {"all": []}
    for row in rows:
        conversation_id, answers, questions = row[0], row[3], row[4]
        if not questions:
            continue  # small talk only: nothing was asked
        outcome = (conversation_id in handed, bool(answers))
        groups["all"].append(outcome)
        groups.setdefault(row[by] or "?", []).append(outcome)
    figures = {}
    for lang, outcomes in groups.items():
        n = len(outcomes)
        handed_off = sum(h for h, _ in outcomes)
        served = sum(not h and a for h, a in outcomes)
        figures[lang] = {
            "asked": n,
            "self_served": served,
            "handed_off": handed_off,
            "abandoned": n - served - handed_off,
            "deflection_rate": served / n if n else 0.0,
            "handoff_rate": handed_off / n if n else 0.0,
            "abandoned_rate": (n - served - handed_off) / n if n else 0.0,
        }
    return figures


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
            asked = session.execute(
                select(
                    Conversation.id,
                    Conversation.lang,
                    Conversation.channel,
                    func.sum(case((Message.decision == DecisionKind.ANSWER, 1), else_=0)),
                    func.sum(case((Message.decision.in_(QUESTION_DECISIONS), 1), else_=0)),
                )
                .join(Message, Message.conversation_id == Conversation.id)
                .where(Conversation.created_at >= since, Message.role == Role.BOT)
                .group_by(Conversation.id, Conversation.lang, Conversation.channel)
            ).all()
            waits = session.execute(
                select(Ticket.channel, Ticket.created_at, Ticket.first_reply_at).where(
                    Ticket.created_at >= since, Ticket.first_reply_at.is_not(None)
                )
            ).all()
        total = sum(n for _, n, _ in conversations)
        by_day: dict[str, dict[str, int]] = {}
        for day, decision, n in days:
            by_day.setdefault(str(day), {})[decision or "none"] = n
        outcomes = _outcomes(asked, handed)
        channels = {k: v for k, v in _outcomes(asked, handed, by=2).items() if k != "all"}
        replies: dict[str, list[float]] = {}
        for channel, opened, replied in waits:
            minutes = (aware(replied) - aware(opened)).total_seconds() / 60
            replies.setdefault(channel or "?", []).append(minutes)
        for channel, minutes in replies.items():
            channels.setdefault(channel, {})["first_reply_minutes"] = round(statistics.median(minutes), 1)
        return {
            "conversations": total,
            **outcomes["all"],
            "by_lang": {lang: figures for lang, figures in outcomes.items() if lang != "all"},
            "by_channel": {channel: n for channel, n, _ in conversations},
            # per channel: the outcomes above, and the median minutes from hand-off to a first reply
            "channels": channels,
            "decisions": {k or "none": v for k, v in decisions.items()},
            "helpful": helpful.get(True, 0),
            "unhelpful": helpful.get(False, 0),
            "top_articles": [{"article_id": a, "answers": n} for a, n in top],
            "by_day": by_day,
            "answer_rate_by_day": {
                day: counts.get(DecisionKind.ANSWER, 0) / asked_that_day
                for day, counts in sorted(by_day.items())
                if (asked_that_day := sum(counts.get(k, 0) for k in QUESTION_DECISIONS))
            },
        }

    def popular_articles(self, since: dt.datetime, limit: int = 20) -> list[str]:
        """The articles answered most often since `since`, most first."""
        with self.reading() as session:
            rows = session.execute(
                select(Message.article_id, func.count())
                .where(
                    Message.role == Role.BOT,
                    Message.decision == DecisionKind.ANSWER,
                    Message.article_id.is_not(None),
                    Message.created_at >= since,
                )
                .group_by(Message.article_id)
                .order_by(func.count().desc(), Message.article_id)
                .limit(limit)
            ).all()
        return [article_id for article_id, _n in rows]

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

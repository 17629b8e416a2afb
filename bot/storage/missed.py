"""The missed-query log: what the bot could not answer, for staff to curate."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.storage.connection import StoreBase
from bot.storage.schema import MissedQuery, now
from bot.storage.statuses import MissedStatus


class MissedLog(StoreBase):
    """The missed-query log: what the bot could not answer, for staff to curate."""

    def add_missed(
        self,
        session: Session,
        text: str,
        lang: str | None,
        channel: str,
        reason: str,
        confidence: float | None,
        candidates: list[dict],
        conversation_id: str | None,
    ) -> MissedQuery:
        """Log a missed question; `text` must already be redacted (see bot.text.redact)."""
        missed = MissedQuery(
            conversation_id=conversation_id,
            text=text,
            lang=lang,
            channel=channel,
            reason=reason,
            confidence=confidence,
            candidates=candidates,
            created_at=now(),
        )
        session.add(missed)
        return missed

    def missed(
        self,
        q: str | None = None,
        lang: str | None = None,
        channel: str | None = None,
        since: dt.datetime | None = None,
        status: str | None = MissedStatus.OPEN,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[MissedQuery], int]:
        """Missed questions, newest first, filtered; returns (page, total matching)."""
        conditions = []
        if q:
            conditions.append(MissedQuery.text.ilike(f"%{q}%"))
        if lang:
            conditions.append(MissedQuery.lang == lang)
        if channel:
            conditions.append(MissedQuery.channel == channel)
        if since:
            conditions.append(MissedQuery.created_at >= since)
        if status:
            conditions.append(MissedQuery.status == status)
        with self.reading() as session:
            total = session.scalar(select(func.count()).select_from(MissedQuery).where(*conditions))
            query = (
                select(MissedQuery)
                .where(*conditions)
                .order_by(MissedQuery.created_at.desc(), MissedQuery.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return list(session.scalars(query)), int(total or 0)

    def resolve_missed(self, missed_id: int, status: str, resolution: dict, who: str) -> MissedQuery:
        """Mark a missed question resolved or dismissed, recording what was done, by whom, when."""
        with self.session() as session:
            missed = session.get(MissedQuery, missed_id)
            if missed is None:
                raise LookupError(f"no missed query {missed_id}")
            missed.status, missed.resolution = status, resolution
            missed.resolved_by, missed.resolved_at = who, now()
            return missed

    def get_missed(self, missed_id: int) -> MissedQuery | None:
        with self.reading() as session:
            return session.get(MissedQuery, missed_id)

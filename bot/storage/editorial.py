"""The knowledge base's editorial record in the store: who edited which article and when, the
"publish now" jobs (any replica reports on a job another one runs), and each article's figures."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update

from bot.storage.connection import StoreBase
from bot.storage.schema import ArticleEdit, Feedback, Message, MissedQuery, PublishJob, new_id, now
from bot.storage.statuses import Role

RUNNING = "running"


@dataclass(frozen=True)
class ArticleFigures:
    answered: int  # times the bot answered with it
    helpful: int
    unhelpful: int
    last_answered: dt.datetime | None


class Editorial(StoreBase):
    def record_edit(self, article_id: str, action: str, who: str, version: str | None) -> None:
        with self.session() as session:
            session.add(ArticleEdit(article_id=article_id, action=action, who=who[:64], version=version))

    def edits(self, article_id: str, limit: int = 20) -> list[ArticleEdit]:
        """The article's edits, newest first."""
        with self.reading() as session:
            query = (
                select(ArticleEdit)
                .where(ArticleEdit.article_id == article_id)
                .order_by(ArticleEdit.id.desc())
                .limit(limit)
            )
            return list(session.scalars(query).all())

    def last_edits(self) -> dict[str, ArticleEdit]:
        """Each article's latest edit."""
        with self.reading() as session:
            latest = select(func.max(ArticleEdit.id)).group_by(ArticleEdit.article_id)
            rows = session.scalars(select(ArticleEdit).where(ArticleEdit.id.in_(latest))).all()
            return {row.article_id: row for row in rows}

    def article_figures(self, article_id: str | None = None) -> dict[str, ArticleFigures]:
        """Per article (or for `article_id` only): how often the bot answered with it, its 👍/👎,
        when it last answered."""
        which = (
            Message.article_id == article_id if article_id is not None else Message.article_id.is_not(None)
        )
        with self.reading() as session:
            answered = session.execute(
                select(Message.article_id, func.count(), func.max(Message.created_at))
                .where(Message.role == Role.BOT, Message.decision == "answer", which)
                .group_by(Message.article_id)
            ).all()
            votes = session.execute(
                select(Message.article_id, Feedback.helpful, func.count())
                .join(Message, Feedback.message_id == Message.id)
                .where(which)
                .group_by(Message.article_id, Feedback.helpful)
            ).all()
        helpful: dict[tuple[str, bool], int] = {(a, bool(h)): n for a, h, n in votes}
        ids = {a for a, _, _ in answered} | {a for a, _ in helpful}
        last = {a: (n, when) for a, n, when in answered}
        return {
            a: ArticleFigures(
                last.get(a, (0, None))[0],
                helpful.get((a, True), 0),
                helpful.get((a, False), 0),
                last.get(a, (0, None))[1],
            )
            for a in ids
        }

    def missed_near(self, article_id: str, limit: int = 10) -> list[MissedQuery]:
        """Open missed questions whose best candidate was this article (it came close)."""
        with self.reading() as session:
            rows = session.scalars(
                select(MissedQuery)
                .where(MissedQuery.status == "open")
                .order_by(MissedQuery.id.desc())
                .limit(2000)
            ).all()
        near = [m for m in rows if m.candidates and m.candidates[0].get("article_id") == article_id]
        return near[:limit]

    # --- publish jobs ------------------------------------------------------------------------

    def start_publish(self, who: str) -> str:
        job = new_id("pub")
        with self.session() as session:
            session.add(PublishJob(id=job, status=RUNNING, who=who[:64], report={}))
        return job

    def progress_publish(self, job: str, report: dict) -> None:
        with self.session() as session:
            session.execute(update(PublishJob).where(PublishJob.id == job).values(report=report))

    def finish_publish(self, job: str, status: str, report: dict) -> None:
        with self.session() as session:
            session.execute(
                update(PublishJob)
                .where(PublishJob.id == job)
                .values(status=status, report=report, finished_at=now())
            )

    def publish_job(self, job: str) -> PublishJob | None:
        with self.reading() as session:
            return session.get(PublishJob, job)

    def last_publish(self, status: str | None = None) -> PublishJob | None:
        """The latest publish job (with `status`, the latest that ended so)."""
        with self.reading() as session:
            query = select(PublishJob).order_by(PublishJob.created_at.desc()).limit(1)
            if status is not None:
                query = query.where(PublishJob.status == status)
            return session.scalars(query).first()

"""Canned replies: texts agents insert with one click, per language."""

from __future__ import annotations

from sqlalchemy import delete, select

from bot.storage.connection import StoreBase
from bot.storage.schema import CannedReply, now


class CannedReplies(StoreBase):
    def canned_replies(self, lang: str | None) -> list[CannedReply]:
        """The canned replies in `lang` (every language: None), by title."""
        with self.reading() as session:
            query = select(CannedReply).order_by(CannedReply.lang, CannedReply.title)
            if lang is not None:
                query = query.where(CannedReply.lang == lang)
            return list(session.scalars(query))

    def add_canned_reply(self, lang: str, title: str, text: str, by: str | None) -> CannedReply:
        with self.session() as session:
            row = CannedReply(lang=lang, title=title[:120], text=text, created_by=by, created_at=now())
            session.add(row)
            session.flush()
            return row

    def delete_canned_reply(self, canned_id: int) -> bool:
        with self.session() as session:
            return bool(session.execute(delete(CannedReply).where(CannedReply.id == canned_id)).rowcount)

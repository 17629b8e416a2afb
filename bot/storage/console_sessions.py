"""Console sign-ins kept in the store: valid until they expire or the staff member signs out."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, select, update

from bot.storage.connection import StoreBase
from bot.storage.schema import ConsoleSession, aware, now


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class ConsoleSessions(StoreBase):
    """Server-side console sessions (the cookie holds the id; the store, its hash)."""

    def open_console_session(self, who: str, seconds: int) -> str:
        """A new session for `who`, valid `seconds`; its id, for the cookie."""
        session_id = secrets.token_urlsafe(32)
        expires = now() + dt.timedelta(seconds=seconds)
        with self.session() as session:
            session.execute(delete(ConsoleSession).where(ConsoleSession.expires_at < now()))
            session.add(ConsoleSession(id_hash=_hash(session_id), who=who[:64], expires_at=expires))
        return session_id

    def console_session(self, session_id: str) -> str | None:
        """Who signed in with this session, if it is neither expired nor revoked."""
        with self.reading() as session:
            row = session.scalars(
                select(ConsoleSession).where(ConsoleSession.id_hash == _hash(session_id))
            ).first()
        if row is None or row.revoked_at is not None or aware(row.expires_at) <= now():
            return None
        return row.who

    def touch_console_session(self, session_id: str, every: dt.timedelta = dt.timedelta(seconds=30)) -> None:
        """The staff member behind this session is active now (at most one write per `every`)."""
        stamp = now()
        with self.session() as session:
            session.execute(
                update(ConsoleSession)
                .where(
                    ConsoleSession.id_hash == _hash(session_id),
                    (ConsoleSession.seen_at.is_(None)) | (ConsoleSession.seen_at < stamp - every),
                )
                .values(seen_at=stamp)
            )

    def online_staff(self, within: dt.timedelta = dt.timedelta(minutes=2)) -> list[str]:
        """Who has the console open (a page or its live stream) within `within`, by name."""
        stamp = now()
        with self.reading() as session:
            names = session.scalars(
                select(ConsoleSession.who)
                .where(
                    ConsoleSession.seen_at >= stamp - within,
                    ConsoleSession.revoked_at.is_(None),
                    ConsoleSession.expires_at > stamp,
                )
                .distinct()
            ).all()
        return sorted(names)

    def revoke_console_session(self, session_id: str) -> None:
        """Sign out: the session's cookie is refused from now on, wherever it is presented."""
        with self.session() as session:
            session.execute(
                update(ConsoleSession)
                .where(ConsoleSession.id_hash == _hash(session_id))
                .values(revoked_at=now())
            )

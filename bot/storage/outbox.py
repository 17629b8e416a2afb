"""The channels' outbox in the store: messages a platform did not take yet, kept until they are
sent. Every process may drain it: a message is leased before it is sent, so two processes never
send the same one at once, and only the oldest message of each recipient is handed out, so a
customer's messages arrive in the order the bot wrote them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, delete, func, or_, select, update

from bot.storage.connection import StoreBase
from bot.storage.schema import InboundEvent, OutboxMessage, aware, now

_ECHOES = ":echo"  # echoes of messages not in the outbox are kept as inbound events of "<channel>:echo"
ECHOES_KEPT = dt.timedelta(days=1)


@dataclass(frozen=True)
class Outbound:
    """One message waiting in the outbox."""

    id: int
    channel: str
    recipient: str
    conversation_id: str | None
    token: str
    body: dict
    created_at: dt.datetime
    attempts: int
    unsure: bool


@dataclass(frozen=True)
class Queued:
    """A message to keep: its delivery token and the API request that sends it."""

    token: str
    body: dict


class Outbox(StoreBase):
    def queue_outbound(
        self,
        channel: str,
        recipient: str,
        conversation_id: str | None,
        messages: list[Queued],
        due_at: dt.datetime,
        error: str = "",
        unsure: bool = False,
        throttled: bool = False,
    ) -> None:
        """Keep `messages` for `recipient`, in order, first try at `due_at`. `error`, `unsure` and
        `throttled` describe the first one's failed try (the others were never tried)."""
        with self.session() as session:
            for i, item in enumerate(messages):
                session.add(
                    OutboxMessage(
                        channel=channel, recipient=recipient, conversation_id=conversation_id,
                        token=item.token, body=item.body, due_at=due_at,
                        attempts=1 if i == 0 and error else 0, unsure=unsure and i == 0,
                        throttled=throttled and i == 0, last_error=(error or None) if i == 0 else None,
                    )
                )  # fmt: skip

    def outbound_waiting(self, channel: str, recipient: str) -> bool:
        """Does `recipient` have messages in the outbox (so that a new one must queue behind them)?"""
        with self.reading() as session:
            query = select(OutboxMessage.id).where(
                OutboxMessage.channel == channel, OutboxMessage.recipient == recipient
            )
            return session.scalars(query.limit(1)).first() is not None

    def lease_outbound(self, channel: str, seconds: float, limit: int = 50) -> list[Outbound]:
        """The oldest message of each recipient that is due and not leased, leased for `seconds`."""
        moment = now()
        first = (
            select(func.min(OutboxMessage.id))
            .where(OutboxMessage.channel == channel)
            .group_by(OutboxMessage.recipient)
        )
        free = or_(OutboxMessage.lease_until.is_(None), OutboxMessage.lease_until < moment)
        with self.session() as session:
            rows = session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.id.in_(first), OutboxMessage.due_at <= moment, free)
                .order_by(OutboxMessage.id)
                .limit(limit)
            ).all()
            leased = []
            until = moment + dt.timedelta(seconds=seconds)
            for row in rows:  # compare-and-set: another process may have leased it meanwhile
                taken = session.execute(
                    update(OutboxMessage)
                    .where(and_(OutboxMessage.id == row.id, free))
                    .values(lease_until=until)
                )
                if taken.rowcount == 1:
                    leased.append(_outbound(row))
            return leased

    def outbound_done(self, outbound_id: int) -> None:
        """Sent (or given up on): it leaves the outbox."""
        with self.session() as session:
            session.execute(delete(OutboxMessage).where(OutboxMessage.id == outbound_id))

    def outbound_retry(
        self, outbound_id: int, due_at: dt.datetime, error: str, unsure: bool, throttled: bool = False
    ) -> None:
        """A try failed for now: try again at `due_at`."""
        with self.session() as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == outbound_id)
                .values(
                    due_at=due_at,
                    attempts=OutboxMessage.attempts + 1,
                    last_error=error[:300],
                    unsure=unsure,
                    throttled=throttled,
                    lease_until=None,
                )
            )

    def outbound_wake(self, channel: str) -> int:
        """The platform takes messages again: what waits for a back-off of our own is due now (not
        what waits as long as the platform asked, nor a lost answer awaiting its echo)."""
        moment = now()
        with self.session() as session:
            result = session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.channel == channel,
                    OutboxMessage.due_at > moment,
                    OutboxMessage.throttled.is_(False),
                    OutboxMessage.unsure.is_(False),
                )
                .values(due_at=moment)
            )
            return result.rowcount or 0

    def outbound_confirmed(self, channel: str, token: str) -> bool:
        """The platform echoed the message carrying `token`: it was delivered. It leaves the
        outbox; if it is not there (yet: the echo can beat the failed send it answers into the
        outbox), the echo is remembered for `outbound_echoed`. True if a message left."""
        with self.session() as session:
            result = session.execute(
                delete(OutboxMessage).where(OutboxMessage.channel == channel, OutboxMessage.token == token)
            )
            if result.rowcount:
                return True
            echoes = f"{channel}{_ECHOES}"
            session.execute(
                delete(InboundEvent).where(
                    InboundEvent.channel == echoes, InboundEvent.created_at < now() - ECHOES_KEPT
                )
            )
            if session.get(InboundEvent, (echoes, token)) is None:
                session.add(InboundEvent(channel=echoes, event_id=token, done_at=now()))
            return False

    def outbound_echoed(self, channel: str, token: str) -> bool:
        """Was the message carrying `token` echoed (so a send whose answer was lost went through)?"""
        with self.reading() as session:
            return session.get(InboundEvent, (f"{channel}{_ECHOES}", token)) is not None

    def outbound_depth(self, channel: str) -> int:
        with self.reading() as session:
            query = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.channel == channel)
            return int(session.scalar(query) or 0)


def _outbound(row: OutboxMessage) -> Outbound:
    return Outbound(
        row.id, row.channel, row.recipient, row.conversation_id, row.token, dict(row.body),
        aware(row.created_at), row.attempts, row.unsure,
    )  # fmt: skip

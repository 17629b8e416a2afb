"""Replaying spooled turns: the ids the customer was given, the order of the transcript, the state of
the latest turn, one ticket per conversation, and a bad record never blocking the others."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.dialogue.bot import ConversationState, Reply
from bot.durability.records import SpooledMissed, SpooledTicket, TurnRecord
from bot.durability.replay import Replayer
from bot.durability.spool import REJECTED, Spool, decode
from bot.storage.schema import new_id
from bot.storage.store import Store

T0 = dt.datetime(2025, 11, 23, 10, 0, tzinfo=dt.UTC)  # before any turn a test takes now


def spooled(conversation_id: str, text: str, at: dt.datetime, **extra) -> TurnRecord:
    values = {
        "conversation_id": conversation_id, "channel": "web", "at": at, "user_id": new_id("m"), "text": text,
        "bot_id": new_id("m"), "decision": "answer", "reason": "confident", "reply_text": f"re: {text}",
        "lang": "it", "article_id": "a1", "confidence": 0.9, "latency_ms": 12.0,
        "state": {"lang": "it", "misses": 0, "pending": [], "last_article": text},
    }  # fmt: skip
    return TurnRecord(**{**values, **extra})


@pytest.fixture
def store(database_url):
    store = Store(database_url).open()
    yield store
    store.close()


@pytest.fixture
def spool(tmp_path):
    spool = Spool(tmp_path / "spool").open()
    yield spool
    spool.close()


def replay(store: Store, spool: Spool, *records: TurnRecord | dict):
    for record in records:
        spool.append(record.to_json() if isinstance(record, TurnRecord) else record)
    return Replayer(store, spool).drain()


def test_records_round_trip_and_refuse_what_this_version_did_not_write():
    record = spooled("c_1", "ciao", T0, ticket=SpooledTicket("t_1", "requested"))
    assert TurnRecord.from_json(record.to_json()) == record
    for broken in ({"kind": "feedback", "v": 1}, {**record.to_json(), "v": 2}, {"kind": "turn", "v": 1}):
        with pytest.raises(ValueError):
            TurnRecord.from_json(broken)
    with pytest.raises(ValueError, match="time zone"):
        TurnRecord.from_json({**record.to_json(), "at": "2026-11-23T10:00:00"})


def test_a_bad_record_is_set_aside_and_the_ones_after_it_are_applied(store, spool):
    good = spooled("c_" + "1" * 32, "dopo", T0)
    drained = replay(store, spool, {"conversation_id": "c_x", "kind": "turn", "v": 1}, good)
    assert (drained.applied, drained.rejected, drained.left) == (1, 1, 0)
    assert [m.text for m in store.messages(good.conversation_id)] == ["dopo", "re: dopo"]
    [line] = (spool.directory / REJECTED).read_bytes().splitlines()
    assert "malformed" in decode(line + b"\n")["reason"]


def test_the_transcript_keeps_the_order_the_customer_wrote_in_and_the_latest_state_wins(store, spool):
    """The offline turn lands after a later online turn from another process."""
    with store.session() as session:
        conversation = store.conversation_for_update(session, None, "web", "it")
    offline = spooled(conversation.id, "prima, offline", T0)
    with store.session() as session:
        locked = store.conversation_for_update(session, conversation.id, "web", "it")
        later = store.record_turn(
            session, locked, "dopo, online", Reply("answer", "it", 0.9, "re", "confident"),
            ConversationState(lang="it", last_article="online"),
        )  # fmt: skip
    assert later.created_at > T0
    assert replay(store, spool, offline).applied == 1
    texts = [m.text for m in store.messages(conversation.id) if m.role == "user"]
    assert texts == ["prima, offline", "dopo, online"]
    assert store.snapshot(conversation.id).state.last_article == "online"


def test_one_open_ticket_per_conversation_and_the_queue_keeps_its_order(store, spool):
    cid = "c_" + "2" * 32
    first = spooled(cid, "operatore", T0, decision="handoff", ticket=SpooledTicket("t_first", "requested"))
    again = spooled(
        cid, "ci sei?", T0 + dt.timedelta(minutes=1), ticket=SpooledTicket("t_other", "agent_holds")
    )
    missed = SpooledMissed("operatore", "it", "web", "handoff", 0.0, [])
    other = spooled(
        "c_" + "3" * 32, "help", T0 - dt.timedelta(minutes=5), decision="handoff",
        ticket=SpooledTicket("t_earlier", "requested", "a@b.it"), missed=missed,
    )  # fmt: skip
    assert replay(store, spool, first, again, other).applied == 3
    queue = [(t.id, c.id, t.contact) for t, c in store.open_tickets()]
    assert queue == [("t_earlier", other.conversation_id, "a@b.it"), ("t_first", cid, None)]
    assert store.snapshot(cid).status == "handoff"
    store.agent_message("t_first", "risolto", close=True)
    reopened = spooled(
        cid, "ancora operatore", T0 + dt.timedelta(hours=1), ticket=SpooledTicket("t_first", "x")
    )
    assert replay(store, spool, reopened).applied == 1  # "t_first" is taken (closed): a new id
    [(ticket, _)] = [(t, c) for t, c in store.open_tickets() if c.id == cid]
    assert ticket.id != "t_first" and ticket.id.startswith("t_")
    missed_rows, total = store.missed()
    assert total == 1 and missed_rows[0].created_at.replace(tzinfo=dt.UTC) == other.at


def test_many_turns_are_replayed_a_hundred_to_a_commit(store, spool):
    """A replay must outpace the turns still arriving: a commit per chunk, not per turn."""
    from sqlalchemy import event

    commits = []
    event.listen(store.engine, "commit", lambda connection: commits.append(1))
    records = [
        spooled("c_" + f"{n % 7:032x}", f"domanda {n}", T0 + dt.timedelta(seconds=n)) for n in range(250)
    ]
    drained = replay(store, spool, *records)
    assert (drained.applied, drained.left) == (250, 0)
    assert len(commits) == 3
    assert [m.text for m in store.messages(records[0].conversation_id) if m.role == "user"] == [
        f"domanda {n}" for n in range(0, 250, 7)
    ]

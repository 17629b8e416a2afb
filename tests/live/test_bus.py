"""The live bus: events fan out to every stream of a process, and across processes through
PostgreSQL LISTEN/NOTIFY, each store (schema) on its own channel."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from bot.live.bus import LocalBus, PostgresBus, bus_for
from bot.live.events import Event, Kind
from tests.conftest import scratch_database


def test_an_event_survives_json_and_a_foreign_payload_is_refused():
    event = Event(Kind.MESSAGE, "c_1", {"text": "x" * 5000, "role": "user"})
    back = Event.from_json(event.to_json())
    assert back.kind == Kind.MESSAGE and back.conversation_id == "c_1" and len(back.data["text"]) == 1000
    with pytest.raises(ValueError, match="not a live event"):
        Event.from_json('{"kind": "gossip", "conversation_id": "c"}')


def test_the_bus_follows_the_store():
    assert isinstance(bus_for("postgresql+psycopg://u@h/db"), PostgresBus)
    assert type(bus_for("sqlite:///x.db")) is LocalBus


def test_every_stream_of_the_process_hears_events_published_from_worker_threads():
    async def scenario() -> list[list[str]]:
        bus = LocalBus()
        await bus.start()
        async with bus.subscribe() as first, bus.subscribe() as second:
            worker = threading.Thread(target=lambda: bus.publish(Event(Kind.TYPING, "c_7", {"typing": True})))
            worker.start()
            worker.join()
            bus.publish(Event(Kind.TICKET, "c_8"))  # from the loop itself
            got = []
            for queue in (first, second):
                got.append([(await asyncio.wait_for(queue.get(), 2)).conversation_id for _ in range(2)])
        assert bus.fanout.listeners == 0  # a closed stream leaves nothing behind
        return got

    assert asyncio.run(scenario()) == [["c_7", "c_8"], ["c_7", "c_8"]]


@pytest.mark.skipif(not os.environ.get("FAQBOT_TEST_DATABASE_URL"), reason="needs PostgreSQL")
def test_replicas_hear_each_other_through_postgres_and_other_stores_stay_apart(tmp_path):
    def conninfo(url: str) -> str:
        return url.replace("postgresql+psycopg://", "postgresql://", 1)

    async def scenario(ours: str, theirs: str) -> tuple[list[Event], list[Event]]:
        one, two, other = (
            PostgresBus(conninfo(ours)),
            PostgresBus(conninfo(ours)),
            PostgresBus(conninfo(theirs)),
        )
        for bus in (one, two, other):
            await bus.start()
            assert bus.listening.is_set()
        try:
            async with two.subscribe() as heard, other.subscribe() as elsewhere:
                await asyncio.to_thread(
                    one.publish, Event(Kind.MESSAGE, "c_1", {"role": "user", "text": "ciao"})
                )
                got = [await asyncio.wait_for(heard.get(), 3)]
                await asyncio.sleep(0.3)
                return got, [elsewhere.get_nowait() for _ in range(elsewhere.qsize())]
        finally:
            for bus in (one, two, other):
                await bus.stop()

    with (
        scratch_database("postgresql", tmp_path, "live") as ours,
        scratch_database("postgresql", tmp_path, "other") as theirs,
    ):
        heard, elsewhere = asyncio.run(scenario(ours, theirs))
    assert [(e.kind, e.conversation_id, e.data["text"]) for e in heard] == [(Kind.MESSAGE, "c_1", "ciao")]
    assert elsewhere == []

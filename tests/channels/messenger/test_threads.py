"""Channel threads in the store (migration 0004): one conversation per user, redeliveries refused
across processes, the customer's last message time, thread owner (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.storage.channel_threads import INBOX, Threads
from bot.storage.migrate import upgrade
from bot.storage.schema import Base
from bot.storage.store import Store

NOW = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(database_url):
    store = Store(database_url).open()
    yield store
    store.close()


def test_migration_0004_matches_the_models_and_upgrades_an_older_store(store, database_url):
    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    columns = {c["name"] for c in inspect(store.engine).get_columns("conversations")}
    assert {"external_id", "last_customer_at", "thread_owner"} <= columns
    from alembic import command

    from bot.storage.migrate import alembic_config

    command.downgrade(alembic_config(store.engine), "0003")
    assert "inbound_events" not in inspect(store.engine).get_table_names()
    upgrade(store.engine)
    assert "inbound_events" in inspect(store.engine).get_table_names()


def test_one_conversation_per_user_and_redeliveries_refused_across_processes(store, database_url):
    threads = Threads(store, "messenger")
    first = threads.arrive("psid-1", "mid:a", NOW)
    assert first.status == "bot" and first.owner == "bot" and first.last_customer_at == NOW
    other_process = Threads(Store(database_url).open(), "messenger")
    assert other_process.arrive("psid-1", "mid:a", NOW) is None  # the platform redelivered it
    again = other_process.arrive("psid-1", "mid:b", NOW + dt.timedelta(minutes=1))
    assert again.conversation_id == first.conversation_id
    assert threads.arrive("psid-2", "mid:c", NOW).conversation_id != first.conversation_id
    assert Threads(store, "web-like").arrive("psid-1", "mid:a", NOW) is not None  # ids are per channel
    stored = store.messages(first.conversation_id)
    assert stored == []  # taking an event in records no message by itself
    other_process.store.close()


def test_concurrent_first_contact_makes_one_conversation_and_claims_once(store):
    threads = Threads(store, "messenger")
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda i: threads.arrive("psid-race", f"mid:{i}", NOW).conversation_id, range(8)))
        claims = list(pool.map(lambda _: threads.arrive("psid-race", "mid:same", NOW), range(8)))
    assert len(set(ids)) == 1
    assert sum(c is not None for c in claims) == 1


def test_last_message_time_moves_forward_only_and_not_for_channel_events(store):
    threads = Threads(store, "messenger")
    threads.arrive("psid-1", "mid:a", NOW)
    threads.arrive("psid-1", "mid:late", NOW - dt.timedelta(hours=1))  # delivered out of order
    thread = threads.arrive("psid-1", "pass:1", NOW + dt.timedelta(hours=2), customer=False)
    assert thread.last_customer_at == NOW
    assert threads.get(thread.conversation_id).last_customer_at == NOW


def test_hold_owner_notes_start_over_and_forgetting_events(store):
    threads = Threads(store, "messenger")
    thread = threads.arrive("psid-1", "mid:a", NOW)
    conversation_id = thread.conversation_id
    assert threads.open_ticket(conversation_id) is None
    ticket = threads.hold(conversation_id, "inbox")
    assert threads.hold(conversation_id, "inbox") == ticket == threads.open_ticket(conversation_id)
    threads.set_owner(conversation_id, INBOX)
    held = threads.get(conversation_id)
    assert (held.status, held.owner) == ("handoff", "inbox")
    with pytest.raises(ValueError):
        threads.set_owner(conversation_id, "nobody")
    threads.note(conversation_id, "user", "[image]")
    threads.note(conversation_id, "bot", "Posso leggere solo testo.", "attachment")
    assert [(m.role, m.text) for m in store.messages(conversation_id)] == [
        ("user", "[image]"),
        ("bot", "Posso leggere solo testo."),
    ]
    threads.start_over(conversation_id)
    assert Threads(store, "other").get(conversation_id) is None and threads.get("c_nope") is None
    assert threads.forget_events(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)) == 1
    assert threads.arrive("psid-1", "mid:a", NOW) is not None  # forgotten: taken in again


def test_a_replay_takes_in_again_an_event_whose_handling_never_finished(store):
    threads = Threads(store, "messenger")
    first = threads.arrive("psid-r", "mid.r1", NOW)
    assert first is not None
    assert threads.arrive("psid-r", "mid.r1", NOW) is None  # a redelivery while it is handled
    again = threads.arrive("psid-r", "mid.r1", NOW, again=True)  # the handler died before done()
    assert again is not None and again.conversation_id == first.conversation_id
    threads.done("mid.r1")
    assert threads.arrive("psid-r", "mid.r1", NOW, again=True) is None  # finished: never again


def test_migration_0005_marks_events_taken_in_before_it_as_done(store):
    from alembic import command
    from sqlalchemy import text

    from bot.storage.migrate import alembic_config

    threads = Threads(store, "messenger")
    command.downgrade(alembic_config(store.engine), "0004")
    with store.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO inbound_events (channel, event_id, created_at) VALUES ('messenger', 'old', :t)"
            ),
            {"t": NOW},
        )
    upgrade(store.engine)
    assert threads.arrive("psid-o", "old", NOW, again=True) is None

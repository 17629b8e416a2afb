"""The database out of reach: the store says so (`StoreUnavailable`) within seconds, and recovers."""

from __future__ import annotations

import time

import pytest
from sqlalchemy.exc import IntegrityError

from bot.storage.database import Limits
from bot.storage.schema import Conversation
from bot.storage.store import Store, StoreUnavailable


def test_a_cut_database_is_unavailable_at_once_and_the_store_recovers(proxied_url, db_proxy):
    store = Store(proxied_url).open()
    with store.session() as session:
        conversation = store.conversation_for_update(session, None, "web", "it")
    db_proxy.cut()  # pooled connections are reset under the store, new ones refused
    for attempt in (lambda: store.snapshot(conversation.id), lambda: store.open_tickets()):
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            attempt()
        assert time.monotonic() - started < 2
    with pytest.raises(StoreUnavailable), store.session() as session:
        store.conversation_for_update(session, None, "web", "it")
    db_proxy.restore()
    assert store.snapshot(conversation.id).status == "bot"  # the pool reconnects by itself
    store.close()


def test_a_black_holed_database_fails_within_the_connect_timeout(proxied_url, db_proxy):
    Store(proxied_url).open().close()  # the schema exists
    db_proxy.hang()  # connections are taken, and never answered
    store = Store(proxied_url, Limits(connect=2))
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        store.open()  # migrations run first: even they give up in time
    assert 1.5 < time.monotonic() - started < 6
    db_proxy.restore()


def test_a_bad_write_is_an_error_not_an_outage(database_url):
    store = Store(database_url).open()
    with store.session() as session:
        store.conversation_for_update(session, None, "web", "it", fresh_id="c_same")
    with pytest.raises(IntegrityError), store.session() as session:
        session.add(Conversation(id="c_same", channel="web", state={}))
    store.close()


def test_a_connection_lost_at_commit_is_in_doubt_and_one_lost_before_is_not(proxied_url, db_proxy):
    from sqlalchemy import event, text

    store = Store(proxied_url).open()
    with pytest.raises(StoreUnavailable) as before, store.session() as session:
        store.conversation_for_update(session, None, "web", "it")
        db_proxy.cut()
        session.execute(text("SELECT 1"))  # a statement before the COMMIT fails: nothing was committed
    assert not before.value.in_doubt
    db_proxy.restore()
    event.listen(store.engine, "commit", lambda connection: db_proxy.cut(), once=True)
    with pytest.raises(StoreUnavailable) as during, store.session() as session:
        store.conversation_for_update(session, None, "web", "it")
    assert during.value.in_doubt  # the COMMIT may or may not have reached the server
    db_proxy.restore()
    store.close()


def test_a_lock_left_behind_by_a_replica_cut_off_mid_transaction_holds_no_one_up_for_long(pg_schema):
    """A replica lost its network while holding a conversation's row lock: the others wait at most
    the lock timeout (the turn then goes to the spool), and the server ends the orphaned
    transaction after the idle timeout."""
    from tests.outage_kit import base_url, schema_url

    limits = Limits(lock=1, idle_in_transaction=2)
    cut_off, other = (Store(schema_url(base_url(), pg_schema), limits).open() for _ in range(2))
    with other.session() as session:
        conversation = other.conversation_for_update(session, None, "web", "it")
    stuck = cut_off.session()
    held = stuck.__enter__()
    cut_off.conversation_for_update(held, conversation.id, "web", "it")  # locked, and never finished
    started = time.monotonic()
    with pytest.raises(StoreUnavailable), other.session() as session:
        other.conversation_for_update(session, conversation.id, "web", "it")
    assert 0.9 < time.monotonic() - started < 3
    time.sleep(2.2)  # the server has ended the quiet transaction, and freed the row
    with other.session() as session:
        assert other.conversation_for_update(session, conversation.id, "web", "it").id == conversation.id
    with pytest.raises(StoreUnavailable):
        stuck.__exit__(None, None, None)  # its connection is gone: the commit cannot happen
    cut_off.close()
    other.close()

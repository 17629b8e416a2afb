"""The database out of reach: the store says so (`StoreUnavailable`) within seconds, and recovers."""

from __future__ import annotations

import time

import pytest
from sqlalchemy.exc import IntegrityError

from bot.models import Conversation
from bot.store import Store, StoreUnavailable


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
    store = Store(proxied_url, connect_timeout=2)
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

"""The store on SQLite (and PostgreSQL when FAQBOT_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from bot.dialogue.bot import ArticleView, ConversationState, Reply
from bot.storage.store import Store, UnknownConversation


@pytest.fixture
def store(database_url):
    store = Store(database_url).open()
    yield store
    store.close()


def reply(decision: str = "answer", article: str | None = "order-status") -> Reply:
    view = ArticleView(article, "Title", "it", "Summary", "Body", False) if article else None
    return Reply(decision, "it", 0.9, "Body", "confident", view, latency_ms=12.5)


def test_migrations_create_the_schema_and_are_idempotent(store, database_url):
    tables = set(inspect(store.engine).get_table_names())
    assert {"conversations", "messages", "feedback", "tickets", "alembic_version"} <= tables
    Store(database_url).open().close()  # a second process starting: nothing to do, no error


def test_sqlite_runs_in_wal_mode(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'wal.db'}").open()
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_state_and_turns_survive_across_store_instances(store, database_url):
    state = ConversationState(lang="it", misses=1, pending=(("a", "Title A"), ("b", "Title B")))
    with store.session() as session:
        conversation = store.conversation_for_update(session, None, "web", "it")
        message = store.record_turn(session, conversation, "ciao", reply("clarify", None), state)
        conversation_id, message_id = conversation.id, message.id
    other = Store(database_url).open()  # as another server process would
    with other.session() as session:
        loaded = other.conversation_for_update(session, conversation_id, "web", None)
        assert other.state_of(loaded) == state
    messages = other.messages(conversation_id)
    assert [(m.role, m.text) for m in messages] == [("user", "ciao"), ("bot", "Body")]
    bot = messages[1]
    assert (bot.id, bot.decision, bot.confidence, bot.latency_ms) == (message_id, "clarify", 0.9, 12.5)
    other.close()


def test_unknown_conversation_is_refused(store):
    with pytest.raises(UnknownConversation), store.session() as session:
        store.conversation_for_update(session, "c_missing", "web", None)


def test_feedback_must_point_at_its_own_conversation(store):
    ids = []
    for _ in range(2):
        with store.session() as session:
            conversation = store.conversation_for_update(session, None, "web", "it")
            message = store.record_turn(session, conversation, "q", reply(), ConversationState())
            ids.append((conversation.id, message.id))
    store.add_feedback(ids[0][0], ids[0][1], True, None)
    store.add_feedback(ids[0][0], None, False, "non mi ha aiutato")
    with pytest.raises(UnknownConversation):
        store.add_feedback(ids[0][0], ids[1][1], True, None)
    with pytest.raises(UnknownConversation):
        store.add_feedback("c_nope", None, True, None)


def test_tickets_queue_up_and_are_reused_per_conversation(store):
    results = []
    for _ in range(2):
        with store.session() as session:
            conversation = store.conversation_for_update(session, None, "web", "it")
            ticket, ahead = store.open_ticket(session, conversation, "requested")
            results.append((conversation.id, ticket.id, ahead))
    assert [r[2] for r in results] == [0, 1]
    with store.session() as session:
        conversation = store.conversation_for_update(session, results[1][0], "web", None)
        again, _ = store.open_ticket(session, conversation, "requested")
        assert again.id == results[1][1] and conversation.status == "handoff"

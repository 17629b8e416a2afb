"""Turns while the database is out of reach: answered, spooled durably, and in the store once it is
back (SQLite taken away by a switch; PostgreSQL cut off for real behind a TCP proxy)."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.dialogue.bot import Bot
from bot.dialogue.policy import Thresholds
from bot.durability.offline import Offline
from bot.durability.replay import Replayer
from bot.durability.spool import Spool
from bot.index.build import build_index
from bot.retrieval.language import LanguageDetector
from bot.retrieval.search import Retriever
from bot.service.chat import ChatService
from bot.storage.store import Store, StoreUnavailable, UnknownConversation
from bot.web.app import create_app
from tests.conftest import FakeEmbedder
from tests.outage_kit import SwitchableStore

ASK_EVERYTHING = Thresholds(answer=1.0, clarify=0.0)  # every question gets a "did you mean"


@pytest.fixture
def make_bot(small_kb, isolated_home):
    settings = Settings()
    embedder = FakeEmbedder()
    build_index(settings.build, embedder)

    def make(thresholds: Thresholds | None = None) -> Bot:
        retriever = Retriever.from_root(settings.index_path, embedder, LanguageDetector()).load()
        return Bot(retriever, thresholds or Thresholds())

    return make


@pytest.fixture
def spool(tmp_path):
    spool = Spool(tmp_path / "spool").open()
    yield spool
    spool.close()


def offline_service(bot: Bot, store, spool: Spool) -> ChatService:
    return ChatService(bot, store, offline=Offline(spool, retry_interval=0))


def users(store, conversation_id: str) -> list[str]:
    return [m.text for m in store.messages(conversation_id) if m.role == "user"]


def test_a_turn_without_the_database_is_answered_spooled_and_stored_when_it_is_back(make_bot, outage, spool):
    service = offline_service(make_bot(), outage.store, spool)
    outage.cut()
    turn = service.handle("Ho dimenticato la password", None, None, "web")
    assert turn.reply.decision == "answer" and turn.reply.article.article_id == "reset-password"
    assert turn.conversation_id.startswith("cs_") and spool.pending() == 1
    replayer = Replayer(outage.store, spool)
    assert replayer.drain().left == 1  # still away: the turn waits
    outage.restore()
    drained = replayer.drain()
    assert (drained.applied, drained.duplicates, drained.left) == (1, 0, 0)
    messages = outage.store.messages(turn.conversation_id)  # the ids the customer was given
    assert [(m.role, m.text) for m in messages][0] == ("user", "Ho dimenticato la password")
    assert messages[1].id == turn.message_id and messages[1].article_id == "reset-password"
    assert outage.store.snapshot(turn.conversation_id).state.last_article == "reset-password"
    assert replayer.drain() == type(drained)(0, 0, 0, 0)


def test_a_conversation_goes_on_offline_from_what_this_process_remembers(make_bot, outage, spool):
    service = offline_service(make_bot(ASK_EVERYTHING), outage.store, spool)
    asked = service.handle("costi spedizione", None, "it", "web")
    assert asked.reply.decision == "clarify"
    picked = asked.reply.suggestions[0].article_id
    outage.cut()
    answer = service.handle("1", asked.conversation_id, None, "web")  # "the first one you offered"
    assert answer.reply.decision == "answer" and answer.reply.article.article_id == picked
    outage.restore()
    Replayer(outage.store, spool).drain()
    assert users(outage.store, asked.conversation_id) == ["costi spedizione", "1"]
    assert outage.store.snapshot(asked.conversation_id).state.last_article == picked
    missed, total = outage.store.missed()
    assert total == 1 and missed[0].reason == "clarify"  # the clarification, logged online


def test_a_hand_off_offline_gets_a_ticket_that_reaches_the_queue(make_bot, outage, spool):
    service = offline_service(make_bot(), outage.store, spool)
    outage.cut()
    asked = service.handle("voglio parlare con un operatore", None, None, "web")
    assert asked.reply.decision == "handoff" and asked.handoff.ticket_id.startswith("t_")
    waiting = service.handle("sono ancora qui: mario.rossi@example.com", asked.conversation_id, None, "web")
    assert waiting.reply.decision == "agent" and waiting.handoff is None  # the bot stays silent,
    assert "mario.rossi@example.com" in waiting.reply.text  # but for where the answer will go
    silent = service.handle("ci siete?", asked.conversation_id, None, "web")
    assert (silent.reply.decision, silent.reply.text) == ("agent", "")
    outage.restore()
    assert Replayer(outage.store, spool).drain().applied == 3
    [(ticket, conversation)] = outage.store.open_tickets()
    assert ticket.id == asked.handoff.ticket_id and conversation.id == asked.conversation_id
    assert conversation.status == "handoff" and ticket.contact == "mario.rossi@example.com"
    missed, total = outage.store.missed()
    assert total == 1 and missed[0].reason == "handoff" and missed[0].conversation_id == asked.conversation_id


def test_conversation_ids_offline(make_bot, outage, spool):
    service = offline_service(make_bot(), outage.store, spool)
    outage.cut()
    with pytest.raises(UnknownConversation):
        service.handle("ciao", "not-one-of-ours", None, "web")
    unseen = "c_" + "0" * 32  # well formed: another process may have started it; nothing to check
    turn = service.handle("spese di spedizione", unseen, None, "web")
    assert turn.conversation_id == unseen and turn.reply.decision == "answer"
    outage.restore()
    Replayer(outage.store, spool).drain()
    assert users(outage.store, unseen) == ["spese di spedizione"]


def test_turns_wait_behind_the_spooled_turns_of_their_conversation(make_bot, outage, spool):
    service = offline_service(make_bot(), outage.store, spool)
    first = service.handle("spese di spedizione", None, None, "web")
    outage.cut()
    service.handle("voglio fare un reso", first.conversation_id, None, "web")
    outage.restore()
    service.handle("password persa", first.conversation_id, None, "web")  # must not overtake the reso
    other = service.handle("ciao", None, None, "web")
    assert spool.pending() == 2 and users(outage.store, other.conversation_id) == ["ciao"]
    Replayer(outage.store, spool).drain()
    assert users(outage.store, first.conversation_id) == [
        "spese di spedizione",
        "voglio fare un reso",
        "password persa",
    ]
    service.handle("grazie", first.conversation_id, None, "web")  # nothing waits: straight to the store
    assert spool.pending() == 0


def test_a_commit_that_went_through_before_the_connection_dropped_is_stored_once(
    make_bot, database_url, spool
):
    store = SwitchableStore(database_url).open()
    service = offline_service(make_bot(), store, spool)
    store.drop_after_commit = True  # the turn commits; the answer to COMMIT is lost
    turn = service.handle("spese di spedizione", None, None, "web")
    assert spool.pending() == 1  # the service could not know: it spooled the turn, same ids
    drained = Replayer(store, spool).drain()
    assert (drained.applied, drained.duplicates) == (0, 1)
    assert [m.id for m in store.messages(turn.conversation_id)][1] == turn.message_id
    assert len(store.messages(turn.conversation_id)) == 2
    store.close()


def test_a_replay_cut_short_by_a_crash_is_finished_by_the_next_process_without_duplicates(
    make_bot, database_url, tmp_path
):
    store = SwitchableStore(database_url).open()
    first = Spool(tmp_path / "spool").open()
    service = offline_service(make_bot(), store, first)
    store.down = True
    turns = [service.handle(f"domanda {n}", None, None, "web") for n in range(4)]
    store.down = False
    applied = 0
    real_session = store.session

    def dies_after_two():
        nonlocal applied
        if applied == 2:
            raise StoreUnavailable("the database went away again")
        applied += 1
        return real_session()

    store.session = dies_after_two
    assert Replayer(store, first, batch=1).drain().applied == 2
    first.close()  # the process dies here, its spool not finished
    store.session = real_session
    heir = Spool(tmp_path / "spool").open()
    drained = Replayer(store, heir).drain()
    assert (drained.applied, drained.duplicates, drained.left) == (2, 2, 0)
    for n, turn in enumerate(turns):
        assert users(store, turn.conversation_id) == [f"domanda {n}"]
    heir.close()
    store.close()


def test_without_a_spool_an_outage_is_a_503_with_retry_after(make_bot, isolated_home, tmp_path):
    store = SwitchableStore(f"sqlite:///{tmp_path / 'db.sqlite'}").open()
    with TestClient(create_app(Settings(), ChatService(make_bot(), store))) as client:
        store.down = True
        r = client.post("/api/v1/chat", json={"text": "spese di spedizione"})
        assert r.status_code == 503 and r.headers["Retry-After"] == "5" and r.json()["detail"]
    store.close()


def test_over_http_chat_goes_on_feedback_polling_and_admin_wait_and_the_gauge_follows_the_spool(
    make_bot, outage, spool
):
    service = offline_service(make_bot(), outage.store, spool)
    settings = Settings(replay_interval=0.1, admin_token="staff-token")
    with TestClient(create_app(settings, service)) as client:
        before = client.post("/api/v1/chat", json={"text": "spese di spedizione"}).json()
        outage.cut()
        r = client.post(
            "/api/v1/chat", json={"text": "voglio fare un reso", "conversation_id": before["conversation_id"]}
        )
        assert r.status_code == 200 and r.json()["decision"] == "answer"
        feedback = {"conversation_id": before["conversation_id"], "helpful": False}
        refused = client.post("/api/v1/feedback", json=feedback)
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
        polled = client.get(f"/api/v1/conversations/{before['conversation_id']}/messages")
        assert polled.status_code == 503
        queue = client.get("/api/v1/admin/handoffs", headers={"Authorization": "Bearer staff-token"})
        assert queue.status_code == 503 and queue.headers["Retry-After"] == "5"
        assert "faqbot_db_spool_pending 1.0" in client.get("/metrics").text
        time.sleep(0.3)  # the replayer tries, and fails, meanwhile
        outage.restore()
        deadline = time.monotonic() + 10
        while "faqbot_db_spool_pending 0.0" not in client.get("/metrics").text:
            assert time.monotonic() < deadline, "the spool never drained"
            time.sleep(0.05)
        assert client.post("/api/v1/feedback", json=feedback).status_code == 200
    assert users(outage.store, before["conversation_id"]) == ["spese di spedizione", "voglio fare un reso"]


def test_a_full_spool_is_a_503_never_a_200(make_bot, tmp_path):
    store = SwitchableStore(f"sqlite:///{tmp_path / 'db.sqlite'}").open()
    spool = Spool(tmp_path / "spool", max_bytes=4096).open()
    with TestClient(create_app(Settings(), offline_service(make_bot(), store, spool))) as client:
        store.down = True
        long = {"text": "spese di spedizione " * 60}  # about 1.2 kB, twice in a turn's record
        statuses = [client.post("/api/v1/chat", json=long).status_code for _ in range(6)]
    assert 200 in statuses and statuses[-1] == 503
    assert statuses.count(200) == spool.pending() and spool.pending() < 6
    spool.close()
    store.close()


def test_a_conversation_started_offline_elsewhere_goes_on_here_before_its_spool_is_replayed(
    make_bot, database_url, tmp_path
):
    """Process one starts a conversation while the database is away; it is back, and the customer's
    next turn reaches process two before process one has replayed: answered, not a 404."""
    store = SwitchableStore(database_url).open()
    one_spool, two_spool = Spool(tmp_path / "one").open(), Spool(tmp_path / "two").open()
    one, two = offline_service(make_bot(), store, one_spool), offline_service(make_bot(), store, two_spool)
    store.down = True
    started = one.handle("spese di spedizione", None, None, "web")
    assert started.conversation_id.startswith("cs_")  # says: born in a spool
    store.down = False
    went_on = two.handle("voglio fare un reso", started.conversation_id, None, "web")
    assert went_on.conversation_id == started.conversation_id and two_spool.pending() == 1
    with pytest.raises(UnknownConversation):  # an ordinary unknown id is still a 404
        two.handle("ciao", "c_" + "9" * 32, None, "web")
    Replayer(store, two_spool).drain()  # the second turn lands first...
    Replayer(store, one_spool).drain()  # ...and the transcript is in order all the same
    assert users(store, started.conversation_id) == ["spese di spedizione", "voglio fare un reso"]
    for spool in (one_spool, two_spool):
        spool.close()
    store.close()


def test_a_connection_lost_at_commit_spools_the_turn_with_the_same_ids(
    make_bot, proxied_url, db_proxy, spool
):
    from sqlalchemy import event

    store = Store(proxied_url).open()
    service = offline_service(make_bot(), store, spool)
    event.listen(store.engine, "commit", lambda connection: db_proxy.cut(), once=True)
    turn = service.handle("spese di spedizione", None, None, "web")
    assert turn.conversation_id.startswith("c_")  # in doubt: the id the COMMIT carried
    db_proxy.restore()
    drained = Replayer(store, spool).drain()
    assert drained.applied + drained.duplicates == 1
    assert [m.id for m in store.messages(turn.conversation_id)][1] == turn.message_id
    store.close()

"""Messenger deliveries are durable once Meta has its 200: kept (fsync'd) in the inbox, and answered
once the database is back (SQLite taken away by a switch; PostgreSQL cut off behind a TCP proxy),
after a restart, or by another process when the one that took them is SIGKILLed."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from bot.durability.spool import read_segment
from bot.storage.store import Store
from tests.conftest import REPO
from tests.messenger_kit import text


def inbox(page):
    return page.client.app.state.messenger.deliveries.inbox


def wait_until(predicate, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def users(store: Store, conversation_id: str) -> list[str]:
    return [m.text for m in store.messages(conversation_id) if m.role == "user"]


def conversation_of(store: Store, psid: str) -> str:
    from bot.service.gdpr import messenger_conversations

    (conversation_id,) = messenger_conversations(store, psid)
    return conversation_id


def test_events_acknowledged_during_an_outage_are_answered_once_when_it_is_back(open_page, graph, outage):
    page = open_page(store=outage.store)
    first = text("psid-out", "Ho dimenticato la password", mid="m_outage_1")
    second = text("psid-out", "quanto costa la spedizione", mid="m_outage_2")
    outage.cut()
    assert page.deliver(first) == 200 and page.deliver(second) == 200
    assert page.deliver(first) == 200  # Meta redelivers: no answer came
    page.settle()
    assert graph.sent("psid-out") == [] and inbox(page).pending() == 3
    outage.restore()
    wait_until(lambda: inbox(page).pending() == 0 and len(graph.sent("psid-out")) == 2)
    assert page.deliver(first) == 200  # a redelivery after the replay: still one answer
    page.settle()
    time.sleep(1.5)  # one more replay round
    sent = [m["text"] for m in graph.sent("psid-out")]
    assert len(sent) == 2 and sent[0].startswith("Clicca su Password dimenticata?")
    conversation = conversation_of(outage.store, "psid-out")
    assert users(outage.store, conversation) == ["Ho dimenticato la password", "quanto costa la spedizione"]
    assert not list((page.client.app.state.settings.inbox_path).glob("*.jsonl"))


def test_events_left_by_a_server_that_stopped_are_answered_after_a_restart(open_page, graph, outage):
    before = open_page(store=outage.store)
    outage.cut()
    assert before.deliver(text("psid-restart", "Ho dimenticato la password", mid="m_restart")) == 200
    before.close()  # shuts down while the database is away: the event stays on disk
    assert graph.sent("psid-restart") == []
    outage.restore()
    after = open_page(store=outage.store)  # the next process on this machine adopts the inbox
    wait_until(lambda: len(graph.sent("psid-restart")) == 1 and inbox(after).pending() == 0)
    conversation = conversation_of(outage.store, "psid-restart")
    assert users(outage.store, conversation) == ["Ho dimenticato la password"]


KILLED_AFTER_THE_200 = """
import os, signal, sys, types
from pathlib import Path
from fastapi.testclient import TestClient
from bot.web.app import create_app
from bot.service.chat import ChatService
from bot.dialogue.bot import Bot
from bot.retrieval.language import LanguageDetector
from bot.dialogue.policy import Thresholds
from bot.retrieval.search import Retriever
from tests.conftest import FakeEmbedder
from tests.messenger_kit import Page, messenger_settings, text
from tests.outage_kit import SwitchableStore

home, graph_url, database, spool = sys.argv[1:5]
settings = messenger_settings(Path(home), types.SimpleNamespace(url=graph_url), spool_dir=spool)
store = SwitchableStore(database).open()
store.down = True  # the event cannot be handled before the process dies
retriever = Retriever.from_root(settings.index_path, FakeEmbedder(), LanguageDetector()).load()
client = TestClient(create_app(settings, ChatService(Bot(retriever, Thresholds()), store)))
client.__enter__()
status = Page(client, store).deliver(text("psid-killed", "Ho dimenticato la password", mid="m_killed"))
print(status, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_events_of_a_process_killed_right_after_the_200_are_answered_by_another(
    open_page, graph, messenger_home, tmp_path
):
    home, _ = messenger_home
    database, spool = f"sqlite:///{tmp_path / 'store.db'}", tmp_path / "spool"
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_THE_200, str(home), graph.url, database, str(spool)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert killed.stdout.strip() == "200"  # Meta was told the event was received
    kept = [r for path in (spool / "inbox").glob("*.jsonl") for r in read_segment(path).records]
    assert graph.sent("psid-killed") == [] and [r["key"] for r in kept] == ["m_killed"]
    survivor = open_page(database)  # another process on the same machine and database
    wait_until(lambda: len(graph.sent("psid-killed")) == 1 and inbox(survivor).pending() == 0)
    conversation = conversation_of(survivor.store, "psid-killed")
    assert users(survivor.store, conversation) == ["Ho dimenticato la password"]
    assert not list((spool / "inbox").glob("*.jsonl"))


def test_an_event_cut_short_after_it_was_taken_in_is_answered_by_the_replay(open_page, graph, monkeypatch):
    from bot.storage.store import StoreUnavailable

    page = open_page(replay_interval=0.2)
    chat = page.client.app.state.chat
    real, calls = chat.handle, []

    def cut_short(*args, **kwargs):  # the event's id is recorded, then the database goes away
        calls.append(args[0])
        if len(calls) == 1:
            raise StoreUnavailable("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(chat, "handle", cut_short)
    assert page.deliver(text("psid-cut", "Ho dimenticato la password", mid="m_cut_1")) == 200
    wait_until(lambda: inbox(page).pending() == 0 and len(graph.sent("psid-cut")) == 1)
    assert calls == ["Ho dimenticato la password"] * 2
    assert page.deliver(text("psid-cut", "Ho dimenticato la password", mid="m_cut_1")) == 200
    page.settle()
    time.sleep(0.5)  # a replay round: the finished event is not answered again
    assert len(graph.sent("psid-cut")) == 1

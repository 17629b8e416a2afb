"""Access and erasure requests reach the spool: `faqbot gdpr export` lists the turns and Messenger
events still waiting for the database, and `faqbot gdpr erase` removes them, so that a replay
never recreates an erased conversation (in files of stopped servers, rewritten; in files of a
running server, tombstoned and dropped by its replay)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.config import Settings
from bot.dialogue.bot import Bot
from bot.dialogue.policy import Thresholds
from bot.durability.inbox import event_record
from bot.durability.offline import Offline
from bot.durability.replay import Replayer
from bot.durability.spool import Spool, read_segment
from bot.retrieval.language import LanguageDetector
from bot.retrieval.search import Retriever
from bot.service.chat import ChatService
from tests.conftest import FakeEmbedder
from tests.outage_kit import SwitchableStore

EMAIL = "paolo.verdi@example.com"
runner = CliRunner()


@pytest.fixture
def replica(small_index_home, tmp_path, monkeypatch):
    """A server's chat service whose database the test takes away; the CLI reaches the database
    (FAQBOT_DATABASE_URL) and this machine's spool (FAQBOT_HOME/var/spool) as `faqbot gdpr` would."""
    url = f"sqlite:///{tmp_path / 'gdpr.db'}"
    monkeypatch.setenv("FAQBOT_DATABASE_URL", url)
    store = SwitchableStore(url).open()
    spool = Spool(Settings().spool_path).open()
    retriever = Retriever.from_root(small_index_home / "index", FakeEmbedder(), LanguageDetector()).load()
    service = ChatService(Bot(retriever, Thresholds()), store, offline=Offline(spool, retry_interval=0))
    yield service
    spool.close()
    store.close()


def gdpr(*args: str) -> dict:
    result = runner.invoke(app, ["gdpr", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def spooled_turns(replica: ChatService) -> tuple[str, str]:
    """Two conversations started online, each with a turn spooled while the database is away."""
    cid = replica.handle("Ho dimenticato la password", None, "it", "web").conversation_id
    other = replica.handle("quanto costa la spedizione", None, "it", "web").conversation_id
    replica.store.down = True
    replica.handle(f"scrivetemi a {EMAIL}", cid, "it", "web")
    replica.handle("e per le isole?", other, "it", "web")
    assert replica.offline.spool.pending() == 2
    return cid, other


def spool_bytes() -> bytes:
    return b"".join(
        p.read_bytes() for p in Settings().spool_path.rglob("*.jsonl") if p.name != "erased.jsonl"
    )


def test_export_lists_spooled_turns_and_erase_tombstones_those_of_a_running_server(replica):
    cid, other = spooled_turns(replica)
    data = gdpr("export", "--conversation", cid)
    assert [m["text"] for m in data["conversations"][0]["messages"] if m["role"] == "user"] == [
        "Ho dimenticato la password"
    ]
    assert [r["text"] for r in data["spooled"]] == [f"scrivetemi a {EMAIL}"]  # not in the database yet

    counts = gdpr("erase", "--conversation", cid, "--yes")
    assert counts["conversations"] == 1 and counts["spooled_held"] == 1  # the replica's own file
    assert gdpr("export", "--conversation", cid)["spooled"] == []
    replica.store.down = False
    drained = Replayer(replica.store, replica.offline.spool).drain()
    assert (drained.applied, drained.erased, drained.left) == (1, 1, 0)
    assert gdpr("export", "--conversation", cid)["conversations"] == []  # not recreated by the replay
    assert EMAIL.encode() not in spool_bytes()
    assert len(replica.store.messages(other)) == 4  # another customer's spooled turn is stored


def test_erase_rewrites_the_files_a_stopped_server_left_and_the_rejected_records(replica):
    cid, other = spooled_turns(replica)
    spool = replica.offline.spool
    spool.reject({"kind": "turn", "conversation_id": cid, "text": EMAIL}, "a test")
    spool.close()  # the server stops while the database is away: its files wait for adoption
    counts = gdpr("erase", "--conversation", cid, "--yes")
    assert counts["spooled_removed"] == 2 and counts["spooled_held"] == 0
    assert EMAIL.encode() not in spool_bytes()
    replica.store.down = False
    after = Spool(Settings().spool_path).open()  # the next server on this machine
    try:
        drained = Replayer(replica.store, after).drain()
    finally:
        after.close()
    assert (drained.applied, drained.left) == (1, 0)
    assert gdpr("export", "--conversation", cid)["conversations"] == []
    assert (
        gdpr("export", "--conversation", other)["conversations"][0]["messages"][-2]["text"]
        == "e per le isole?"
    )


def test_messenger_events_in_the_inbox_are_exported_and_erased_by_user(replica):
    inbox = Spool(Settings().inbox_path, key="user").open()
    raw = {"sender": {"id": "psid-9"}, "message": {"mid": "m_9", "text": f"sono {EMAIL}"}}
    inbox.append(event_record("messenger", "m_9", "psid-9", standby=False, event=raw))
    inbox.append(event_record("messenger", "m_10", "psid-10", standby=False, event={}))
    inbox.close()
    data = gdpr("export", "--messenger-user", "psid-9")
    assert [r["event"]["message"]["text"] for r in data["spooled"]] == [f"sono {EMAIL}"]
    counts = gdpr("erase", "--messenger-user", "psid-9", "--yes")
    assert counts["spooled_removed"] == 1
    segments = [p for p in Settings().inbox_path.glob("*.jsonl") if p.name != "erased.jsonl"]
    kept = [r["user"] for p in segments for r in read_segment(p).records]
    assert kept == ["psid-10"] and EMAIL.encode() not in spool_bytes()

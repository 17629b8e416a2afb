"""Access and erasure requests: `faqbot gdpr export|erase` on SQLite and (in CI) PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.dialogue.bot import Bot
from bot.dialogue.policy import Thresholds
from bot.retrieval.language import LanguageDetector
from bot.retrieval.search import Retriever
from bot.service.chat import ChatService
from bot.service.gdpr import MessengerLookupUnavailable, erase, export, messenger_conversations
from bot.storage.schema import Conversation
from bot.storage.store import Store
from tests.conftest import FakeEmbedder

runner = CliRunner()
EMAIL = "giulia.bianchi@example.com"


@pytest.fixture
def service(small_index_home, database_url, monkeypatch):
    """A chat service over the small KB and a fresh database, which the CLI also uses."""
    monkeypatch.setenv("FAQBOT_DATABASE_URL", database_url)
    retriever = Retriever.from_root(small_index_home / "index", FakeEmbedder(), LanguageDetector()).load()
    store = Store(database_url).open()
    yield ChatService(Bot(retriever, Thresholds()), store)
    store.close()


def customer(service: ChatService) -> str:
    """A conversation with everything a customer can leave: answer, miss, feedback, ticket, agent."""
    first = service.handle("Ho dimenticato la password", None, "it", "web")
    cid = first.conversation_id
    service.feedback(cid, first.message_id, False, f"non funziona, scrivetemi a {EMAIL}")
    service.handle(f"ecco la mia mail {EMAIL}", cid, "it", "web")
    [(ticket, _)] = [(t, c) for t, c in service.store.open_tickets() if c.id == cid]
    service.store.agent_message(ticket.id, "Buongiorno, la ricontattiamo.", close=False)
    return cid


def test_export_holds_everything_about_the_conversation(service):
    cid = customer(service)
    other = service.handle("voglio parlare con un operatore", None, "it", "web").conversation_id
    data = export(service.store, [cid, "c_unknown"])
    [conversation] = data["conversations"]
    assert conversation["id"] == cid and conversation["channel"] == "web"
    roles = [m["role"] for m in conversation["messages"]]
    assert roles[:2] == ["user", "bot"] and "agent" in roles
    assert conversation["messages"][0]["text"] == "Ho dimenticato la password"
    assert any(EMAIL in m["text"] for m in conversation["messages"]), (
        "the transcript as the customer wrote it"
    )
    assert conversation["feedback"][0]["helpful"] is False and EMAIL in conversation["feedback"][0]["comment"]
    assert conversation["tickets"][0]["contact"] == EMAIL
    assert conversation["missed_queries"] and all(
        EMAIL not in q["text"] for q in conversation["missed_queries"]
    )
    json.dumps(data)  # JSON-ready
    assert other not in json.dumps(data)


def test_erase_deletes_it_all_and_nothing_else(service):
    cid = customer(service)
    other = service.handle("voglio parlare con un operatore", None, "it", "web").conversation_id
    before = export(service.store, [cid])["conversations"][0]
    counts = erase(service.store, [cid])
    assert counts == {
        "conversations": 1,
        "messages": len(before["messages"]),
        "feedback": len(before["feedback"]),
        "tickets": len(before["tickets"]),
        "missed_queries": len(before["missed_queries"]),
        "outbox": 0,
    }
    assert counts["messages"] >= 5 and counts["missed_queries"] >= 1
    assert export(service.store, [cid]) == {"conversations": []}
    rows, _ = service.store.missed(status=None, limit=500)
    assert all(m.conversation_id != cid for m in rows), "missed questions are deleted, not orphaned"
    assert all(EMAIL not in m.text for m in rows)
    kept = export(service.store, [other])["conversations"]
    assert kept and kept[0]["missed_queries"], "another customer's data stays"
    assert erase(service.store, [cid])["conversations"] == 0


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, ["gdpr", *args], input=input)


def test_cli_export_and_erase(service, tmp_path):
    cid = customer(service)
    other = service.handle("voglio parlare con un operatore", None, "it", "web").conversation_id
    shown = invoke("export", "--conversation", cid)
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["request"]["conversation_ids"] == [cid] and data["conversations"][0]["id"] == cid
    out = tmp_path / "export.json"
    assert invoke("export", "--conversation", cid, "--conversation", other, "--out", str(out)).exit_code == 0
    assert len(json.loads(out.read_text(encoding="utf-8"))["conversations"]) == 2

    refused = invoke("erase", "--conversation", cid, input="n\n")
    assert refused.exit_code == 1 and export(service.store, [cid])["conversations"], "nothing erased"
    done = invoke("erase", "--conversation", cid, "--yes")
    assert done.exit_code == 0, done.output
    counts = json.loads(done.output)
    assert counts["conversations"] == 1 and counts["messages"] >= 5
    assert json.loads(invoke("export", "--conversation", cid).output)["conversations"] == []
    assert export(service.store, [other])["conversations"]


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--conversation", "c_x", "--messenger-user", "123"],
        ["--messenger-user", "1", "--whatsapp-user", "39"],
    ],
)
def test_cli_needs_exactly_one_way_to_name_the_customer(service, args):
    for command in ("export", "erase"):
        result = invoke(command, *args, "--yes") if command == "erase" else invoke(command, *args)
        assert result.exit_code == 2 and "one of --conversation" in result.output


def test_messenger_users_are_found_through_the_store(service, monkeypatch):
    cid = customer(service)
    if not hasattr(Conversation, "external_id"):  # a schema that does not record Messenger users
        with pytest.raises(MessengerLookupUnavailable, match="external_id"):
            messenger_conversations(service.store, "psid-1")
        result = invoke("export", "--messenger-user", "psid-1")
        assert result.exit_code == 2 and "--conversation" in result.output

    # What the Messenger channel provides: the conversations of a page-scoped id.
    monkeypatch.setattr(
        Store, "messenger_conversations", lambda self, psid: [cid] if psid == "psid-1" else [], raising=False
    )
    assert messenger_conversations(service.store, "psid-1") == [cid]
    data = json.loads(invoke("export", "--messenger-user", "psid-1").output)
    assert data["request"]["messenger_user"] == "psid-1" and data["conversations"][0]["id"] == cid
    assert json.loads(invoke("erase", "--messenger-user", "psid-2", "--yes").output)["conversations"] == 0
    assert json.loads(invoke("erase", "--messenger-user", "psid-1", "--yes").output)["conversations"] == 1


def test_messenger_users_are_found_by_their_page_scoped_id(service):
    """Runs once the Messenger channel's schema (conversations.external_id) is in."""
    if not hasattr(Conversation, "external_id"):
        pytest.skip("no conversations.external_id in this schema yet (the Messenger channel adds it)")
    web = customer(service)
    with service.store.session() as session:
        for cid, external in (("c_msgr_1", "psid-7"), ("c_msgr_2", "psid-8")):
            session.add(Conversation(id=cid, channel="messenger", external_id=external, state={}))
    assert messenger_conversations(service.store, "psid-7") == ["c_msgr_1"]
    assert json.loads(invoke("erase", "--messenger-user", "psid-7", "--yes").output)["conversations"] == 1
    assert messenger_conversations(service.store, "psid-7") == []
    assert export(service.store, [web, "c_msgr_2"])["conversations"][1]["id"] == "c_msgr_2"


def test_whatsapp_and_instagram_users_are_found_by_their_ids_and_their_spooled_events_go_too(
    service, tmp_path, monkeypatch
):
    from bot.durability.inbox import event_record
    from bot.durability.spool import Spool

    monkeypatch.setenv("FAQBOT_SPOOL_DIR", str(tmp_path / "spool"))
    with service.store.session() as session:
        for cid, external in (("c_wa_1", "393331112222"), ("c_wa_2", "393334445555")):
            session.add(Conversation(id=cid, channel="whatsapp", external_id=external, state={}))
    inbox = Spool(tmp_path / "spool" / "inbox" / "whatsapp", 2**20, key="user").open()
    inbox.append(event_record("whatsapp", "wamid.1", "393331112222", event={"text": "il mio indirizzo"}))
    inbox.close()
    data = json.loads(invoke("export", "--whatsapp-user", "393331112222").stdout)
    assert [c["id"] for c in data["conversations"]] == ["c_wa_1"]
    assert data["request"]["whatsapp_user"] == "393331112222"
    assert [r["event"]["text"] for r in data["spooled"]] == ["il mio indirizzo"]
    erased = json.loads(invoke("erase", "--whatsapp-user", "393331112222", "--yes").stdout)
    assert erased["conversations"] == 1 and erased["spooled_removed"] == 1
    assert json.loads(invoke("export", "--whatsapp-user", "393331112222").stdout)["spooled"] == []
    assert export(service.store, ["c_wa_2"])["conversations"]
    with service.store.session() as session:
        session.add(Conversation(id="c_ig_1", channel="instagram", external_id="1784", state={}))
    shown = json.loads(invoke("export", "--instagram-user", "1784").stdout)
    assert [c["id"] for c in shown["conversations"]] == ["c_ig_1"]


def test_erased_text_is_left_neither_in_the_sqlite_file_nor_in_its_write_ahead_log(service, database_url):
    """Found by a red-team pass: an erased conversation's raw text stayed in SQLite's WAL until
    the server stopped."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL keeps dead rows until VACUUM (documented)")
    secret = "la mia parola segreta è zebra-quantica-42"
    cid = service.handle(secret, None, "it", "web").conversation_id
    path = database_url.removeprefix("sqlite:///")
    erase(service.store, [cid])
    for file in (Path(path), Path(path + "-wal")):
        assert not file.exists() or b"zebra-quantica" not in file.read_bytes(), file.name


def test_the_database_and_an_export_are_readable_by_their_owner_only(tmp_path, service, database_url):
    Store.for_settings(None, tmp_path / "var").close()
    assert (tmp_path / "var" / "faqbot.db").stat().st_mode & 0o777 == 0o600
    cid = customer(service)
    out = tmp_path / "export.json"
    assert invoke("export", "--conversation", cid, "--out", str(out)).exit_code == 0
    assert out.stat().st_mode & 0o777 == 0o600

"""The live hand-off over HTTP: the customer's side (silence while a person holds the conversation,
the agent's messages polled or streamed, typing, an e-mail to be answered at, leaving), topics for
an empty chat, and the staff event stream, on a real uvicorn server for the streams."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.web.app import create_app
from tests.serve_kit import free_port
from tests.sse_kit import Stream

TOKEN = "staff-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def service(quick_service, monkeypatch):
    monkeypatch.setenv("FAQBOT_ADMIN_TOKEN", TOKEN)
    return quick_service()


@pytest.fixture
def client(service):
    with TestClient(create_app(Settings(), service)) as client:
        yield client


@contextmanager
def serving(service) -> Iterator[str]:
    """The app on a real uvicorn server in a thread (streams need one), until the block ends."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(Settings(), service), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(10)


def _hand_off(client, lang: str = "it") -> dict:
    text = "voglio parlare con un operatore" if lang == "it" else "I want to talk to a person"
    reply = client.post("/api/v1/chat", json={"text": text, "lang": lang}).json()
    assert reply["decision"] == "handoff"
    return reply


def test_the_wait_is_said_once_then_the_bot_is_silent_until_the_agent_hands_back(client):
    opened = _hand_off(client)
    handoff = opened["handoff"]
    assert handoff["reference"].startswith("LC-") and handoff["position"] == 1
    assert handoff["agents_online"] == 0 and "nessun operatore è collegato" in opened["text"]
    cid = opened["conversation_id"]
    for text in ("ci siete?", "va bene, grazie"):
        held = client.post("/api/v1/chat", json={"text": text, "conversation_id": cid}).json()
        assert (held["decision"], held["text"], held["handoff"]) == ("agent", "", None)
    said = client.post(
        "/api/v1/chat", json={"text": "scrivetemi a anna@example.it", "conversation_id": cid}
    ).json()
    assert said["decision"] == "agent" and "anna@example.it" in said["text"]
    ticket = handoff["ticket_id"]
    client.post(f"/api/v1/admin/handoffs/{ticket}/note", json={"text": "cliente abituale"}, headers=AUTH)
    client.post(f"/api/v1/admin/handoffs/{ticket}/claim", json={"agent": "Giulia"}, headers=AUTH)
    sent = client.post(f"/api/v1/admin/handoffs/{ticket}/reply", json={"text": "Eccomi"}, headers=AUTH)
    assert sent.status_code == 200
    polled = client.get(f"/api/v1/conversations/{cid}/messages").json()
    assert polled["status"] == "handoff" and polled["agent"] == "Giulia"
    assert [(m["role"], m["author"], m["text"]) for m in polled["messages"]] == [
        ("system", "Giulia", "Ti risponde Giulia del servizio clienti."),
        ("agent", "admin", "Eccomi"),
    ]  # the private note is not there
    after = client.get(f"/api/v1/conversations/{cid}/messages", params={"after": polled["messages"][0]["id"]})
    assert [m["text"] for m in after.json()["messages"]] == ["Eccomi"]
    assert client.post(f"/api/v1/admin/handoffs/{ticket}/close", headers=AUTH).status_code == 200
    back = client.get(f"/api/v1/conversations/{cid}/messages").json()
    assert back["status"] == "bot" and back["agent"] is None and back["messages"][-1]["role"] == "system"


def test_the_queue_lists_reference_unread_count_and_the_last_message(client):
    opened = _hand_off(client, "en")
    cid = opened["conversation_id"]
    client.post("/api/v1/chat", json={"text": "hello?", "conversation_id": cid})
    second = _hand_off(client)
    assert second["handoff"]["position"] == 2 and "un'altra persona" in second["text"]
    items = client.get("/api/v1/admin/handoffs", headers=AUTH).json()["items"]
    first = items[0]
    assert (first["reference"], first["unread"], first["last_text"], first["answered"]) == (
        opened["handoff"]["reference"], 2, "hello?", False,
    )  # fmt: skip
    ticket = first["ticket_id"]
    assert client.post(f"/api/v1/admin/handoffs/{ticket}/read", headers=AUTH).status_code == 204
    assert client.get("/api/v1/admin/handoffs", headers=AUTH).json()["items"][0]["unread"] == 0
    assert client.post("/api/v1/admin/handoffs/t_nope/claim", headers=AUTH).status_code == 404


def test_an_email_to_be_answered_at_is_checked_and_kept(client):
    cid = _hand_off(client, "en")["conversation_id"]
    bad = client.post(f"/api/v1/conversations/{cid}/contact", json={"email": "not an address"})
    assert bad.status_code == 422 and "email" in bad.json()["detail"]
    good = client.post(f"/api/v1/conversations/{cid}/contact", json={"email": "anna@example.com"})
    assert good.status_code == 200 and "anna@example.com" in good.json()["message"]
    assert (
        client.get("/api/v1/admin/handoffs", headers=AUTH).json()["items"][0]["contact"] == "anna@example.com"
    )
    unknown = client.post("/api/v1/conversations/c_0123456789abcdef/contact", json={"email": "a@b.example"})
    assert unknown.status_code == 409  # no open hand-off there


def test_the_customer_leaving_closes_the_hand_off_and_typing_needs_one(client):
    cid = _hand_off(client)["conversation_id"]
    assert client.post(f"/api/v1/conversations/{cid}/typing", json={"typing": True}).status_code == 204
    left = client.post(f"/api/v1/conversations/{cid}/end")
    assert left.json() == {"ok": True, "closed": True}
    assert client.get("/api/v1/admin/handoffs", headers=AUTH).json()["items"] == []
    assert client.post(f"/api/v1/conversations/{cid}/end").json()["closed"] is False
    assert client.post(f"/api/v1/conversations/{cid}/typing", json={"typing": True}).status_code == 409
    assert client.post("/api/v1/conversations/c_0123456789abcdef/end").status_code == 404
    assert client.post(f"/api/v1/conversations/{cid}/typing", json={"typing": "yes"}).status_code == 422


def test_an_empty_chat_offers_the_most_answered_topics_of_its_language(client, service):
    client.post("/api/v1/chat", json={"text": "come restituisco un prodotto"})
    answered = client.post("/api/v1/chat", json={"text": "come restituisco un prodotto"}).json()
    assert answered["decision"] == "answer"
    topics = client.get("/api/v1/suggestions", params={"lang": "it", "limit": 3}).json()["suggestions"]
    assert topics[0]["article_id"] == answered["answer"]["article_id"] and len(topics) <= 3
    langs = {service.bot.retriever.article(t["article_id"]).lang for t in topics}
    assert langs == {"it"}
    english = client.get("/api/v1/suggestions", params={"lang": "en"}).json()["suggestions"]
    assert {service.bot.retriever.article(t["article_id"]).lang for t in english} == {"en"}
    assert client.get("/api/v1/suggestions", params={"lang": "fr"}).status_code == 422


def test_the_customer_stream_carries_the_agent_live_and_never_a_note(service):
    with serving(service) as base:
        http = httpx.Client(base_url=base)
        opened = http.post("/api/v1/chat", json={"text": "voglio parlare con un operatore"}).json()
        cid, ticket = opened["conversation_id"], opened["handoff"]["ticket_id"]
        stream = Stream(f"{base}/api/v1/conversations/{cid}/events")
        try:
            assert stream.status == 200 and stream.content_type.startswith("text/event-stream")
            assert stream.next("status") == {"status": "handoff", "agent": None}
            http.post(f"/api/v1/admin/handoffs/{ticket}/note", json={"text": "segreto"}, headers=AUTH)
            http.post(f"/api/v1/admin/handoffs/{ticket}/typing", json={"typing": True}, headers=AUTH)
            assert stream.next("typing") == {"typing": True, "author": "admin"}
            http.post(
                f"/api/v1/admin/handoffs/{ticket}/reply", json={"text": "Eccomi"},
                headers=AUTH | {"X-Faqbot-User": "Giulia"},
            )  # fmt: skip
            joined, reply = stream.next("message"), stream.next("message", 1)
            assert (joined["role"], joined["author"]) == ("system", "Giulia")
            assert (reply["role"], reply["author"], reply["text"]) == ("agent", "Giulia", "Eccomi")
            assert stream.next("status", 1) == {"status": "handoff", "agent": "Giulia"}
            http.post(f"/api/v1/admin/handoffs/{ticket}/close", headers=AUTH)
            assert stream.next("status", 2)["status"] == "bot"
            assert all(data.get("text") != "segreto" for _kind, data in stream.events)
        finally:
            stream.close()
        missing = http.get("/api/v1/conversations/c_0123456789abcdef/events")
        assert missing.status_code == 404


def test_staff_hear_every_customer_message_of_a_hand_off_with_token_or_agent_password(service):
    from bot.service.agents import add_agent

    add_agent(service.store, "Giulia", "it", "a long enough password")
    with serving(service) as base:
        http = httpx.Client(base_url=base)
        assert http.get("/api/v1/admin/events").status_code == 401
        wrong = base64.b64encode(b"Giulia:wrong").decode()
        assert (
            http.get("/api/v1/admin/events", headers={"Authorization": f"Basic {wrong}"}).status_code == 401
        )
        password = base64.b64encode(b"Giulia:a long enough password").decode()
        admin = Stream(f"{base}/api/v1/admin/events", AUTH)
        agent = Stream(f"{base}/api/v1/admin/events", {"Authorization": f"Basic {password}"})
        try:
            assert admin.status == agent.status == 200
            http.post("/api/v1/chat", json={"text": "come restituisco un prodotto"})  # not a hand-off
            opened = http.post("/api/v1/chat", json={"text": "voglio parlare con un operatore"}).json()
            cid = opened["conversation_id"]
            http.post("/api/v1/chat", json={"text": "ci siete?", "conversation_id": cid})
            for stream in (admin, agent):
                first, second = stream.next("message"), stream.next("message", 1)
                assert (first["conversation_id"], first["role"], first["text"]) == (
                    cid, "user", "voglio parlare con un operatore",
                )  # fmt: skip
                assert second["text"] == "ci siete?" and second["ref"] == opened["handoff"]["reference"]
                assert stream.next("ticket")["action"] == "opened"
        finally:
            admin.close()
            agent.close()


def test_streams_are_capped_per_address_and_a_closed_one_frees_its_slot(service, monkeypatch):
    monkeypatch.setenv("FAQBOT_MAX_STREAMS_PER_ADDRESS", "1")
    with serving(service) as base:
        http = httpx.Client(base_url=base)
        cid = http.post("/api/v1/chat", json={"text": "voglio parlare con un operatore"}).json()[
            "conversation_id"
        ]
        first = Stream(f"{base}/api/v1/conversations/{cid}/events")
        first.next("status")
        refused = http.get(f"/api/v1/conversations/{cid}/events")
        assert refused.status_code == 503 and refused.headers["retry-after"] == "30"
        assert "poll instead" in refused.json()["detail"]
        assert http.get(f"/api/v1/conversations/{cid}/messages").status_code == 200  # polling still works
        first.close()
        http.post(
            "/api/v1/chat", json={"text": "ci siete?", "conversation_id": cid}
        )  # wakes the closed reader
        deadline = time.monotonic() + 10
        while True:
            again = Stream(f"{base}/api/v1/conversations/{cid}/events")
            if again.status == 200:
                break
            again.close()
            assert time.monotonic() < deadline, "the closed stream never gave its slot back"
            time.sleep(0.2)
        again.close()

"""The web API: contract, conversations across processes, bad input, sanitising, health and metrics."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import Settings
from bot.dialogue.bot import Bot
from bot.dialogue.policy import Thresholds
from bot.index.build import build_index
from bot.retrieval.language import LanguageDetector
from bot.retrieval.search import Retriever
from bot.service.chat import ChatService
from bot.storage.store import Store
from bot.web.app import create_app
from tests.conftest import FakeEmbedder, write_article


@pytest.fixture
def service_factory(small_kb, isolated_home):
    """Builds ChatServices over one index and one SQLite store, like separate server processes."""
    write_article(
        small_kb,
        "it",
        "unsafe-markup",
        "title: Articolo con markup pericoloso\nquestions: [markup pericoloso di prova]",
        'Testo <script>alert(1)</script> e <a href="javascript:alert(2)" onclick="x()">link</a>.',
    )
    settings = Settings()
    embedder = FakeEmbedder()
    build_index(settings.build, embedder)
    stores = []

    def make(thresholds: Thresholds | None = None) -> ChatService:
        retriever = Retriever.from_root(settings.index_path, embedder, LanguageDetector()).load()
        store = Store.for_settings(None, settings.var_path).open()
        stores.append(store)
        return ChatService(Bot(retriever, thresholds or Thresholds()), store)

    yield make
    for store in stores:
        store.close()


@pytest.fixture
def client(service_factory):
    with TestClient(create_app(Settings(), service_factory())) as client:
        yield client


def test_answer_contract(client):
    r = client.post("/api/v1/chat", json={"text": "Ho dimenticato la password"})
    assert r.status_code == 200
    data = r.json()
    assert data["decision"] == "answer" and data["lang"] == "it"
    assert data["conversation_id"].startswith("c_") and data["message_id"].startswith("m_")
    assert data["answer"]["article_id"] == "reset-password"
    assert "<strong>Password dimenticata?</strong>" in data["answer"]["html"]
    assert data["follow_ups"] == [{"article_id": "shipping-costs", "title": "Quanto costa la spedizione"}]
    assert data["suggestions"] == [] and data["handoff"] is None and 0 <= data["confidence"] <= 1


def test_handoff_contract_with_ticket_and_wait(client):
    data = client.post("/api/v1/chat", json={"text": "voglio parlare con un operatore"}).json()
    assert data["decision"] == "handoff" and data["answer"] is None
    assert data["handoff"]["ticket_id"].startswith("t_") and data["handoff"]["eta_minutes"] == 5
    assert "5 minuti" in data["handoff"]["message"]


def test_clarification_is_resolved_by_another_process(service_factory):
    ask_everything = Thresholds(answer=1.0, clarify=0.0)
    first = TestClient(create_app(Settings(), service_factory(ask_everything)))
    second = TestClient(create_app(Settings(), service_factory()))
    with first, second:
        data = first.post("/api/v1/chat", json={"text": "costi spedizione", "lang": "it"}).json()
        assert data["decision"] == "clarify" and data["suggestions"]
        picked = data["suggestions"][0]
        follow = {"text": "1", "conversation_id": data["conversation_id"]}
        answer = second.post("/api/v1/chat", json=follow).json()
        assert answer["decision"] == "answer" and answer["answer"]["article_id"] == picked["article_id"]
        assert answer["conversation_id"] == data["conversation_id"]


def test_feedback(client):
    data = client.post("/api/v1/chat", json={"text": "spese di spedizione"}).json()
    ok = client.post(
        "/api/v1/feedback",
        json={"conversation_id": data["conversation_id"], "message_id": data["message_id"], "helpful": False},
    )
    assert ok.status_code == 200 and ok.json()["ok"] is True and ok.json()["handoff"]["ticket_id"]
    missing = client.post("/api/v1/feedback", json={"conversation_id": "c_nope", "helpful": True})
    assert missing.status_code == 404


def test_article_for_read_more_is_sanitised(client):
    data = client.get("/api/v1/articles/unsafe-markup").json()
    assert (
        "<script" not in data["html"] and "javascript:" not in data["html"] and "onclick" not in data["html"]
    )
    assert "link" in data["html"] and data["title"] == "Articolo con markup pericoloso"
    assert client.get("/api/v1/articles/nope").status_code == 404


def test_the_chat_schema_lists_every_decision():
    """The response model keeps its Literal (so the OpenAPI schema is a plain string enum), and
    it must name every decision the bot can make."""
    from typing import get_args

    from bot.dialogue.vocabulary import DecisionKind
    from bot.web.chat_api import ChatResponse

    assert get_args(ChatResponse.model_fields["decision"].annotation) == tuple(DecisionKind)


def test_answer_html_is_sanitised_too(client):
    data = client.post("/api/v1/chat", json={"text": "markup pericoloso di prova"}).json()
    assert data["answer"]["article_id"] == "unsafe-markup"
    assert "<script" not in data["answer"]["html"] and "javascript:" not in data["answer"]["html"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"text": ""}, "empty"),
        ({"text": "   \n "}, "empty"),
        ({"text": "x" * 2001}, "at most 2000"),
        ({"text": 42}, "text"),
        ({"text": ["a"]}, "text"),
        ({}, "text"),
        ({"text": "ciao", "lang": "fr"}, "lang"),
        ({"text": "ciao", "conversation_id": "../../etc"}, "conversation_id"),
        ({"text": "ciao", "surprise": 1}, "surprise"),
        ({"text": "ciao", "channel": "Web Chat!"}, "channel"),
        ({"text": "ciao", "channel": "messenger"}, "channel: one of web"),  # no speaking as Messenger
        ({"text": "ciao", "channel": "chat-40"}, "channel: one of web"),  # no new metric series per name
    ],
)
def test_bad_requests_get_a_4xx_with_a_reason(client, body, reason):
    r = client.post("/api/v1/chat", json=body)
    assert r.status_code == 422 and reason in r.json()["detail"]


def test_malformed_json_and_huge_bodies(client):
    r = client.post("/api/v1/chat", content=b'{"text": "ciao"', headers={"content-type": "application/json"})
    assert r.status_code == 422 and "JSON" in r.json()["detail"]
    huge = json.dumps({"text": "x" * 70_000}).encode()
    r = client.post("/api/v1/chat", content=huge, headers={"content-type": "application/json"})
    assert r.status_code == 413 and "bytes" in r.json()["detail"]


def test_chunked_body_over_the_limit_is_refused(client):
    def chunks():
        for _ in range(70):
            yield b"x" * 1024

    r = client.post("/api/v1/chat", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_unknown_conversation_is_404(client):
    r = client.post("/api/v1/chat", json={"text": "ciao", "conversation_id": "c_doesnotexist"})
    assert r.status_code == 404 and "unknown conversation" in r.json()["detail"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.dictionaries(
            st.sampled_from(["text", "lang", "conversation_id", "channel", "x"]),
            st.from_type(object).filter(lambda v: isinstance(v, (str, int, float, bool, type(None)))),
        ),
        st.lists(st.integers()),
        st.text(),
    )
)
def test_no_input_makes_the_server_fail(client, payload):
    r = client.post("/api/v1/chat", json=payload)
    assert r.status_code < 500, r.text


def test_customer_text_is_never_reflected_as_html(client):
    data = client.post(
        "/api/v1/chat", json={"text": "<img src=x onerror=alert(1)> qual è la distanza da Giove"}
    ).json()
    reflected = json.dumps(data)
    assert "onerror" not in reflected


def test_health_readiness_metrics_and_widget(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["articles"] == 7 and ready["model"] == "fake-hashing"
    client.post("/api/v1/chat", json={"text": "spese di spedizione"})
    metrics = client.get("/metrics").text
    assert 'faqbot_decisions_total{channel="web",decision="answer"}' in metrics
    assert f'faqbot_index_info{{version="{ready["index_version"]}"}} 1.0' in metrics
    assert "faqbot_request_seconds_bucket" in metrics
    widget = client.get("/widget.js")
    assert widget.status_code == 200 and "javascript" in widget.headers["content-type"]
    assert '<script async src="/widget.js"' in client.get("/").text


def test_cors_lets_other_sites_embed_the_widget(client):
    r = client.options(
        "/api/v1/chat",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
    )
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"


def test_lists_may_start_right_under_a_line_of_text():
    from bot.text.html import to_html

    html = to_html("**Options**\n- pick up in store\n- cash on delivery")
    assert "<ul>" in html and html.count("<li>") == 2


def test_admin_reindex_needs_the_token(service_factory, monkeypatch):
    monkeypatch.setenv("FAQBOT_ADMIN_TOKEN", "s3cret-token")
    with TestClient(create_app(Settings(), service_factory())) as client:
        assert client.post("/api/v1/admin/reindex").status_code == 401
        wrong = client.post("/api/v1/admin/reindex", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = client.post("/api/v1/admin/reindex", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 202 and ok.json()["serving"] == ok.json()["published"]


def test_admin_api_is_off_without_a_token(client):
    assert client.post("/api/v1/admin/reindex").status_code == 403


def test_customers_fetch_agent_replies_by_conversation(service_factory, monkeypatch):
    monkeypatch.setenv("FAQBOT_ADMIN_TOKEN", "t0ken")
    with TestClient(create_app(Settings(), service_factory())) as client:
        chat = client.post("/api/v1/chat", json={"text": "voglio parlare con un operatore"}).json()
        url = f"/api/v1/conversations/{chat['conversation_id']}/messages"
        assert client.get(url).json() == {"status": "handoff", "agent": None, "messages": []}
        ticket = chat["handoff"]["ticket_id"]
        auth = {"Authorization": "Bearer t0ken"}
        client.post(f"/api/v1/admin/handoffs/{ticket}/reply", json={"text": "Eccomi"}, headers=auth)
        first = client.get(url).json()
        assert first["status"] == "handoff" and [m["text"] for m in first["messages"]] == ["Eccomi"]
        assert first["messages"][0]["role"] == "agent"
        client.post(
            f"/api/v1/admin/handoffs/{ticket}/reply", json={"text": "Fatto!", "close": True}, headers=auth
        )
        later = client.get(url, params={"after": first["messages"][0]["id"]}).json()
        assert later["status"] == "bot" and [m["text"] for m in later["messages"]] == ["Fatto!"]
        assert later["agent"] is None
        assert client.get("/api/v1/conversations/c_unknown/messages").status_code == 404
        assert client.get("/api/v1/conversations/..%2Fetc/messages").status_code in (404, 422)

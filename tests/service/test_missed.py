"""The missed-query log: what gets logged (redacted), retention, and the admin endpoint."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.dialogue.policy import Thresholds
from bot.web.app import create_app
from tests.web.test_app import service_factory  # noqa: F401 - fixture

AUTH = {"Authorization": "Bearer staff-token"}


@pytest.fixture
def admin_client(service_factory, monkeypatch):  # noqa: F811
    monkeypatch.setenv("FAQBOT_ADMIN_TOKEN", "staff-token")
    service = service_factory()
    with TestClient(create_app(Settings(), service)) as client:
        client.service = service
        yield client


def missed(client, **params):
    r = client.get("/api/v1/admin/missed", params=params, headers=AUTH)
    assert r.status_code == 200, r.text
    return r.json()


def test_handoffs_are_logged_redacted_with_candidates(admin_client):
    admin_client.post("/api/v1/chat", json={"text": "qual è la distanza da Giove? scrivetemi a a.b@c.it"})
    data = missed(admin_client)
    assert data["total"] == 1
    item = data["items"][0]
    assert item["text"] == "qual è la distanza da Giove? scrivetemi a [EMAIL]"
    assert item["reason"] == "handoff" and item["lang"] == "it" and item["channel"] == "web"
    assert isinstance(item["candidates"], list)


def test_explicit_requests_and_clarifications_are_logged(service_factory, monkeypatch):  # noqa: F811
    monkeypatch.setenv("FAQBOT_ADMIN_TOKEN", "staff-token")
    monkeypatch.setenv("FAQBOT_WEB_CHANNELS", '["web", "app"]')
    ask_everything = service_factory(Thresholds(answer=1.0, clarify=0.0))
    with TestClient(create_app(Settings(), ask_everything)) as client:
        client.post("/api/v1/chat", json={"text": "costi spedizione", "channel": "app"})
        client.post("/api/v1/chat", json={"text": "voglio parlare con un operatore"})
        items = missed(client)["items"]
        assert [i["reason"] for i in items] == ["handoff", "clarify"]
        clarified = items[1]
        assert clarified["channel"] == "app"
        assert clarified["candidates"][0]["article_id"] == "shipping-costs"
        assert set(clarified["candidates"][0]) == {"article_id", "title", "score"}
        assert missed(client, channel="app")["total"] == 1


def test_small_talk_is_neither_logged_nor_handed_off(admin_client):
    for text in ("ciao", "grazie mille!", "ok thanks, bye"):
        reply = admin_client.post("/api/v1/chat", json={"text": text}).json()
        assert reply["decision"] == "smalltalk" and reply["handoff"] is None, reply
    assert missed(admin_client)["total"] == 0
    assert admin_client.get("/api/v1/admin/stats", headers=AUTH).json()["handoff_rate"] == 0.0


def test_answers_are_not_logged_but_unhelpful_ones_are(admin_client):
    reply = admin_client.post(
        "/api/v1/chat", json={"text": "Ho dimenticato la password, 347 123 4567"}
    ).json()
    assert reply["decision"] == "answer" and missed(admin_client)["total"] == 0
    feedback = {
        "conversation_id": reply["conversation_id"],
        "message_id": reply["message_id"],
        "helpful": False,
    }
    assert admin_client.post("/api/v1/feedback", json=feedback).status_code == 200
    item = missed(admin_client)["items"][0]
    assert item["reason"] == "negative_feedback" and item["text"] == "Ho dimenticato la password, [PHONE]"
    assert item["candidates"][0]["article_id"] == "reset-password"


def test_a_typed_complaint_counts_as_negative_feedback_on_the_last_answer(admin_client):
    reply = admin_client.post("/api/v1/chat", json={"text": "Ho dimenticato la password"}).json()
    assert reply["decision"] == "answer"
    cid = reply["conversation_id"]
    thanks = admin_client.post("/api/v1/chat", json={"text": "ok grazie", "conversation_id": cid}).json()
    assert thanks["decision"] == "smalltalk"  # the complaint below is still about the answer
    body = {"text": "non mi è stato utile", "conversation_id": cid}
    complaint = admin_client.post("/api/v1/chat", json=body).json()
    assert complaint["decision"] == "handoff" and complaint["handoff"]["ticket_id"]
    assert complaint["handoff"]["message"].startswith("Mi dispiace che la risposta non ti sia stata utile")
    (item,) = missed(admin_client)["items"]  # the question answered, not the complaint
    assert item["reason"] == "negative_feedback" and item["text"] == "Ho dimenticato la password"
    assert item["candidates"][0]["article_id"] == "reset-password"
    stats = admin_client.get("/api/v1/admin/stats", headers=AUTH).json()
    assert stats["unhelpful"] == 1 and stats["handoff_rate"] == 1.0


def test_filters_by_text_language_and_time(admin_client):
    admin_client.post("/api/v1/chat", json={"text": "qual è la distanza da Giove?"})
    admin_client.post("/api/v1/chat", json={"text": "what is the weather on Mars today?"})
    assert missed(admin_client, q="giove")["total"] == 1
    assert missed(admin_client, lang="en")["items"][0]["text"].startswith("what is the weather")
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert missed(admin_client, since=future)["total"] == 0
    assert missed(admin_client, limit=1)["total"] == 2 and len(missed(admin_client, limit=1)["items"]) == 1


def test_admin_missed_needs_the_token(admin_client):
    assert admin_client.get("/api/v1/admin/missed").status_code == 401
    assert admin_client.get("/api/v1/admin/missed", headers={"Authorization": "Bearer x"}).status_code == 401
    assert admin_client.get("/api/v1/admin/missed", params={"limit": 0}, headers=AUTH).status_code == 422


def test_purge_keeps_recent_data_and_deletes_old(admin_client):
    admin_client.post("/api/v1/chat", json={"text": "qual è la distanza da Giove?"})
    store = admin_client.service.store
    assert store.purge(dt.datetime.now(dt.UTC) - dt.timedelta(days=1)) == {
        "missed_queries": 0, "feedback": 0, "tickets": 0, "messages": 0, "outbox": 0,
        "conversations": 0,
    }  # fmt: skip
    counts = store.purge(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
    assert counts["missed_queries"] == 1 and counts["conversations"] == 1 and counts["messages"] == 2
    assert counts["tickets"] == 1
    assert missed(admin_client)["total"] == 0


class FixedEmbedder:
    """Known vectors per text, so the expected topics are exact."""

    model_id, dimension = "fixed", 3

    def __init__(self, table):
        self.table = table

    def encode(self, texts):
        import numpy as np

        vectors = np.array([self.table[t] for t in texts], dtype=np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_clustering_groups_by_meaning_largest_then_newest():
    from bot.service.missed_topics import MissedItem, cluster

    now = dt.datetime.now(dt.UTC)
    table = {
        "spedite in svizzera?": (1, 0.1, 0), "shipping to switzerland": (1, 0.15, 0),
        "consegna a zurigo": (1, 0, 0.1),
        "bitcoin accettati?": (0, 1, 0), "pagate in crypto?": (0.1, 1, 0),
        "assumete?": (0, 0, 1),
    }  # fmt: skip
    items = [MissedItem(i, text, "it", now - dt.timedelta(minutes=i)) for i, text in enumerate(table)]
    topics = cluster(items, FixedEmbedder(table))
    assert [t.size for t in topics] == [3, 2, 1]
    assert topics[0].ids == (0, 1, 2) and topics[0].examples[0] == "spedite in svizzera?"
    assert set(topics[1].examples) == {"bitcoin accettati?", "pagate in crypto?"}
    assert topics[2].examples == ("assumete?",)


def test_questions_with_nothing_to_embed_form_their_own_topic(admin_client):
    """Found by the OpenAPI fuzzer: a zero vector (here: only symbols) made clustering fail with 500."""
    from bot.service.missed_topics import MissedItem, cluster
    from tests.conftest import FakeEmbedder

    now = dt.datetime.now(dt.UTC)
    texts = ["spedite in svizzera?", "spedite in svizzera", "!!!", "🙂🙂", "assumete?"]
    items = [MissedItem(i, text, "it", now - dt.timedelta(minutes=i)) for i, text in enumerate(texts)]
    topics = cluster(items, FakeEmbedder())
    assert sorted(t.ids for t in topics) == [(0, 1), (2, 3), (4,)]
    assert cluster(items[2:4], FakeEmbedder())[0].ids == (2, 3)
    for text in ("!!!", "🙂", "voglio parlare con un operatore"):
        admin_client.post("/api/v1/chat", json={"text": text})
    assert admin_client.get("/api/v1/admin/missed/clusters", headers=AUTH).status_code == 200


def test_clusters_endpoint_proposes_articles(admin_client):
    for text in ("qual è la distanza da Giove?", "quanto dista Giove dalla Terra?", "assumete commessi?"):
        admin_client.post("/api/v1/chat", json={"text": text})
    clusters = admin_client.get("/api/v1/admin/missed/clusters", headers=AUTH).json()["clusters"]
    assert sum(c["size"] for c in clusters) == 3
    assert all(c["articles"] and {"article_id", "title", "score"} <= set(c["articles"][0]) for c in clusters)
    assert admin_client.get("/api/v1/admin/missed/clusters").status_code == 401


def test_resolve_actions_are_recorded(admin_client, small_kb):
    for text in ("assumete commessi?", "quanto dista Giove?", "fate confezioni regalo?"):
        admin_client.post("/api/v1/chat", json={"text": text})
    items = {i["text"]: i["id"] for i in missed(admin_client)["items"]}
    who = {**AUTH, "X-Faqbot-User": "giulia"}
    r = admin_client.post(
        f"/api/v1/admin/missed/{items['quanto dista Giove?']}/resolve",
        json={"action": "dismiss"},
        headers=who,
    )
    assert r.status_code == 200 and r.json()["status"] == "dismissed" and r.json()["resolved_by"] == "giulia"
    draft = {"action": "new_article", "article_id": "gift-wrapping", "title": "Confezione regalo"}
    r = admin_client.post(
        f"/api/v1/admin/missed/{items['fate confezioni regalo?']}/resolve", json=draft, headers=AUTH
    )
    assert r.status_code == 200 and (small_kb / "it" / "gift-wrapping.md").is_file()
    assert "status: draft" in (small_kb / "it" / "gift-wrapping.md").read_text()
    bad = {"action": "add_question", "article_id": "no-such-article"}
    assert (
        admin_client.post(
            f"/api/v1/admin/missed/{items['assumete commessi?']}/resolve", json=bad, headers=AUTH
        ).status_code
        == 404
    )
    assert (
        admin_client.post(
            "/api/v1/admin/missed/99999/resolve", json={"action": "dismiss"}, headers=AUTH
        ).status_code
        == 404
    )
    assert (
        admin_client.post(
            f"/api/v1/admin/missed/{items['assumete commessi?']}/resolve", json={"action": "dismiss"}
        ).status_code
        == 401
    )
    assert missed(admin_client)["total"] == 1  # only the untouched one is still open
    assert missed(admin_client, status="all")["total"] == 3


def test_missed_question_becomes_an_answer_after_a_rebuild(admin_client, small_kb):
    import time

    question = "posso restituire una cosa comprata in saldo dopo due mesi?"
    first = admin_client.post("/api/v1/chat", json={"text": question}).json()
    assert first["decision"] != "answer" or first["answer"]["article_id"] != "returns-how"
    missed_id = missed(admin_client)["items"][0]["id"]
    add = {"action": "add_question", "article_id": "returns-how"}
    assert (
        admin_client.post(f"/api/v1/admin/missed/{missed_id}/resolve", json=add, headers=AUTH).status_code
        == 200
    )
    assert question in (small_kb / "it" / "returns-how.md").read_text()
    before = admin_client.get("/readyz").json()["index_version"]
    started = admin_client.post("/api/v1/admin/reindex", headers=AUTH)
    assert started.status_code == 202 and started.json()["rebuild"] == "started"
    deadline = time.monotonic() + 60
    while admin_client.get("/readyz").json()["index_version"] == before:
        assert time.monotonic() < deadline, "the rebuilt index never went live"
        time.sleep(0.2)
    report = (Settings().index_path / "reports" / "latest.json").read_text()
    assert '"status": "published"' in report
    again = admin_client.post("/api/v1/chat", json={"text": question}).json()
    assert again["decision"] == "answer" and again["answer"]["article_id"] == "returns-how"


def test_agent_takes_over_replies_and_hands_back(admin_client):
    chat = admin_client.post("/api/v1/chat", json={"text": "voglio parlare con un operatore"}).json()
    queue = admin_client.get("/api/v1/admin/handoffs", headers=AUTH).json()["items"]
    assert [q["conversation_id"] for q in queue] == [chat["conversation_id"]]
    ticket = queue[0]["ticket_id"]
    # while the agent holds the conversation the bot stays silent
    held = admin_client.post(
        "/api/v1/chat",
        json={"text": "Ho dimenticato la password", "conversation_id": chat["conversation_id"]},
    ).json()
    assert held["decision"] == "agent" and held["text"] == "" and held["answer"] is None
    assert held["handoff"] is None  # the wait was told once, at the hand-off
    reply = {"text": "Ciao, sono Giulia: ti ho mandato il link."}
    assert (
        admin_client.post(f"/api/v1/admin/handoffs/{ticket}/reply", json=reply, headers=AUTH).status_code
        == 200
    )
    assert admin_client.post(f"/api/v1/admin/handoffs/{ticket}/close", headers=AUTH).status_code == 200
    assert admin_client.get("/api/v1/admin/handoffs", headers=AUTH).json()["items"] == []
    back = admin_client.post(
        "/api/v1/chat",
        json={"text": "Ho dimenticato la password", "conversation_id": chat["conversation_id"]},
    ).json()
    assert back["decision"] == "answer" and back["answer"]["article_id"] == "reset-password"
    transcript = admin_client.get(
        f"/api/v1/admin/conversations/{chat['conversation_id']}", headers=AUTH
    ).json()
    roles = [m["role"] for m in transcript["messages"]]
    assert roles == ["user", "bot", "user", "agent", "system", "user", "bot"]  # system: back to the bot
    assert admin_client.post(f"/api/v1/admin/handoffs/{ticket}/close", headers=AUTH).status_code == 404


def test_stats_count_deflection_and_feedback(admin_client):
    answered = admin_client.post("/api/v1/chat", json={"text": "Ho dimenticato la password"}).json()
    admin_client.post("/api/v1/chat", json={"text": "voglio parlare con un operatore"})
    admin_client.post(
        "/api/v1/feedback", json={"conversation_id": answered["conversation_id"], "helpful": True}
    )
    data = admin_client.get("/api/v1/admin/stats", headers=AUTH).json()
    assert data["conversations"] == 2 and data["handoff_rate"] == 0.5 and data["deflection_rate"] == 0.5
    assert data["helpful"] == 1 and data["unhelpful"] == 0
    assert data["top_articles"] == [{"article_id": "reset-password", "answers": 1}]
    assert data["by_channel"] == {"web": 2} and sum(sum(d.values()) for d in data["by_day"].values()) == 2


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/admin/handoffs"), ("get", "/api/v1/admin/stats"),
     ("get", "/api/v1/admin/conversations/c_x"), ("post", "/api/v1/admin/handoffs/t_x/close"),
     ("post", "/api/v1/admin/missed/1/resolve")],
)  # fmt: skip
def test_every_admin_endpoint_needs_the_token(admin_client, method, path):
    assert getattr(admin_client, method)(path).status_code == 401


def test_an_unhelpful_answer_brings_in_a_person(admin_client):
    reply = admin_client.post("/api/v1/chat", json={"text": "Ho dimenticato la password"}).json()
    vote = {"conversation_id": reply["conversation_id"], "message_id": reply["message_id"], "helpful": False}
    data = admin_client.post("/api/v1/feedback", json=vote).json()
    assert data["ok"] and data["handoff"]["ticket_id"].startswith("t_")
    assert "persona" in data["handoff"]["message"] and data["handoff"]["eta_minutes"] == 5
    queue = admin_client.get("/api/v1/admin/handoffs", headers=AUTH).json()["items"]
    assert queue[0]["reason"] == "negative_feedback"
    helpful = {**vote, "helpful": True}
    assert admin_client.post("/api/v1/feedback", json=helpful).json()["handoff"] is None


def test_outside_hours_the_web_customer_leaves_an_email_for_the_ticket(service_factory, monkeypatch):  # noqa: F811
    from bot.dialogue.business_hours import BusinessHours

    monkeypatch.setenv("FAQBOT_ADMIN_TOKEN", "staff-token")
    service = service_factory()
    service.handoffs.hours = BusinessHours.parse(["mon-fri 09:00-18:00"], "Europe/Rome")
    service.handoffs.clock = lambda: dt.datetime.fromisoformat(
        "2026-11-23T21:00:00+01:00"
    )  # a Monday evening
    with TestClient(create_app(Settings(), service)) as client:
        first = client.post("/api/v1/chat", json={"text": "voglio parlare con un operatore"}).json()
        assert "riapre martedì 24/11 alle 09:00" in first["handoff"]["message"]
        assert "indirizzo e-mail" in first["handoff"]["message"]
        follow = {"text": "certo, anna.verdi@example.it", "conversation_id": first["conversation_id"]}
        second = client.post("/api/v1/chat", json=follow).json()
        assert second["decision"] == "agent" and second["handoff"] is None
        assert "ti risponderemo a anna.verdi@example.it" in second["text"]
        with service.store.session() as session:
            from bot.storage.store import Ticket

            assert session.get(Ticket, first["handoff"]["ticket_id"]).contact == "anna.verdi@example.it"


def test_stats_per_channel_give_outcomes_and_the_measured_first_reply(service_factory, monkeypatch):  # noqa: F811
    monkeypatch.setenv("FAQBOT_ADMIN_TOKEN", "staff-token")
    monkeypatch.setenv("FAQBOT_WEB_CHANNELS", '["web", "kiosk"]')
    with TestClient(create_app(Settings(), service_factory())) as admin_client:
        _per_channel(admin_client)


def _per_channel(admin_client) -> None:
    admin_client.post("/api/v1/chat", json={"text": "Ho dimenticato la password"})
    opened = admin_client.post("/api/v1/chat", json={"text": "voglio parlare con un operatore"}).json()
    admin_client.post("/api/v1/chat", json={"text": "Ho dimenticato la password", "channel": "kiosk"})
    ticket = opened["handoff"]["ticket_id"]
    admin_client.post(f"/api/v1/admin/handoffs/{ticket}/reply", json={"text": "Eccomi"}, headers=AUTH)
    channels = admin_client.get("/api/v1/admin/stats", headers=AUTH).json()["channels"]
    web, kiosk = channels["web"], channels["kiosk"]
    assert (web["asked"], web["deflection_rate"], web["handoff_rate"]) == (2, 0.5, 0.5)
    assert 0 <= web["first_reply_minutes"] < 1
    assert (kiosk["asked"], kiosk["deflection_rate"]) == (1, 1.0) and "first_reply_minutes" not in kiosk

"""The Messenger channel end to end: signed deliveries into the real app, replies out to a fake
Graph API that is a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import logging

from bot.channels.messenger.outgoing import MAX_TEXT, plain_text
from bot.dialogue.messages import message
from bot.dialogue.policy import Thresholds
from tests.messenger_kit import LONG_BODY, VERIFY, postback, text


def handshake(page, **params):
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444", **params}
    return page.client.get("/webhooks/messenger", params=query)


def test_subscription_handshake(open_page):
    page = open_page()
    answer = handshake(page)
    assert answer.status_code == 200 and answer.text == "1158201444"
    assert answer.headers["content-type"].startswith("text/plain")
    assert handshake(page, **{"hub.verify_token": "guess"}).status_code == 403
    assert handshake(page, **{"hub.mode": "unsubscribe"}).status_code == 403
    assert page.client.get("/webhooks/messenger").status_code == 403


def test_an_unconfigured_channel_refuses_with_a_reason(open_page, graph):
    page = open_page(messenger_app_secret=None, messenger_verify_token=None)
    assert handshake(page).status_code == 403
    answer = page.client.post("/webhooks/messenger", content=b"{}")
    assert answer.status_code == 404 and "FAQBOT_MESSENGER_APP_SECRET" in answer.json()["detail"]
    assert page.client.app.state.messenger is None and graph.requests() == []


def test_an_empty_app_secret_or_verify_token_is_no_secret(open_page, graph, caplog):
    """Found by a red-team pass: a delivery signed with an empty key got 200 and opened a ticket,
    and `hub.verify_token=` echoed the challenge."""
    page = open_page(messenger_app_secret="", messenger_verify_token="")
    assert page.client.app.state.messenger is None
    assert "FAQBOT_MESSENGER_APP_SECRET missing or empty" in caplog.text
    assert handshake(page, **{"hub.verify_token": ""}).status_code == 403
    answer = page.deliver(text("psid-1", "voglio parlare con un operatore"), secret="")
    assert answer == 404 and page.store.open_tickets() == [] and graph.requests() == []
    blank = page.client.post("/webhooks/messenger", content=b"{}")
    assert "FAQBOT_MESSENGER_APP_SECRET (not empty)" in blank.json()["detail"]


def test_forged_or_missing_signature_is_refused(open_page, graph):
    page = open_page()
    assert page.deliver(text("psid-1", "Ho dimenticato la password"), secret="not-the-secret") == 403
    unsigned = page.client.post("/webhooks/messenger", json={"object": "page", "entry": []})
    assert unsigned.status_code == 403
    page.settle()
    assert graph.requests() == [] and page.store.open_tickets() == []


def test_a_signed_text_message_gets_one_reply_with_quick_replies(open_page, graph):
    page = open_page()
    assert page.deliver(text("psid-1", "Ho dimenticato la password")) == 200
    page.settle()
    (call,) = graph.requests()
    assert call.path == "/v21.0/me/messages" and call.query["access_token"] == "page-t0ken"
    assert call.body["recipient"] == {"id": "psid-1"} and call.body["messaging_type"] == "RESPONSE"
    message = call.body["message"]
    assert message["text"].startswith("Clicca su Password dimenticata?")  # Markdown rendered as text
    titles = [(q["title"], q["payload"].split(":")[0]) for q in message["quick_replies"]]
    assert titles == [("Quanto costa la spe…", "ARTICLE"), ("👍", "FEEDBACK"), ("👎", "FEEDBACK")]
    assert message["quick_replies"][0]["payload"] == "ARTICLE:shipping-costs"
    (ticketless,) = [m for m in page.store.messages(_conversation(page, "psid-1")) if m.role == "bot"]
    assert ticketless.article_id == "reset-password"


def test_thanks_get_a_reply_in_kind_and_no_hand_off(open_page, graph):
    page = open_page()
    page.deliver(text("psid-1", "grazie mille!"))
    page.settle()
    (call,) = graph.requests()  # one message, no thread passed to the Page inbox
    assert call.path == "/v21.0/me/messages" and call.body["message"]["text"].startswith("Prego!")
    assert "quick_replies" not in call.body["message"]


def test_the_like_button_is_a_thumbs_up_not_an_attachment(open_page, graph):
    page = open_page()
    like = text("psid-1", "")
    like["message"] = {
        "mid": "m_like",
        "sticker_id": 369239263222822,
        "attachments": [
            {"type": "image", "payload": {"url": "https://x/l.png", "sticker_id": 369239263222822}}
        ],
    }
    page.deliver(like)
    page.settle()
    (sent,) = graph.sent("psid-1")
    assert sent["text"] == message("smalltalk_ack", "it")  # not "I can only read text"
    customer = [m.text for m in page.store.messages(_conversation(page, "psid-1")) if m.role == "user"]
    assert customer == ["👍"]


def test_a_retried_delivery_gets_no_second_reply(open_page, graph, database_url):
    page = open_page(database_url)
    event = text("psid-1", "Ho dimenticato la password", mid="m_retried")
    assert page.deliver(event) == 200
    page.settle()
    assert page.deliver(event) == 200  # Meta redelivers what it thinks was slow
    page.settle()
    other_process = open_page(database_url)  # another server process on the same store
    assert other_process.deliver(event) == 200
    other_process.settle()
    assert len(graph.sent("psid-1")) == 1
    assert [m.role for m in page.store.messages(_conversation(page, "psid-1"))] == ["user", "bot"]


def test_a_long_answer_is_split_at_paragraphs(open_page, graph):
    page = open_page()
    page.deliver(text("psid-1", "politica completa dei resi"))
    page.settle()
    sent = graph.sent("psid-1")
    assert len(sent) == 3 and all(len(m["text"]) <= MAX_TEXT for m in sent)
    assert "\n\n".join(m["text"] for m in sent) == plain_text(LONG_BODY)  # cut only between paragraphs
    assert all(m["text"].startswith("Paragrafo") and m["text"].endswith("giorni.") for m in sent)
    assert "quick_replies" not in sent[0] and "quick_replies" in sent[-1]


def test_a_batched_delivery_answers_every_customer_in_order(open_page, graph):
    page = open_page()
    body = {
        "object": "page",
        "entry": [
            {"id": "page-1", "time": 1, "messaging": [text("psid-a", "Ho dimenticato la password")]},
            {"id": "page-1", "time": 2, "messaging": [text("psid-b", "spese di spedizione")]},
        ],
    }
    body["entry"][1]["messaging"].append(text("psid-a", "voglio fare un reso"))
    body["entry"][0]["messaging"].append({"sender": {"id": "psid-a"}, "delivery": {"mids": ["m_x"]}})
    body["entry"][0]["messaging"].append({"sender": {"id": "psid-a"}, "read": {"watermark": 1}})
    echo = text("page-1", "echo of our reply")
    echo["message"]["is_echo"] = True
    body["entry"][1]["messaging"].append(echo)
    raw = json.dumps(body).encode()
    from bot.channels.messenger.webhook import signature

    headers = {"X-Hub-Signature-256": signature(b"app-s3cret", raw)}
    assert page.client.post("/webhooks/messenger", content=raw, headers=headers).status_code == 200
    page.settle()
    assert len(graph.sent("psid-b")) == 1 and len(graph.sent("page-1")) == 0
    first, second = graph.sent("psid-a")
    assert first["text"].startswith("Clicca") and second["text"].startswith("Richiedi il reso")


def test_send_api_500_then_200_delivers_once(open_page, graph):
    page = open_page()
    graph.then("/me/messages", 500, {"error": {"message": "temporary", "code": 2}})
    page.deliver(text("psid-1", "spese di spedizione"))
    page.settle()
    assert [c.status for c in graph.requests()] == [500, 200]
    assert len(graph.sent("psid-1")) == 1


def test_send_api_400_is_logged_not_retried_and_the_conversation_kept(open_page, graph, caplog):
    page = open_page()
    graph.then("/me/messages", 400, {"error": {"message": "(#551) This person isn't available", "code": 551}})
    with caplog.at_level(logging.INFO, logger="faqbot.messenger"):
        page.deliver(text("psid-1", "spese di spedizione"))
        page.settle()
    assert [c.status for c in graph.requests()] == [400]
    assert "Graph error code 551" in caplog.text and "not delivered" in caplog.text
    assert "page-t0ken" not in caplog.text
    assert [m.role for m in page.store.messages(_conversation(page, "psid-1"))] == ["user", "bot"]


def test_a_picked_quick_reply_answers_that_article(open_page, graph):
    page = open_page(thresholds=Thresholds(answer=1.0, clarify=0.0))  # every question clarifies
    page.deliver(text("psid-1", "costi spedizione"))
    page.settle()
    offered = graph.sent("psid-1")[0]["quick_replies"]
    assert [q["payload"] for q in offered[-1:]] == ["PERSON"]  # none may fit: a person, one tap away
    assert all(q["payload"].startswith("ARTICLE:") and len(q["title"]) <= 20 for q in offered[:-1])
    picked = offered[0]
    page.deliver(text("psid-1", picked["title"], quick_reply=picked["payload"]))
    page.settle()
    messages = page.store.messages(_conversation(page, "psid-1"))
    assert messages[-1].decision == "answer" and messages[-1].reason == "picked"
    assert messages[-1].article_id == picked["payload"].removeprefix("ARTICLE:")


def test_a_follow_up_quick_reply_answers_that_article(open_page, graph):
    page = open_page()
    page.deliver(text("psid-1", "Ho dimenticato la password"))
    page.settle()
    follow = graph.sent("psid-1")[0]["quick_replies"][0]
    page.deliver(text("psid-1", follow["title"], quick_reply=follow["payload"]))
    page.settle()
    last = page.store.messages(_conversation(page, "psid-1"))[-1]
    assert (last.article_id, last.reason) == ("shipping-costs", "picked")
    assert graph.sent("psid-1")[-1]["text"].startswith("La spedizione standard costa 4,90 euro")


def test_attachments_get_a_polite_text_only_answer_in_the_customer_language(open_page, graph):
    page = open_page()
    page.deliver(text("psid-1", "I forgot my password"))
    image = text("psid-1", "")
    image["message"] = {
        "mid": "m_img",
        "attachments": [{"type": "image", "payload": {"url": "https://x/y.png"}}],
    }
    page.deliver(image)
    page.settle()
    assert graph.sent("psid-1")[-1]["text"].startswith("For now I can only read text messages")
    transcript = page.store.messages(_conversation(page, "psid-1"))
    assert [m.text for m in transcript[-2:]][0] == "[image]"


def test_get_started_greets_and_start_over_forgets_the_open_question(open_page, graph):
    page = open_page(thresholds=Thresholds(answer=1.0, clarify=0.0))
    page.deliver(postback("psid-1", "GET_STARTED", "Inizia"))
    page.deliver(text("psid-1", "costi spedizione"))
    page.deliver(postback("psid-1", "START_OVER", "Ricomincia"))
    page.deliver(text("psid-1", "1"))  # would pick the first suggestion, had the bot not forgotten it
    page.settle()
    sent = [m["text"] for m in graph.sent("psid-1")]
    assert sent[0].startswith("Ciao! Sono l'assistente") and sent[2].startswith("Ricominciamo da capo")
    transcript = page.store.messages(_conversation(page, "psid-1"))
    assert transcript[-1].reason != "picked"
    assert [m.reason for m in transcript if m.role == "bot"][:2] == ["greeting", "uncertain"]


def test_seen_at_once_and_typing_before_a_slow_reply(open_page, graph):
    page = open_page(messenger_typing_after=0.0)
    page.deliver(text("psid-1", "spese di spedizione"))
    page.settle()
    kinds = [c.body.get("sender_action", "message") for c in graph.calls]
    assert kinds == ["mark_seen", "typing_on", "message"]
    assert graph.calls[0].body == {"recipient": {"id": "psid-1"}, "sender_action": "mark_seen"}


def test_a_quick_reply_gets_no_typing_indicator(open_page, graph):
    page = open_page()  # typing after 30 s: a fast reply shows none
    page.deliver(text("psid-1", "spese di spedizione"))
    page.settle()
    assert graph.actions("psid-1") == ["mark_seen"] and len(graph.sent("psid-1")) == 1


def _conversation(page, psid: str) -> str:
    from sqlalchemy import select

    from bot.storage.schema import Conversation

    with page.store.session() as session:
        query = select(Conversation.id).where(
            Conversation.channel == "messenger", Conversation.external_id == psid
        )
        return session.scalars(query).one()


def test_text_no_database_can_store_is_cleaned_not_lost(open_page, graph, database_url):
    """A webhook cannot be answered with a 422, so NUL and lone surrogates are dropped or replaced
    and the customer still gets an answer (the store would refuse them, on PostgreSQL above all)."""
    page = open_page()
    assert page.deliver(text("psid-nul", "Ho dimenticato la\x00 password \ud800")) == 200
    page.settle()
    assert len(graph.requests()) == 1
    (question,) = [m for m in page.store.messages(_conversation(page, "psid-nul")) if m.role == "user"]
    assert question.text == "Ho dimenticato la password \ufffd"


def test_webhooks_are_rate_limited_until_their_signature_verifies(open_page, graph):
    """Found by a red-team pass: /webhooks/* skipped the per-address limit even with Messenger off."""
    page = open_page(rate_limit_ip=0.001, rate_limit_ip_burst=3)  # three requests, then one in 1000 s
    forged = [page.deliver(text("psid-1", "ciao"), secret="guess") for _ in range(5)]
    assert forged == [403, 403, 403, 429, 429]
    guesses = [handshake(page, **{"hub.verify_token": "guess"}).status_code for _ in range(2)]
    assert guesses == [429, 429]
    signed = [page.deliver(text(f"psid-{i}", "Ho dimenticato la password")) for i in range(10)]
    assert signed == [200] * 10  # Meta's own deliveries, from its few addresses, are never limited
    off = open_page(messenger_app_secret=None, rate_limit_ip=0.001, rate_limit_ip_burst=2)
    statuses = [off.client.post("/webhooks/messenger", content=b"{}").status_code for _ in range(3)]
    assert statuses == [404, 404, 429]

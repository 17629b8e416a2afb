"""Instagram Direct end to end: signed `object: "instagram"` deliveries into the real app, replies
out through the linked Page's Send API (a fake Graph API in Instagram mode, a real HTTP server)."""

from __future__ import annotations

from sqlalchemy import select

from bot.channels.messenger.outgoing import plain_text
from bot.dialogue.messages import message
from bot.dialogue.policy import Thresholds
from bot.storage.schema import Conversation
from tests.channels.instagram.conftest import PAGE_TOKEN, VERIFY, delivery
from tests.messenger_kit import LONG_BODY, postback, text


def conversation_of(account, igsid: str) -> Conversation:
    with account.store.session() as session:
        query = select(Conversation).where(
            Conversation.channel == "instagram", Conversation.external_id == igsid
        )
        return session.scalars(query).one()


def handshake(account, **params):
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "8150", **params}
    return account.client.get("/webhooks/instagram", params=query)


def test_subscription_handshake(open_account):
    account = open_account()
    answer = handshake(account)
    assert answer.status_code == 200 and answer.text == "8150"
    assert (
        handshake(account, **{"hub.verify_token": "verify-me"}).status_code == 403
    )  # Messenger's is not ours
    assert account.client.get("/webhooks/instagram").status_code == 403


def test_an_unconfigured_channel_refuses_with_a_reason(open_account, ig_graph):
    account = open_account(instagram_app_secret=None, instagram_verify_token=None)
    assert handshake(account).status_code == 403
    answer = account.client.post("/webhooks/instagram", content=b"{}")
    assert answer.status_code == 404 and "FAQBOT_INSTAGRAM_APP_SECRET" in answer.json()["detail"]
    assert account.client.app.state.instagram is None and ig_graph.requests() == []


def test_forged_or_missing_signature_is_refused(open_account, ig_graph):
    account = open_account()
    assert account.deliver(text("igsid-1", "Ho dimenticato la password"), secret="not-the-secret") == 403
    unsigned = account.client.post("/webhooks/instagram", json=delivery())
    assert unsigned.status_code == 403
    assert account.deliver(text("igsid-1", "Ho dimenticato la password"), secret="app-s3cret") == 403
    assert ig_graph.requests() == [] and account.store.open_tickets() == []


def test_a_text_is_answered_through_the_pages_send_api_with_text_quick_replies(open_account, ig_graph):
    account = open_account()
    assert account.deliver(text("igsid-1", "Ho dimenticato la password")) == 200
    account.settle()
    (call,) = ig_graph.requests()
    assert call.path == "/v21.0/me/messages" and call.query["access_token"] == PAGE_TOKEN
    assert call.body["recipient"] == {"id": "igsid-1"} and call.body["messaging_type"] == "RESPONSE"
    sent = call.body["message"]
    assert sent["text"].startswith("Clicca su Password dimenticata?") and len(sent["text"]) <= 1000
    quick = sent["quick_replies"]
    assert len(quick) <= 13 and all(q["content_type"] == "text" and len(q["title"]) <= 20 for q in quick)
    assert ig_graph.actions("igsid-1") == ["mark_seen"]
    conversation = conversation_of(account, "igsid-1")
    assert [m.role for m in account.store.messages(conversation.id)] == ["user", "bot"]
    assert account.metric('faqbot_decisions_total{channel="instagram",decision="answer"}') == 1


def test_a_long_answer_is_split_under_instagrams_1000_characters(open_account, ig_graph):
    account = open_account()
    account.deliver(text("igsid-1", "politica completa dei resi"))
    account.settle()
    sent = ig_graph.sent("igsid-1")
    assert len(sent) == 5 and all(len(m["text"]) <= 1000 for m in sent)  # Messenger needs 3 of 2000
    assert "\n\n".join(m["text"] for m in sent) == plain_text(LONG_BODY)  # cut only between paragraphs
    assert "quick_replies" not in sent[0] and "quick_replies" in sent[-1]
    assert all(c.status == 200 for c in ig_graph.requests())


def test_did_you_mean_as_quick_replies_and_a_pick_answers_that_article(open_account, ig_graph):
    account = open_account(thresholds=Thresholds(answer=1.0, clarify=0.0))  # every question clarifies
    account.deliver(text("igsid-1", "costi spedizione"))
    account.settle()
    offered = ig_graph.sent("igsid-1")[0]["quick_replies"]
    assert offered[-1]["payload"] == "PERSON"
    assert all(q["payload"].startswith("ARTICLE:") and len(q["title"]) <= 20 for q in offered[:-1])
    picked = offered[0]
    account.deliver(text("igsid-1", picked["title"], quick_reply=picked["payload"]))
    account.settle()
    last = account.store.messages(conversation_of(account, "igsid-1").id)[-1]
    assert last.decision == "answer" and last.reason == "picked"
    assert last.article_id == picked["payload"].removeprefix("ARTICLE:")


def test_an_attachment_is_answered_with_only_text(open_account, ig_graph):
    account = open_account()
    account.deliver(text("igsid-1", "I forgot my password"))
    image = text("igsid-1", "")
    image["message"] = {
        "mid": "ig_img",
        "attachments": [{"type": "image", "payload": {"url": "https://x/y"}}],
    }
    account.deliver(image)
    account.settle()
    assert ig_graph.sent("igsid-1")[-1]["text"].startswith("For now I can only read text messages")
    transcript = account.store.messages(conversation_of(account, "igsid-1").id)
    assert transcript[-2].text == "[image]"


def test_a_heart_is_an_acknowledgement_and_an_unsent_message_is_not_answered(open_account, ig_graph):
    account = open_account()
    heart = text("igsid-1", "")
    heart["message"] = {"mid": "ig_heart", "attachments": [{"type": "like_heart"}]}
    unsent = text("igsid-1", "")
    unsent["message"] = {"mid": "ig_gone", "is_deleted": True}
    account.deliver(heart, unsent)
    account.settle()
    (sent,) = ig_graph.sent("igsid-1")
    assert sent["text"] == message("smalltalk_ack", "it")


def test_a_redelivered_mid_gets_no_second_reply(open_account, ig_graph, database_url):
    account = open_account(database_url)
    event = text("igsid-1", "Ho dimenticato la password", mid="ig_retried")
    assert account.deliver(event) == 200
    account.settle()
    assert account.deliver(event) == 200
    account.settle()
    other_process = open_account(database_url)  # another server process on the same store
    assert other_process.deliver(event) == 200
    other_process.settle()
    assert len(ig_graph.sent("igsid-1")) == 1


def test_only_deliveries_for_this_instagram_account_are_answered(open_account, ig_graph):
    account = open_account()
    assert account.post(delivery(text("igsid-1", "spese di spedizione"), account="17841499999999999")) == 200
    page_object = {**delivery(text("igsid-2", "spese di spedizione")), "object": "page"}
    assert account.post(page_object) == 200  # a Messenger delivery sent here is not Instagram's
    account.settle()
    assert ig_graph.requests() == []
    assert account.deliver(text("igsid-3", "spese di spedizione")) == 200
    account.settle()
    assert len(ig_graph.sent("igsid-3")) == 1


def test_the_welcome_language_is_not_asked_of_instagrams_profile(open_account, ig_graph):
    account = open_account(default_lang="en")
    account.deliver(postback("igsid-1", "GET_STARTED", "Hola"))
    account.settle()
    assert [c.method for c in ig_graph.calls] == ["POST", "POST"]  # mark_seen, the greeting: no GET
    assert ig_graph.sent("igsid-1")[0]["text"] == message("greeting", "en")

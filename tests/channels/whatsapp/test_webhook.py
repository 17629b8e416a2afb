"""The WhatsApp channel end to end: signed deliveries into the real app, replies out to a fake
Cloud API that is a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from sqlalchemy import select

from bot.dialogue.messages import message as message_text
from bot.storage.schema import Conversation
from tests.channels.whatsapp.conftest import VERIFY, message, text
from tests.fake_whatsapp import PHONE_NUMBER_ID, webhook


def handshake(phone, **params):
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444", **params}
    return phone.client.get("/webhooks/whatsapp", params=query)


def conversation_of(phone, wa_id: str) -> Conversation:
    with phone.store.session() as session:
        query = select(Conversation).where(
            Conversation.channel == "whatsapp", Conversation.external_id == wa_id
        )
        return session.scalars(query).one()


def test_subscription_handshake(open_app):
    phone = open_app()
    answer = handshake(phone)
    assert answer.status_code == 200 and answer.text == "1158201444"
    assert handshake(phone, **{"hub.verify_token": "guess"}).status_code == 403
    assert handshake(phone, **{"hub.mode": "unsubscribe"}).status_code == 403
    assert phone.client.get("/webhooks/whatsapp").status_code == 403


def test_an_unconfigured_channel_answers_404_with_the_reason(open_app, cloud):
    phone = open_app(whatsapp_app_secret=None, whatsapp_verify_token=None, whatsapp_phone_number_id="")
    assert handshake(phone).status_code == 403
    answer = phone.client.post("/webhooks/whatsapp", content=b"{}")
    assert answer.status_code == 404
    assert "FAQBOT_WHATSAPP_APP_SECRET" in answer.json()["detail"]
    assert "FAQBOT_WHATSAPP_PHONE_NUMBER_ID" in answer.json()["detail"]
    assert phone.client.app.state.whatsapp is None and cloud.calls == []


def test_a_forged_or_missing_signature_is_refused(open_app, cloud):
    phone = open_app()
    assert phone.deliver(text("393331112222", "voglio un operatore"), secret="not-the-secret") == 403
    unsigned = phone.client.post("/webhooks/whatsapp", json=webhook({"messages": []}))
    assert unsigned.status_code == 403
    assert cloud.calls == [] and phone.store.open_tickets() == []


def test_a_text_message_is_read_and_answered_in_whatsapp_formatting(open_app, cloud):
    phone = open_app()
    incoming = text("393331112222", "Ho dimenticato la password")
    assert phone.deliver(incoming) == 200
    phone.settle()
    (read,) = cloud.reads()
    assert read.body == {
        "messaging_product": "whatsapp", "status": "read", "message_id": incoming["id"],
        "typing_indicator": {"type": "text"},
    }  # fmt: skip
    (call,) = cloud.accepted("393331112222")
    assert call.path == f"/v21.0/{PHONE_NUMBER_ID}/messages"
    assert call.headers["authorization"] == "Bearer wa-t0ken" and "access_token" not in call.query
    assert call.body["messaging_product"] == "whatsapp" and call.body["recipient_type"] == "individual"
    assert call.body["biz_opaque_callback_data"].startswith("faqbot:")
    interactive = call.body["interactive"]
    assert interactive["type"] == "button"
    assert interactive["body"]["text"].startswith("Clicca su *Password dimenticata?*")  # **bold** -> *bold*
    titles = [b["reply"]["title"] for b in interactive["action"]["buttons"]]
    assert titles == ["Quanto costa la spe…", "👍", "👎"]
    ids = [b["reply"]["id"] for b in interactive["action"]["buttons"]]
    assert ids[0] == "ARTICLE:shipping-costs" and ids[1].startswith("FEEDBACK:YES:")
    assert conversation_of(phone, "393331112222").last_customer_at is not None


def test_turns_count_under_the_whatsapp_channel(open_app):
    phone = open_app()
    phone.deliver(text("393331112222", "Ho dimenticato la password"))
    phone.settle()
    assert phone.metric('faqbot_decisions_total{channel="whatsapp",decision="answer"}') == 1


def test_media_gets_i_can_only_read_text_in_the_customers_language(open_app, cloud):
    phone = open_app()
    phone.deliver(text("447700900001", "I forgot my password"))  # the conversation is in English
    phone.settle()
    kinds = [
        ("image", {"id": "img-1", "mime_type": "image/jpeg"}), ("audio", {"id": "a-1"}),
        ("video", {"id": "v-1"}),
        ("document", {"id": "d-1", "filename": "receipt.pdf"}), ("sticker", {"id": "s-1"}),
        ("location", {"latitude": 45.46, "longitude": 9.19}),
        ("contacts", [{"name": {"formatted_name": "Ann"}}]),
    ]  # fmt: skip
    for kind, content in kinds:
        assert phone.deliver(message("447700900001", kind, content)) == 200  # type: ignore[arg-type]
    phone.settle()
    replies = cloud.texts("447700900001")[1:]
    assert replies == ["For now I can only read text messages: please type your question in words."] * 7
    transcript = [
        m.text for m in phone.store.messages(conversation_of(phone, "447700900001").id) if m.role == "user"
    ]
    assert "[image]" in transcript and "[location]" in transcript and "[contacts]" in transcript


def test_an_unsupported_message_is_answered_like_media(open_app, cloud):
    phone = open_app()
    unsupported = message("393331112222", "unsupported", {})
    unsupported["errors"] = [{"code": 131051, "title": "Message type unknown"}]
    phone.deliver(unsupported)
    phone.settle()
    assert cloud.texts("393331112222") == [message_text("text_only", "it")]


def test_a_reaction_is_not_answered(open_app, cloud):
    phone = open_app()
    phone.deliver(text("393331112222", "Ho dimenticato la password"))
    phone.settle()
    (answer,) = cloud.accepted()
    reaction = message(
        "393331112222", "reaction", {"message_id": answer.answer["messages"][0]["id"], "emoji": "👎"}
    )
    assert phone.deliver(reaction) == 200
    phone.settle()
    assert len(cloud.accepted()) == 1 and phone.store.open_tickets() == []


def test_changes_for_another_number_of_the_account_are_not_ours(open_app, cloud):
    phone = open_app()
    payload = webhook({"messages": [text("393331112222", "Ho dimenticato la password")]})
    payload["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "999"
    assert phone.deliver(payload=payload) == 200
    phone.settle()
    assert cloud.calls == []


def test_a_redelivered_message_is_answered_once(open_app, cloud):
    phone = open_app()
    incoming = text("393331112222", "Ho dimenticato la password", wamid="wamid.SAME")
    assert phone.deliver(incoming) == 200
    phone.settle()
    assert phone.deliver(incoming) == 200  # Meta delivers it again
    phone.settle()
    assert len(cloud.accepted()) == 1
    users = [m for m in phone.store.messages(conversation_of(phone, "393331112222").id) if m.role == "user"]
    assert len(users) == 1


def test_each_customers_messages_are_answered_in_order(open_app, cloud):
    phone = open_app(whatsapp_workers=2)
    questions = ["spese di spedizione", "come faccio un reso", "ho dimenticato la password"]
    for question in questions:
        phone.deliver(text("393331112222", question), text("393334445555", question))
    phone.settle()
    for wa_id in ("393331112222", "393334445555"):
        replies = [t.lower() for t in cloud.texts(wa_id)]
        assert len(replies) == 3
        assert "spedizione" in replies[0] and "reso" in replies[1] and "password" in replies[2]


def test_account_errors_are_logged_with_their_code(open_app, cloud, caplog):
    phone = open_app()
    payload = webhook({"errors": [{"code": 131000, "title": "Something went wrong"}]})
    assert phone.deliver(payload=payload) == 200
    phone.settle()
    assert "code 131000" in caplog.text and cloud.calls == []

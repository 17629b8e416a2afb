"""Interactive choices on WhatsApp: "did you mean" as reply buttons or a list within WhatsApp's
limits, and a tapped button or row answering the article it offered (or giving feedback)."""

from __future__ import annotations

from bot.dialogue.policy import Thresholds
from tests.channels.whatsapp.conftest import button_reply, list_reply, text
from tests.channels.whatsapp.test_webhook import conversation_of

CUSTOMER = "393331112222"


def last_interactive(cloud) -> dict:
    return [m for m in cloud.sent(CUSTOMER) if m["type"] == "interactive"][-1]["interactive"]


def test_did_you_mean_with_a_person_row_is_a_list_within_the_limits(open_app, cloud):
    phone = open_app(thresholds=Thresholds(answer=1.0, clarify=0.0))  # every question clarifies
    phone.deliver(text(CUSTOMER, "costi spedizione reso password"))
    phone.settle()
    offered = last_interactive(cloud)
    rows = [row for section in offered["action"]["sections"] for row in section["rows"]]
    assert offered["type"] == "list" and offered["body"]["text"].startswith("Non sono sicuro")
    assert len(offered["action"]["button"]) <= 20 and 3 < len(rows) <= 10
    assert rows[-1] == {"id": "PERSON", "title": "Un operatore"}  # none may fit: a person, one tap away
    assert all(r["id"].startswith("ARTICLE:") and len(r["title"]) <= 24 for r in rows[:-1])
    assert rows[0]["title"].startswith("1. ")  # numbered as the text lists them
    assert len({r["id"] for r in rows}) == len(rows)


def test_a_list_row_picked_answers_that_article(open_app, cloud):
    phone = open_app(thresholds=Thresholds(answer=1.0, clarify=0.0))
    phone.deliver(text(CUSTOMER, "costi spedizione"))
    phone.settle()
    row = last_interactive(cloud)["action"]["sections"][0]["rows"][0]
    phone.deliver(list_reply(CUSTOMER, row["id"], row["title"]))
    phone.settle()
    last = phone.store.messages(conversation_of(phone, CUSTOMER).id)[-1]
    assert last.decision == "answer" and last.reason == "picked"
    assert last.article_id == row["id"].removeprefix("ARTICLE:")


def test_two_choices_and_a_person_fit_three_reply_buttons(open_app, cloud):
    phone = open_app(thresholds=Thresholds(answer=1.0, clarify=0.0, max_suggestions=2))
    phone.deliver(text(CUSTOMER, "costi spedizione"))
    phone.settle()
    offered = last_interactive(cloud)
    assert offered["type"] == "button"
    buttons = [b["reply"] for b in offered["action"]["buttons"]]
    assert len(buttons) == 3 and all(len(b["title"]) <= 20 for b in buttons)
    assert buttons[-1]["id"] == "PERSON"
    phone.deliver(button_reply(CUSTOMER, buttons[0]["id"], buttons[0]["title"]))
    phone.settle()
    last = phone.store.messages(conversation_of(phone, CUSTOMER).id)[-1]
    assert (last.decision, last.reason) == ("answer", "picked")


def test_a_follow_up_button_answers_that_article(open_app, cloud):
    phone = open_app()
    phone.deliver(text(CUSTOMER, "Ho dimenticato la password"))
    phone.settle()
    follow = last_interactive(cloud)["action"]["buttons"][0]["reply"]
    phone.deliver(button_reply(CUSTOMER, follow["id"], follow["title"]))
    phone.settle()
    last = phone.store.messages(conversation_of(phone, CUSTOMER).id)[-1]
    assert (last.article_id, last.reason) == ("shipping-costs", "picked")
    assert cloud.texts(CUSTOMER)[-1].startswith("La spedizione standard costa 4,90 euro")


def test_thumbs_down_button_is_negative_feedback_and_hands_off(open_app, cloud):
    phone = open_app()
    phone.deliver(text(CUSTOMER, "Ho dimenticato la password"))
    phone.settle()
    down = last_interactive(cloud)["action"]["buttons"][2]["reply"]
    assert down["title"] == "👎"
    phone.deliver(button_reply(CUSTOMER, down["id"], down["title"]))
    phone.settle()
    (ticket,) = phone.admin("GET", "/handoffs").json()["items"]
    assert ticket["channel"] == "whatsapp"
    assert "persona" in cloud.texts(CUSTOMER)[-1]


def test_a_long_answer_is_split_at_paragraphs_and_the_buttons_ride_on_the_last(open_app, cloud):
    phone = open_app()
    phone.deliver(text(CUSTOMER, "politica completa dei resi"))
    phone.settle()
    sent = cloud.sent(CUSTOMER)
    assert len(sent) >= 2 and all(m["type"] == "text" for m in sent[:-1])
    assert all(len(m["text"]["body"]) <= 4096 for m in sent[:-1])
    assert sent[0]["text"]["body"].startswith("Paragrafo 1") and "\n\n" in sent[0]["text"]["body"]
    assert sent[-1]["type"] == "interactive" and sent[-1]["interactive"]["body"]["text"].startswith(
        "Paragrafo 5"
    )

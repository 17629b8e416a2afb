"""How a Messenger conversation opens and what the bot makes of what it cannot act on: Get Started
and m.me links greet in the customer's language and may open on an article; an old menu's
button, an article gone since, or a link on its own is answered, never handed to a person unasked;
the hand-off's metadata is valid JSON whatever the question's length."""

from __future__ import annotations

import json

from bot.channels.messenger import payloads
from bot.dialogue.messages import message
from tests.messenger_kit import PAGE_ID, now_ms, postback, text


def get_started(psid: str, title: str, ref: str | None = None) -> dict:
    event = postback(psid, payloads.GET_STARTED, title)
    if ref is not None:
        event["postback"]["referral"] = {"ref": ref, "source": "SHORTLINK", "type": "OPEN_THREAD"}
    return event


def referral(psid: str, ref: str) -> dict:
    return {
        "sender": {"id": psid},
        "recipient": {"id": PAGE_ID},
        "timestamp": now_ms(),
        "referral": {"ref": ref, "source": "SHORTLINK", "type": "OPEN_THREAD"},
    }


def texts(graph, psid: str) -> list[str]:
    return [m["text"] for m in graph.sent(psid)]


def test_get_started_greets_in_the_language_of_the_button(open_page, graph):
    page = open_page()
    page.deliver(get_started("psid-en", "Get Started"), get_started("psid-it", "Inizia"))
    page.settle()
    assert texts(graph, "psid-en") == [message("greeting", "en")]
    assert texts(graph, "psid-it") == [message("greeting", "it")]


def test_an_unknown_button_title_greets_in_the_customers_messenger_locale(open_page, graph):
    page = open_page()
    graph.locales["psid-1"] = "en_GB"
    page.deliver(get_started("psid-1", "Los geht's"))
    page.settle()
    assert texts(graph, "psid-1") == [message("greeting", "en")]
    lookup = [c for c in graph.calls if c.method == "GET"]
    assert lookup and lookup[0].path.endswith("/psid-1") and lookup[0].query["fields"] == "locale"
    # The greeting's language sticks: an English conversation continues in English.
    page.deliver(postback("psid-1", payloads.START_OVER, "Neu anfangen"))
    page.settle()
    assert texts(graph, "psid-1")[-1] == message("start_over", "en")


def test_without_a_locale_the_default_language_greets(open_page, graph):
    page = open_page()  # the fake grants no `locale` for this customer
    page.deliver(get_started("psid-1", "Commencer"))
    page.settle()
    assert texts(graph, "psid-1") == [message("greeting", "it")]


def test_a_link_ref_naming_an_article_opens_on_it_in_its_language(open_page, graph):
    page = open_page()
    page.deliver(get_started("psid-1", "Inizia", ref="shipping-costs-en"))
    page.settle()
    (answer,) = texts(graph, "psid-1")
    assert "shipping" in answer.lower() and page.store.open_tickets() == []


def test_a_link_ref_naming_a_language_greets_in_it(open_page, graph):
    page = open_page()
    page.deliver(get_started("psid-1", "Inizia", ref="en"))
    page.settle()
    assert texts(graph, "psid-1") == [message("greeting", "en")]


def test_a_customer_in_the_thread_who_follows_a_link_gets_its_topic(open_page, graph):
    page = open_page()
    page.deliver(text("psid-1", "ciao"))
    page.settle()
    page.deliver(referral("psid-1", "returns-how"))
    page.settle()
    assert "reso" in texts(graph, "psid-1")[-1].lower() and page.store.open_tickets() == []
    page.deliver(referral("psid-1", "spring-campaign-2025"))  # a ref the KB does not know: a greeting
    page.settle()
    assert texts(graph, "psid-1")[-1] == message("greeting", "it") and page.store.open_tickets() == []


def test_an_old_menu_button_is_answered_not_handed_off(open_page, graph):
    page = open_page()
    page.deliver(postback("psid-1", "MENU_ORDERS", "I miei ordini"))
    page.settle()
    (reply,) = graph.sent("psid-1")
    assert reply["text"] == message("stale_button", "it") and page.store.open_tickets() == []
    assert [q["payload"] for q in reply["quick_replies"]] == [payloads.PERSON]


def test_a_button_for_an_article_gone_since_is_answered_not_handed_off(open_page, graph):
    page = open_page()
    page.deliver(postback("psid-1", payloads.article("summer-sale-2024"), "Saldi estivi"))
    page.settle()
    assert texts(graph, "psid-1") == [message("stale_button", "it")]
    assert page.store.open_tickets() == []


def test_an_unknown_button_whose_title_the_bot_answers_is_answered(open_page, graph):
    page = open_page()
    page.deliver(postback("psid-1", "MENU_SHIPPING", "Quanto costa la spedizione"))
    page.settle()
    (reply,) = texts(graph, "psid-1")
    assert "spedizione" in reply.lower() and reply != message("stale_button", "it")


def test_a_link_on_its_own_is_answered_not_handed_off(open_page, graph):
    page = open_page()
    page.deliver(text("psid-1", "https://shop.example.com/p/12345?utm_source=fb"))
    page.settle()
    (reply,) = graph.sent("psid-1")
    assert reply["text"] == message("link_only", "it") and page.store.open_tickets() == []
    assert [q["payload"] for q in reply["quick_replies"]] == [payloads.PERSON]


def test_a_long_question_hands_off_with_valid_metadata(open_page, graph):
    page = open_page()
    question = "Voglio parlare con un operatore: " + 'il pacco è arrivato «aperto» e "rotto". ' * 45
    page.deliver(text("psid-1", question[:1990]))
    page.settle()
    (passed,) = [c for c in graph.requests() if c.path.endswith("/pass_thread_control")]
    assert passed.status == 200 and len(passed.body["metadata"]) <= 1000  # the fake enforces it too
    summary = json.loads(passed.body["metadata"])
    assert summary["ticket_id"] == page.store.open_tickets()[0][0].id
    assert summary["question"].startswith("Voglio parlare con un operatore")

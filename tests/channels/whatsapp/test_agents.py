"""Hand-offs on WhatsApp go to faqbot's own agent inbox: the bot goes silent, agents' replies
reach the customer (free text within 24 hours, the approved template after, or refused with the
reason), and closing the ticket hands the customer back to the bot."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from bot.storage.schema import Conversation
from tests.channels.whatsapp.conftest import text
from tests.channels.whatsapp.test_webhook import conversation_of

CUSTOMER = "393331112222"


def handed_off(open_app, **overrides):
    phone = open_app(**overrides)
    phone.deliver(text(CUSTOMER, "voglio parlare con un operatore"))
    phone.settle()
    (ticket,) = phone.admin("GET", "/handoffs").json()["items"]
    return phone, ticket["ticket_id"]


def customer_wrote(phone, hours_ago: float) -> None:
    """The customer's last message was `hours_ago` (in our store and at the fake Cloud API)."""
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)
    with phone.store.session() as session:
        session.execute(
            update(Conversation).where(Conversation.external_id == CUSTOMER).values(last_customer_at=moment)
        )
    phone.cloud.last_customer[CUSTOMER] = moment


def reply(phone, ticket: str, body: str, **extra) -> dict:
    answer = phone.admin("POST", f"/handoffs/{ticket}/reply", json={"text": body, **extra})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_handoff_tells_the_wait_and_the_bot_then_stays_silent(open_app, cloud):
    phone, _ticket = handed_off(open_app)
    (notice,) = cloud.texts(CUSTOMER)
    assert "persona del nostro servizio clienti" in notice
    phone.deliver(text(CUSTOMER, "ci siete? il mio ordine 1234"))
    phone.settle()
    assert len(cloud.accepted()) == 1 and len(cloud.reads()) == 1  # not answered, not even "read"
    transcript = [m.text for m in phone.store.messages(conversation_of(phone, CUSTOMER).id)]
    assert "ci siete? il mio ordine 1234" in transcript


def test_an_agent_reply_reaches_the_customer_and_close_hands_back(open_app, cloud):
    phone, ticket = handed_off(open_app)
    answer = reply(phone, ticket, "Ciao, sono Giulia: controllo il tuo ordine.")
    assert answer["delivered"] is True
    assert cloud.sent(CUSTOMER)[-1] == {
        "type": "text", "text": {"body": "Ciao, sono Giulia: controllo il tuo ordine.", "preview_url": False}
    }  # fmt: skip
    assert reply(phone, ticket, "Fatto, buona giornata!", close=True)["delivered"] is True
    assert cloud.texts(CUSTOMER)[-1] == "Fatto, buona giornata!"
    phone.deliver(text(CUSTOMER, "Ho dimenticato la password"))  # the bot answers again
    phone.settle()
    assert cloud.texts(CUSTOMER)[-1].startswith("Clicca su *Password dimenticata?*")


def test_closing_the_ticket_tells_the_customer_and_the_bot_answers_again(open_app, cloud):
    phone, ticket = handed_off(open_app)
    assert phone.admin("POST", f"/handoffs/{ticket}/close").status_code == 200
    assert cloud.texts(CUSTOMER)[-1].startswith("L'operatore ha chiuso la conversazione")
    assert conversation_of(phone, CUSTOMER).status == "bot"
    phone.deliver(text(CUSTOMER, "spese di spedizione"))
    phone.settle()
    assert "4,90" in cloud.texts(CUSTOMER)[-1]


def test_after_24_hours_the_reply_goes_as_the_approved_template(open_app, cloud):
    phone, ticket = handed_off(
        open_app, whatsapp_agent_template="agent_reply", whatsapp_agent_template_lang="it"
    )
    cloud.template("agent_reply", "it", parameters=1)
    customer_wrote(phone, hours_ago=30)
    answer = reply(phone, ticket, "Il rimborso è partito.\n\nArriva in 5 giorni.")
    assert answer["delivered"] is True and "template 'agent_reply'" in answer["detail"]
    template = cloud.sent(CUSTOMER)[-1]["template"]
    assert template["name"] == "agent_reply" and template["language"] == {"code": "it"}
    (parameter,) = template["components"][0]["parameters"]
    assert parameter == {"type": "text", "text": "Il rimborso è partito. · Arriva in 5 giorni."}


def test_after_24_hours_without_a_template_the_reply_is_refused_with_the_reason(open_app, cloud):
    phone, ticket = handed_off(open_app)
    customer_wrote(phone, hours_ago=30)
    calls = len(cloud.calls)
    answer = reply(phone, ticket, "Ci sei?")
    assert answer["delivered"] is False and "24 hours" in answer["detail"]
    assert "FAQBOT_WHATSAPP_AGENT_TEMPLATE" in answer["detail"]
    assert len(cloud.calls) == calls  # not even tried: WhatsApp would refuse it (131047)
    transcript = phone.store.messages(conversation_of(phone, CUSTOMER).id)
    assert [m.text for m in transcript if m.role == "agent"][-1] == "Ci sei?"  # recorded all the same


def test_free_text_outside_the_window_is_refused_by_whatsapp_and_said(open_app, cloud):
    """Our clock and WhatsApp's can disagree: the fake says the window closed, with 131047."""
    phone, ticket = handed_off(open_app)
    cloud.last_customer[CUSTOMER] = dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)
    answer = reply(phone, ticket, "Ci sei?")
    assert answer["delivered"] is False and "131047" in answer["detail"]
    assert phone.metric('faqbot_channel_send_failures_total{channel="whatsapp",code="131047"}') == 1

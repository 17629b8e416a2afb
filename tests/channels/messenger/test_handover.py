"""Hand-offs on Messenger: the thread passed to the Page Inbox, staff replies through the Send API
(24-hour window, HUMAN_AGENT tag), the thread taken back, and the staff console's view."""

from __future__ import annotations

import datetime as dt
import json
import re

from sqlalchemy import select, update

from bot.storage.schema import Conversation
from tests.messenger_kit import INBOX, control, postback, text

OUR_APP = "1234567890"


def conversation_of(page, psid: str) -> Conversation:
    with page.store.session() as session:
        query = select(Conversation).where(
            Conversation.channel == "messenger", Conversation.external_id == psid
        )
        return session.scalars(query).one()


def handed_off(open_page, graph, psid: str = "psid-1", **overrides):
    """A customer who asked for a person, with the thread passed to the Page Inbox."""
    page = open_page(messenger_app_id=OUR_APP, **overrides)
    page.deliver(text(psid, "voglio parlare con un operatore"))
    page.settle()
    return page


def customer_wrote(page, psid: str, hours_ago: float) -> None:
    moment = dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours_ago)
    with page.store.session() as session:
        session.execute(
            update(Conversation).where(Conversation.external_id == psid).values(last_customer_at=moment)
        )


def test_a_handoff_tells_the_wait_and_passes_the_thread_to_the_page_inbox(open_page, graph):
    page = handed_off(open_page, graph)
    notice, passed = graph.requests()
    assert "persona del nostro servizio clienti" in notice.body["message"]["text"]
    assert "circa 5 minuti" in notice.body["message"]["text"]
    assert passed.path == "/v21.0/me/pass_thread_control"
    assert passed.body["recipient"] == {"id": "psid-1"} and passed.body["target_app_id"] == INBOX
    summary = json.loads(passed.body["metadata"])
    (ticket,) = page.admin("GET", "/handoffs").json()["items"]
    assert summary["ticket_id"] == ticket["ticket_id"] and summary["reason"] == "requested"
    assert summary["question"] == "voglio parlare con un operatore" and summary["lang"] == "it"
    assert ticket["channel"] == "messenger" and conversation_of(page, "psid-1").thread_owner == "inbox"
    (missed,) = page.admin("GET", "/missed", params={"channel": "messenger"}).json()["items"]
    assert missed["reason"] == "handoff" and missed["channel"] == "messenger"


def test_while_the_inbox_holds_the_thread_the_bot_listens_silently(open_page, graph):
    page = handed_off(open_page, graph)
    before = len(graph.requests())
    page.deliver(text("psid-1", "ci siete? il mio ordine 1234"), standby=True)
    page.settle()
    assert len(graph.requests()) == before
    transcript = page.store.messages(conversation_of(page, "psid-1").id)
    assert transcript[-2].text == "ci siete? il mio ordine 1234" and transcript[-1].reason == "agent_holds"


def test_the_inbox_passing_the_thread_back_closes_the_ticket_and_the_bot_answers_again(open_page, graph):
    page = handed_off(open_page, graph)
    page.deliver(control("psid-1", "pass", OUR_APP, previous_owner=INBOX))
    page.settle()
    assert page.admin("GET", "/handoffs").json()["items"] == []
    assert "take_thread_control" not in graph.paths()  # it is ours already
    assert graph.sent("psid-1")[-1]["text"].startswith("L'operatore ha chiuso la conversazione")
    page.deliver(text("psid-1", "spese di spedizione"))
    page.settle()
    assert graph.sent("psid-1")[-1]["text"].startswith("La spedizione standard costa")
    conversation = conversation_of(page, "psid-1")
    assert (conversation.status, conversation.thread_owner) == ("bot", "bot")


def test_a_person_taking_the_thread_in_the_inbox_silences_the_bot(open_page, graph):
    page = open_page(messenger_app_id=OUR_APP)
    page.deliver(text("psid-1", "spese di spedizione"))
    page.deliver(control("psid-1", "take", INBOX, previous_owner=OUR_APP))
    page.settle()
    (ticket,) = page.admin("GET", "/handoffs").json()["items"]
    assert ticket["reason"] == "inbox" and conversation_of(page, "psid-1").thread_owner == "inbox"
    page.deliver(text("psid-1", "e i resi?"))  # even if Meta delivered it as ours, a person holds it
    page.settle()
    assert len(graph.sent("psid-1")) == 1


def test_agent_replies_take_the_thread_and_respect_the_messaging_window(open_page, graph):
    page = handed_off(open_page, graph)
    ticket = page.admin("GET", "/handoffs").json()["items"][0]["ticket_id"]
    reply = page.admin("POST", f"/handoffs/{ticket}/reply", json={"text": "Ciao, sono Giulia."}).json()
    assert reply["delivered"] is True
    assert graph.paths()[-2:] == ["take_thread_control", "messages"]
    assert graph.requests()[-1].body["messaging_type"] == "RESPONSE"
    assert graph.sent()[-1] == {"text": "Ciao, sono Giulia."}

    customer_wrote(page, "psid-1", hours_ago=30)
    late = page.admin("POST", f"/handoffs/{ticket}/reply", json={"text": "Ecco il rimborso."}).json()
    assert late["delivered"] is True
    assert (
        graph.requests()[-1].body["messaging_type"] == "MESSAGE_TAG"
        and graph.requests()[-1].body["tag"] == "HUMAN_AGENT"
    )

    customer_wrote(page, "psid-1", hours_ago=8 * 24)
    calls = len(graph.requests())
    too_late = page.admin("POST", f"/handoffs/{ticket}/reply", json={"text": "Ci sei?"}).json()
    assert too_late["delivered"] is False and "7 days" in too_late["detail"]
    assert len(graph.requests()) == calls
    transcript = page.store.messages(conversation_of(page, "psid-1").id)
    assert [m.text for m in transcript if m.role == "agent"][-1] == "Ci sei?"  # recorded all the same


def test_without_the_human_agent_tag_no_reply_after_24_hours(open_page, graph):
    page = handed_off(open_page, graph, messenger_human_agent_tag=False)
    customer_wrote(page, "psid-1", hours_ago=30)
    ticket = page.admin("GET", "/handoffs").json()["items"][0]["ticket_id"]
    answer = page.admin("POST", f"/handoffs/{ticket}/reply", json={"text": "Ciao"}).json()
    assert answer["delivered"] is False and "HUMAN_AGENT tag is off" in answer["detail"]


def test_closing_the_ticket_takes_the_thread_back_and_tells_the_customer(open_page, graph):
    page = handed_off(open_page, graph)
    ticket = page.admin("GET", "/handoffs").json()["items"][0]["ticket_id"]
    assert page.admin("POST", f"/handoffs/{ticket}/close").status_code == 200
    assert graph.paths()[-2:] == ["take_thread_control", "messages"]
    assert graph.sent("psid-1")[-1]["text"].startswith("L'operatore ha chiuso la conversazione")
    conversation = conversation_of(page, "psid-1")
    assert (conversation.status, conversation.thread_owner) == ("bot", "bot")


def test_a_reply_that_closes_sends_then_takes_the_thread_back(open_page, graph):
    page = handed_off(open_page, graph)
    ticket = page.admin("GET", "/handoffs").json()["items"][0]["ticket_id"]
    body = {"text": "Risolto, buona giornata!", "close": True}
    assert page.admin("POST", f"/handoffs/{ticket}/reply", json=body).json()["delivered"] is True
    assert graph.paths()[-2:] == ["take_thread_control", "messages"]
    assert conversation_of(page, "psid-1").status == "bot"


def test_if_meta_refuses_the_pass_the_bot_keeps_the_thread_and_staff_still_reach_the_customer(
    open_page, graph, caplog
):
    graph.then(
        "/me/pass_thread_control", 400, {"error": {"message": "(#10) not a secondary receiver", "code": 10}}
    )
    page = handed_off(open_page, graph)
    assert "Graph error code 10" in caplog.text
    assert conversation_of(page, "psid-1").thread_owner == "bot"
    ticket = page.admin("GET", "/handoffs").json()["items"][0]["ticket_id"]
    assert (
        page.admin("POST", f"/handoffs/{ticket}/reply", json={"text": "Eccomi"}).json()["delivered"] is True
    )
    assert "take_thread_control" not in graph.paths()


def test_a_failed_agent_delivery_is_reported_and_the_reply_kept(open_page, graph):
    page = handed_off(open_page, graph)
    graph.then("/me/take_thread_control", 400, {"error": {"message": "(#100) nope", "code": 100}})
    ticket = page.admin("GET", "/handoffs").json()["items"][0]["ticket_id"]
    answer = page.admin("POST", f"/handoffs/{ticket}/reply", json={"text": "Eccomi"}).json()
    assert answer["delivered"] is False and "Graph error code 100" in answer["detail"]
    assert [m.text for m in page.store.messages(conversation_of(page, "psid-1").id) if m.role == "agent"] == [
        "Eccomi"
    ]


def test_the_person_button_and_unhelpful_feedback_hand_off(open_page, graph):
    page = open_page(messenger_app_id=OUR_APP)
    page.deliver(postback("psid-1", "PERSON", "Talk to a person"))
    page.settle()
    assert graph.paths() == ["messages", "pass_thread_control"]
    assert graph.sent("psid-1")[0]["text"].startswith("Of course, I'm putting you in touch")

    page.deliver(text("psid-2", "Ho dimenticato la password"))
    page.settle()
    thumbs = {q["title"]: q for q in graph.sent("psid-2")[0]["quick_replies"]}
    up, down = thumbs["👍"], thumbs["👎"]
    page.deliver(text("psid-2", "👍", quick_reply=up["payload"]))
    page.deliver(text("psid-2", "👎", quick_reply=down["payload"]))
    page.deliver(text("psid-2", "👎", quick_reply="FEEDBACK:NO:m_not_this_conversation"))
    page.settle()
    texts = [m["text"] for m in graph.sent("psid-2")]
    assert texts[1] == "Grazie del riscontro!" and texts[2].startswith("Mi dispiace che la risposta")
    assert len(texts) == 3 and graph.paths()[-1] == "pass_thread_control"
    stats = page.admin("GET", "/stats").json()
    assert (stats["helpful"], stats["unhelpful"]) == (1, 1) and stats["by_channel"] == {"messenger": 2}
    reasons = {
        m["reason"] for m in page.admin("GET", "/missed", params={"channel": "messenger"}).json()["items"]
    }
    assert reasons == {"handoff", "negative_feedback"}


def test_the_staff_console_reply_reaches_messenger_and_says_when_it_did_not(open_page, graph):
    page = handed_off(open_page, graph)
    client = page.client
    login = client.get("/admin/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)
    client.post("/admin/login", data={"csrf": csrf, "token": "staff-token", "name": "giulia"})
    cid = conversation_of(page, "psid-1").id
    here = client.get(f"/admin/conversations/{cid}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', here.text).group(1)
    ok = client.post(f"/admin/conversations/{cid}/reply", data={"csrf": csrf, "text": "Ciao dal pannello"})
    assert "Reply sent." in ok.text and graph.sent("psid-1")[-1] == {"text": "Ciao dal pannello"}
    graph.then("/me/messages", 400, {"error": {"message": "(#551) unavailable", "code": 551}})
    failed = client.post(f"/admin/conversations/{cid}/reply", data={"csrf": csrf, "text": "Ci sei?"})
    assert "the customer did not get it" in failed.text and "551" in failed.text
    closed = client.post(f"/admin/conversations/{cid}/close", data={"csrf": csrf})
    assert "back with the bot" in closed.text
    assert graph.sent("psid-1")[-1]["text"].startswith("L'operatore ha chiuso")

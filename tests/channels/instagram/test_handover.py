"""Hand-offs on Instagram: the thread passed to the Page Inbox (Handover Protocol, as on
Messenger), the bot silent while a person holds it, the inbox handing it back, and agents'
replies from the admin API reaching the Instagram customer."""

from __future__ import annotations

import json

from tests.channels.instagram.conftest import OUR_APP
from tests.channels.instagram.test_webhook import conversation_of
from tests.messenger_kit import INBOX, control, text


def handed_off(open_account, igsid: str = "igsid-1", **overrides):
    account = open_account(**overrides)
    account.deliver(text(igsid, "voglio parlare con un operatore"))
    account.settle()
    return account


def test_a_handoff_passes_the_thread_to_the_page_inbox(open_account, ig_graph):
    account = handed_off(open_account)
    notice, passed = ig_graph.requests()
    assert "persona del nostro servizio clienti" in notice.body["message"]["text"]
    assert passed.path == "/v21.0/me/pass_thread_control"
    assert passed.body["recipient"] == {"id": "igsid-1"} and passed.body["target_app_id"] == INBOX
    summary = json.loads(passed.body["metadata"])
    (ticket,) = account.admin("GET", "/handoffs").json()["items"]
    assert summary["ticket_id"] == ticket["ticket_id"] and ticket["channel"] == "instagram"
    assert conversation_of(account, "igsid-1").thread_owner == "inbox"


def test_while_the_inbox_holds_the_thread_the_bot_is_silent(open_account, ig_graph):
    account = handed_off(open_account)
    before = len(ig_graph.requests())
    account.deliver(text("igsid-1", "ci siete? il mio ordine 1234"), standby=True)
    account.deliver(text("igsid-1", "spese di spedizione"))  # even delivered as ours: a person holds it
    account.settle()
    assert len(ig_graph.requests()) == before
    transcript = account.store.messages(conversation_of(account, "igsid-1").id)
    assert "ci siete? il mio ordine 1234" in [m.text for m in transcript]
    assert transcript[-1].reason == "agent_holds"


def test_the_inbox_passing_the_thread_back_returns_it_to_the_bot(open_account, ig_graph):
    account = handed_off(open_account)
    account.deliver(control("igsid-1", "pass", OUR_APP, previous_owner=INBOX))
    account.settle()
    assert account.admin("GET", "/handoffs").json()["items"] == []
    assert ig_graph.sent("igsid-1")[-1]["text"].startswith("L'operatore ha chiuso la conversazione")
    account.deliver(text("igsid-1", "spese di spedizione"))
    account.settle()
    assert ig_graph.sent("igsid-1")[-1]["text"].startswith("La spedizione standard costa")
    conversation = conversation_of(account, "igsid-1")
    assert (conversation.status, conversation.thread_owner) == ("bot", "bot")


def test_an_agent_reply_from_the_admin_api_reaches_the_instagram_customer(open_account, ig_graph):
    account = handed_off(open_account)
    ticket = account.admin("GET", "/handoffs").json()["items"][0]["ticket_id"]
    reply = account.admin("POST", f"/handoffs/{ticket}/reply", json={"text": "Ciao, sono Giulia."}).json()
    assert reply["delivered"] is True
    assert ig_graph.paths()[-2:] == ["take_thread_control", "messages"]  # only the holder may write
    assert ig_graph.sent("igsid-1")[-1] == {"text": "Ciao, sono Giulia."}
    long = account.admin("POST", f"/handoffs/{ticket}/reply", json={"text": "Dettagli. " * 150}).json()
    assert long["delivered"] is True  # 1500 characters: two messages within Instagram's 1000
    assert [len(m["text"]) <= 1000 for m in ig_graph.sent("igsid-1")[-2:]] == [True, True]
    ig_graph.then("/me/messages", 400, {"error": {"message": "(#551) unavailable", "code": 551}})
    failed = account.admin("POST", f"/handoffs/{ticket}/reply", json={"text": "Ci sei?"}).json()
    assert failed["delivered"] is False and failed["detail"].startswith("Instagram refused it")

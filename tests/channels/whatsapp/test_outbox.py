"""Replies survive a Cloud API that is down, rate-limits or loses answers: kept in the store's
outbox (the same one Messenger uses, rows of channel "whatsapp"), sent again in order per customer,
confirmed by the status webhooks, counted in /metrics."""

from __future__ import annotations

import json
import time

from bot.channels.graph.signature import signature
from tests.channels.whatsapp.conftest import SECRET, text
from tests.fake_whatsapp import cloud_error

QUESTIONS = ["spese di spedizione", "come faccio un reso", "ho dimenticato la password"]
CUSTOMER = "393331112222"


def depth(phone) -> int:
    return phone.store.outbound_depth("whatsapp")


def eventually(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def deliver_status(phone, payload: dict) -> None:
    body = json.dumps(payload).encode()
    headers = {"X-Hub-Signature-256": signature(SECRET.encode(), body), "Content-Type": "application/json"}
    assert phone.client.post("/webhooks/whatsapp", content=body, headers=headers).status_code == 200
    phone.settle()


def test_an_outage_keeps_replies_and_sends_them_in_order_when_it_ends(open_app, cloud):
    phone = open_app(replay_interval=0.1)
    cloud.down(60)
    for question in QUESTIONS:
        assert phone.deliver(text(CUSTOMER, question)) == 200
        phone.settle()
    assert cloud.accepted() == [] and depth(phone) == 3
    assert phone.metric('faqbot_channel_outbox_depth{channel="whatsapp"}') == 3
    assert phone.metric('faqbot_channel_send_failures_total{channel="whatsapp",code="2"}') >= 1
    assert phone.metric("faqbot_messenger_outbox_depth") == 0  # Messenger's figures are its own
    cloud.up()
    cloud.wait(lambda calls: len(cloud.accepted(CUSTOMER)) == 3, timeout=15)
    replies = [t.lower() for t in cloud.texts(CUSTOMER)]
    assert "spedizione" in replies[0] and "reso" in replies[1] and "password" in replies[2]
    eventually(lambda: depth(phone) == 0)
    time.sleep(0.3)
    assert len(cloud.accepted(CUSTOMER)) == 3  # each once


def test_a_waiting_customer_is_not_answered_out_of_order_and_others_are_not_held(open_app, cloud):
    phone = open_app(replay_interval=0.1)
    outage = cloud_error("(#2) Service temporarily unavailable", 2, transient=True)
    cloud.then("/messages", 503, outage)
    cloud.then("/messages", 503, outage)
    phone.deliver(text(CUSTOMER, QUESTIONS[0]))
    phone.settle()
    phone.deliver(text(CUSTOMER, QUESTIONS[1]))  # the API takes messages again, but this one queues
    phone.settle()
    phone.deliver(text("393334445555", QUESTIONS[2]))
    phone.settle()
    assert len(cloud.accepted("393334445555")) == 1
    cloud.wait(lambda calls: len(cloud.accepted(CUSTOMER)) == 2, timeout=15)
    first, second = (t.lower() for t in cloud.texts(CUSTOMER))
    assert "spedizione" in first and "reso" in second


def test_the_throughput_limit_is_retried_then_kept_and_counted(open_app, cloud):
    phone = open_app(replay_interval=0.1)
    cloud.then("/messages", 400, cloud_error("(#130429) Rate limit hit", 130429))
    phone.deliver(text(CUSTOMER, QUESTIONS[0]))  # one immediate retry goes through
    phone.settle()
    assert [c.status for c in cloud.calls if "type" in c.body] == [400, 200]
    for _ in range(2):  # the immediate retry is refused too: the outbox keeps it
        cloud.then("/messages", 400, cloud_error("(#130429) Rate limit hit", 130429))
    phone.deliver(text(CUSTOMER, QUESTIONS[1]))
    phone.settle()
    assert phone.metric('faqbot_channel_send_failures_total{channel="whatsapp",code="130429"}') == 1
    cloud.wait(lambda calls: len(cloud.accepted(CUSTOMER)) == 2, timeout=10)
    eventually(lambda: depth(phone) == 0)


def test_an_undeliverable_number_is_counted_and_not_kept(open_app, cloud):
    phone = open_app()
    cloud.undeliverable(CUSTOMER)
    phone.deliver(text(CUSTOMER, QUESTIONS[0]))
    phone.settle()
    assert depth(phone) == 0 and cloud.accepted() == []
    assert phone.metric('faqbot_channel_send_failures_total{channel="whatsapp",code="131026"}') == 1


def test_a_lost_answer_confirmed_by_its_status_is_not_sent_twice(open_app, cloud):
    phone = open_app(whatsapp_send_timeout=0.3, whatsapp_echo_grace=1.0, replay_interval=0.1)
    cloud.then("/messages", 200, delay=0.8)  # carried out; its answer comes after the timeout
    phone.deliver(text(CUSTOMER, QUESTIONS[0]))
    phone.settle()
    (call,) = cloud.wait(lambda calls: len(cloud.accepted()) == 1)[-1:]
    assert depth(phone) == 1  # unsure: waiting for the status
    deliver_status(phone, cloud.status(call, "sent"))
    time.sleep(1.5)  # past the grace: without the status it would be sent again now
    assert len(cloud.accepted(CUSTOMER)) == 1 and depth(phone) == 0
    assert phone.metric('faqbot_channel_send_failures_total{channel="whatsapp",code="unsure"}') == 1


def test_a_lost_answer_without_a_status_is_sent_again(open_app, cloud):
    phone = open_app(whatsapp_send_timeout=0.3, whatsapp_echo_grace=0.5, replay_interval=0.1)
    cloud.then("/messages", 503, {}, delay=0.8)  # never carried out, its answer lost
    phone.deliver(text(CUSTOMER, QUESTIONS[0]))
    phone.settle()
    cloud.wait(lambda calls: len(cloud.accepted(CUSTOMER)) == 1, timeout=10)
    eventually(lambda: depth(phone) == 0)


def test_a_failed_status_is_counted_and_logged_with_its_code(open_app, cloud, caplog):
    phone = open_app()
    phone.deliver(text(CUSTOMER, QUESTIONS[0]))
    phone.settle()
    (call,) = cloud.accepted()
    deliver_status(phone, cloud.status(call, "delivered"))
    deliver_status(phone, cloud.status(call, "failed", (131026, "Message undeliverable")))
    assert phone.metric('faqbot_channel_send_failures_total{channel="whatsapp",code="131026"}') == 1
    assert "error code 131026" in caplog.text
    assert len(cloud.accepted()) == 1  # a status is never answered


def test_the_outbox_survives_a_restart(open_app, cloud, database_url):
    from bot.storage.store import Store

    store = Store(database_url).open()
    try:
        first = open_app(store=store)
        cloud.down(60)
        first.deliver(text(CUSTOMER, QUESTIONS[0]))
        first.settle()
        first.close()
        assert store.outbound_depth("whatsapp") == 1
        cloud.up()
        second = open_app(store=store, replay_interval=0.1)
        cloud.wait(lambda calls: len(cloud.accepted(CUSTOMER)) == 1, timeout=15)
        assert "spedizione" in cloud.texts(CUSTOMER)[0].lower()
        second.close()
    finally:
        store.close()

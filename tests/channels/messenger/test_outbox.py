"""Replies survive a Graph API that refuses, rate-limits, loses answers or is down, and a restart:
kept in the store's outbox, sent again in order per customer, counted in /metrics. Against the
fake Graph API (a real HTTP server that answers as Meta documents)."""

from __future__ import annotations

import datetime as dt
import json
import time

from sqlalchemy import select, update

from bot.channels.messenger.events import CHANNEL
from bot.channels.messenger.graph import GraphClient
from bot.channels.messenger.sender import Sender, Sent
from bot.storage.outbox import Queued
from bot.storage.schema import OutboxMessage
from bot.storage.store import Store
from tests.fake_graph import graph_error
from tests.messenger_kit import PAGE_TOKEN, SECRET, text

QUESTIONS = ["spese di spedizione", "come faccio un reso", "ho dimenticato la password"]


def metric(page, name: str) -> float:
    """A sample's value in /metrics, `name` with its labels as exported (0 when absent)."""
    for line in page.client.get("/metrics").text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def depth(store: Store) -> int:
    return store.outbound_depth(CHANNEL)


def eventually(condition, timeout: float = 10.0) -> None:
    """Wait for `condition()` (the fake records a send before its answer reaches the sender)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_an_outage_keeps_replies_and_sends_them_in_order_when_it_ends(open_page, graph):
    page = open_page(replay_interval=0.1)
    graph.down(60)
    for question in QUESTIONS:
        assert page.deliver(text("psid-1", question)) == 200
        page.settle()
    assert graph.sent("psid-1") == [] and depth(page.store) == 3
    assert metric(page, "faqbot_messenger_outbox_depth") == 3
    assert metric(page, 'faqbot_messenger_send_failures_total{code="2"}') >= 1
    graph.up()
    graph.wait(lambda calls: len(graph.sent("psid-1")) == 3, timeout=15)
    replies = [m["text"] for m in graph.sent("psid-1")]
    assert "spedizione" in replies[0].lower() and "reso" in replies[1].lower()
    assert "password" in replies[2].lower()
    eventually(lambda: depth(page.store) == 0)
    time.sleep(0.3)
    assert len(graph.sent("psid-1")) == 3  # each once


def test_a_customer_whose_reply_waits_is_not_answered_out_of_order(open_page, graph):
    page = open_page(replay_interval=0.1)
    graph.then("/me/messages", 503, graph_error("(#2) Service temporarily unavailable", 2, transient=True))
    graph.then("/me/messages", 503, graph_error("(#2) Service temporarily unavailable", 2, transient=True))
    page.deliver(text("psid-1", QUESTIONS[0]))
    page.settle()
    page.deliver(text("psid-1", QUESTIONS[1]))  # Graph takes messages again, but this one queues
    page.settle()
    page.deliver(text("psid-2", QUESTIONS[2]))  # another customer is not held up
    page.settle()
    assert len(graph.sent("psid-2")) == 1
    graph.wait(lambda calls: len(graph.sent("psid-1")) == 2, timeout=15)
    first, second = (m["text"].lower() for m in graph.sent("psid-1"))
    assert "spedizione" in first and "reso" in second


def test_the_first_send_that_goes_through_after_an_outage_wakes_the_outbox(open_page, graph):
    page = open_page(replay_interval=0.05)
    graph.down(60)
    page.deliver(text("psid-1", QUESTIONS[0]))
    page.settle()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)  # a back-off deep into the outage
    with page.store.session() as session:
        session.execute(update(OutboxMessage).values(due_at=later))
    graph.up()
    page.deliver(text("psid-2", QUESTIONS[1]))  # Graph takes this one: the outbox need not wait
    page.settle()
    graph.wait(lambda calls: len(graph.sent("psid-1")) == 1, timeout=5)


def test_the_outbox_survives_a_restart(open_page, graph, database_url):
    store = Store(database_url).open()
    try:
        first = open_page(store=store)
        graph.down(60)
        first.deliver(text("psid-1", QUESTIONS[0]))
        first.settle()
        first.close()  # the process stops while Graph is still down
        assert depth(store) == 1 and graph.sent() == []
        graph.up()
        second = open_page(store=store, replay_interval=0.1)  # the next process
        graph.wait(lambda calls: len(graph.sent("psid-1")) == 1, timeout=15)
        assert "spedizione" in graph.sent("psid-1")[0]["text"].lower()
        eventually(lambda: depth(store) == 0)
        second.close()
    finally:
        store.close()


def test_two_processes_drain_one_outbox_each_message_once_in_order(open_page, graph, database_url):
    store = Store(database_url).open()
    try:
        first = open_page(store=store, replay_interval=0.05)
        second = open_page(store=store, replay_interval=0.05)  # another replica, same outbox
        graph.down(60)
        for question in QUESTIONS * 2:
            first.deliver(text("psid-1", question))
            first.settle()
        assert depth(store) == 6
        graph.up()
        graph.wait(lambda calls: len(graph.sent("psid-1")) >= 6, timeout=20)
        eventually(lambda: depth(store) == 0)
        time.sleep(0.3)
        replies = [m["text"].lower() for m in graph.sent("psid-1")]
        assert len(replies) == 6  # none twice
        topics = ["spedizione", "reso", "password"] * 2
        assert all(topic in reply for topic, reply in zip(topics, replies, strict=True))
        first.close()
        second.close()
    finally:
        store.close()


def test_a_rate_limit_waits_as_long_as_meta_says(open_page, graph):
    page = open_page()
    usage = json.dumps({"page-1": [{"type": "messenger", "estimated_time_to_regain_access": 3}]})
    error = graph_error("(#613) Calls to this api have exceeded the rate limit.", 613)
    graph.then("/me/messages", 400, error, headers={"X-Business-Use-Case-Usage": usage})
    page.deliver(text("psid-1", QUESTIONS[0]))
    page.settle()
    with page.store.reading() as session:
        (row,) = session.scalars(select(OutboxMessage)).all()
        due = row.due_at.replace(tzinfo=dt.UTC) if row.due_at.tzinfo is None else row.due_at
    wait = (due - dt.datetime.now(dt.UTC)).total_seconds()
    assert 170 < wait <= 180  # three minutes, not a back-off of its own
    assert metric(page, 'faqbot_messenger_send_failures_total{code="613"}') == 1


def test_a_refusal_for_good_is_counted_and_not_kept(open_page, graph):
    page = open_page()
    graph.blocked("psid-1")
    page.deliver(text("psid-1", QUESTIONS[0]))
    page.settle()
    assert depth(page.store) == 0 and graph.sent() == []
    assert metric(page, 'faqbot_messenger_send_failures_total{code="551"}') == 1


def test_a_lost_answer_confirmed_by_its_echo_is_not_sent_twice(open_page, graph):
    page = open_page(messenger_send_timeout=0.3, messenger_echo_grace=1.0, replay_interval=0.1)
    graph.then("/me/messages", 200, delay=0.8)  # Meta sends it; its answer comes after the timeout
    page.deliver(text("psid-1", QUESTIONS[0]))
    page.settle()
    (call,) = graph.wait(lambda calls: len(graph.accepted()) == 1)[-1:]
    assert depth(page.store) == 1  # unsure: waiting for the echo
    deliver_echo_for(page, graph, call)
    page.settle()
    time.sleep(1.5)  # past the grace: had the echo not come, it would be sent again now
    assert len(graph.sent("psid-1")) == 1 and depth(page.store) == 0
    assert metric(page, 'faqbot_messenger_send_failures_total{code="unsure"}') == 1


def test_a_lost_answer_without_an_echo_is_sent_again(open_page, graph):
    """At least once: without the echo, a lost answer is sent again (a duplicate if it had gone
    through, which is why the Page subscribes to `message_echoes`)."""
    page = open_page(messenger_send_timeout=0.3, messenger_echo_grace=0.5, replay_interval=0.1)
    graph.then("/me/messages", 503, {}, delay=0.8)  # never carried out, its answer lost
    page.deliver(text("psid-1", QUESTIONS[0]))
    page.settle()
    graph.wait(lambda calls: len(graph.sent("psid-1")) == 1, timeout=10)
    eventually(lambda: depth(page.store) == 0)


def deliver_echo_for(page, graph, call) -> None:
    from bot.channels.messenger.webhook import signature

    body = json.dumps(graph.echo(call)).encode()
    headers = {"X-Hub-Signature-256": signature(SECRET.encode(), body), "Content-Type": "application/json"}
    assert page.client.post("/webhooks/messenger", content=body, headers=headers).status_code == 200


# --- the sender on its own: the echo race, expiry ------------------------------------------------


def sender_for(graph, tmp_path, **kwargs) -> tuple[Sender, Store]:
    store = Store(f"sqlite:///{tmp_path / 'sender.db'}").open()
    client = GraphClient(graph.url, "v21.0", PAGE_TOKEN, timeout=1.0, attempts=1, backoff=0.01)
    return Sender(client, store, **kwargs), store


def test_an_echo_that_beats_its_lost_answer_into_the_outbox_still_counts(graph, tmp_path):
    sender, store = sender_for(graph, tmp_path)
    sender.confirmed("tok-1")  # the echo arrives first…
    body = {"recipient": {"id": "psid-1"}, "messaging_type": "RESPONSE", "message": {"text": "Ciao"}}
    moment = dt.datetime.now(dt.UTC)
    store.queue_outbound(CHANNEL, "psid-1", None, [Queued("tok-1", body)], moment, "lost", True)
    assert sender.drain() == 1  # …so the message leaves the outbox without a second send
    assert graph.calls == [] and depth(store) == 0
    store.close()


def test_a_message_past_the_messaging_window_is_given_up(graph, tmp_path):
    failures = []
    sender, store = sender_for(graph, tmp_path, on_failure=failures.append)
    graph.down(60)
    assert sender.send("psid-1", [{"text": "Ciao"}], None).sent == Sent.QUEUED
    graph.up()
    with store.session() as session:
        yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(hours=25)
        session.execute(update(OutboxMessage).values(created_at=yesterday, due_at=yesterday))
    assert sender.drain() == 1 and graph.sent() == [] and depth(store) == 0
    assert failures == ["2", "expired"]
    store.close()


def test_a_second_process_never_sends_what_the_first_leased(graph, tmp_path):
    sender, store = sender_for(graph, tmp_path)
    other = Sender(sender.graph, store)
    body = {"recipient": {"id": "psid-1"}, "messaging_type": "RESPONSE", "message": {"text": "Ciao"}}
    store.queue_outbound(CHANNEL, "psid-1", None, [Queued("tok-2", body)], dt.datetime.now(dt.UTC))
    (leased,) = store.lease_outbound(CHANNEL, 60)
    assert other.drain() == 0 and graph.calls == []  # leased by the first: not handed out
    assert leased.token == "tok-2"
    store.close()

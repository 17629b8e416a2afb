"""The Graph API client against a real local HTTP server: retries on what Meta documents as
temporary (5xx, 429, rate-limit and temporary-failure codes) after the wait Meta names, none on
other 4xx, a lost answer never sent twice by the client, errors logged with the Graph error code,
the access token never logged."""

from __future__ import annotations

import json
import logging
import time

import pytest

from bot.channels.messenger.graph import GraphClient, GraphError, bounded_metadata
from bot.config import Settings
from tests.fake_graph import graph_error

TOKEN = "page-token-s3cr3t"


@pytest.fixture
def client(graph):
    client = GraphClient(graph.url, "v21.0", TOKEN, timeout=0.5, attempts=3, backoff=0.01, max_backoff=0.05)
    yield client
    client.close()


def test_send_follows_the_send_api_contract(client, graph):
    answer = client.send("psid-1", {"text": "Ciao"})
    (call,) = graph.calls
    assert call.path == "/v21.0/me/messages" and call.query == {"access_token": TOKEN}
    assert call.body == {
        "recipient": {"id": "psid-1"},
        "messaging_type": "RESPONSE",
        "message": {"text": "Ciao"},
    }
    assert answer["recipient_id"] == "psid-1"
    client.send("psid-1", {"text": "Dopo"}, "MESSAGE_TAG", "HUMAN_AGENT")
    assert (
        graph.calls[1].body["messaging_type"] == "MESSAGE_TAG" and graph.calls[1].body["tag"] == "HUMAN_AGENT"
    )


def test_a_500_is_retried_and_the_message_delivered_once(client, graph, caplog):
    graph.then("/me/messages", 500, {"error": {"message": "An unexpected error has occurred.", "code": 2}})
    client.send("psid-1", {"text": "Ciao"})
    assert [c.status for c in graph.calls] == [500, 200]
    assert graph.sent() == [{"text": "Ciao"}]
    assert "retrying" in caplog.text and "Graph error code 2" in caplog.text


def test_a_lost_answer_is_unsure_and_a_send_is_not_repeated_by_the_client(client, graph):
    graph.then("/me/messages", 200, delay=1.0)  # carried out, answered after the client's 0.5 s
    with pytest.raises(GraphError) as raised:
        client.send("psid-1", {"text": "Ciao"})
    assert raised.value.unsure and raised.value.transient
    time.sleep(0.6)
    assert len(graph.calls) == 1 and graph.sent() == [{"text": "Ciao"}]  # delivered once


def test_other_calls_are_retried_after_a_lost_answer(client, graph):
    graph.then("/me/take_thread_control", 200, delay=1.0)
    client.take_thread_control("psid-1", "back to the bot")
    assert len(graph.wait(lambda calls: len(calls) == 2)) == 2


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, 1200), (400, 4), (400, 17), (400, 32), (400, 613), (400, 80006), (500, 2), (429, None)],
)
def test_what_meta_documents_as_temporary_is_retried(client, graph, status, code):
    body = graph_error("(#x) temporary", code) if code is not None else {}
    graph.then("/me/messages", status, body)
    client.send("psid-1", {"text": "Ciao"})
    assert [c.status for c in graph.calls] == [status, 200]
    assert graph.sent() == [{"text": "Ciao"}]


def test_an_error_flagged_transient_is_retried(client, graph):
    graph.then("/me/messages", 400, graph_error("(#9999) try later", 9999, transient=True))
    client.send("psid-1", {"text": "Ciao"})
    assert [c.status for c in graph.calls] == [400, 200]


def test_the_wait_meta_names_is_honoured(graph):
    client = GraphClient(graph.url, "v21.0", TOKEN, attempts=3, backoff=0.01, max_backoff=2.0)
    graph.then("/me/messages", 429, {}, headers={"Retry-After": "1"})
    started = time.monotonic()
    client.send("psid-1", {"text": "Ciao"})
    assert time.monotonic() - started >= 1.0 and len(graph.sent()) == 1
    client.close()


def test_a_wait_longer_than_the_back_off_is_left_to_the_caller(client, graph):
    usage = json.dumps({"page-1": [{"type": "messenger", "estimated_time_to_regain_access": 5}]})
    graph.then(
        "/me/messages",
        400,
        graph_error("(#613) rate limit", 613),
        headers={"X-Business-Use-Case-Usage": usage},
    )
    with pytest.raises(GraphError) as raised:
        client.send("psid-1", {"text": "Ciao"})
    assert raised.value.retry_after == 300.0 and raised.value.transient and len(graph.calls) == 1
    assert raised.value.label == "613"


def test_handover_metadata_is_valid_json_within_the_limit():
    question = 'Il mio ordine è arrivato rotto e vorrei sapere «come» fare il reso "subito". ' * 40
    fields = {"ticket_id": "t_1", "conversation_id": "c_1", "reason": "low_confidence", "lang": "it"}
    metadata = bounded_metadata({**fields, "question": question}, "question")
    assert len(metadata) <= 1000
    decoded = json.loads(metadata)
    assert decoded["ticket_id"] == "t_1" and decoded["question"].endswith("…")
    assert question.startswith(decoded["question"].removesuffix("…"))
    short = bounded_metadata({**fields, "question": "Dov'è il mio ordine?"}, "question")
    assert json.loads(short)["question"] == "Dov'è il mio ordine?"


def test_a_400_is_logged_with_its_graph_code_and_not_retried(client, graph, caplog):
    error = {"message": "(#100) The parameter recipient is required", "code": 100, "fbtrace_id": "Abc"}
    graph.then("/me/messages", 400, {"error": {**error, "error_subcode": 2018001}})
    with caplog.at_level(logging.DEBUG), pytest.raises(GraphError) as raised:
        client.send("psid-1", {"text": "Ciao"})
    assert len(graph.calls) == 1 and graph.sent() == []
    assert (raised.value.status, raised.value.code, raised.value.subcode) == (400, 100, 2018001)
    assert "Graph error code 100 (subcode 2018001)" in caplog.text and "fbtrace_id Abc" in caplog.text
    assert "retrying" not in caplog.text


def test_retries_stop_after_the_last_attempt(client, graph):
    for _ in range(3):
        graph.then("/me/messages", 503)
    with pytest.raises(GraphError) as raised:
        client.send("psid-1", {"text": "Ciao"})
    assert raised.value.status == 503 and len(graph.calls) == 3


def test_the_token_never_reaches_the_logs(client, graph, caplog):
    graph.then("/me/messages", 500)
    with caplog.at_level(logging.DEBUG):
        client.send("psid-1", {"text": "Ciao"})
        client.pass_thread_control("psid-1", "263902037430900", "ticket t_1")
    assert "127.0.0.1" in caplog.text  # httpx did log the requests…
    assert TOKEN not in caplog.text  # …without the token


def test_typing_indicator_is_tried_once(client, graph):
    graph.then("/me/messages", 500, actions=True)
    with pytest.raises(GraphError):
        client.sender_action("psid-1", "typing_on")
    assert len(graph.calls) == 1 and graph.calls[0].body == {
        "recipient": {"id": "psid-1"},
        "sender_action": "typing_on",
    }


def test_no_answer_at_all_is_a_transient_error(graph):
    graph.stop()
    client = GraphClient(graph.url, "v21.0", TOKEN, timeout=0.2, attempts=2, backoff=0.01)
    with pytest.raises(GraphError) as raised:
        client.send("psid-1", {"text": "Ciao"})
    assert raised.value.status == 0 and raised.value.transient and TOKEN not in str(raised.value)


def test_the_client_of_the_settings_calls_their_graph_url(graph):
    settings = Settings(
        messenger_graph_url=graph.url, messenger_graph_version="v22.0", messenger_page_token=TOKEN
    )
    client = GraphClient.for_settings(settings.messenger)
    try:
        client.post("me/messenger_profile", {"greeting": []})
    finally:
        client.close()
    (call,) = graph.calls
    assert call.path == "/v22.0/me/messenger_profile" and call.query == {"access_token": TOKEN}


def test_no_client_without_the_page_token():
    with pytest.raises(ValueError, match="FAQBOT_MESSENGER_PAGE_TOKEN"):
        GraphClient.for_settings(Settings().messenger)

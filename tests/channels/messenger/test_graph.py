"""The Graph API client against a real local HTTP server: retries on 5xx and timeouts, none on
4xx, errors logged with the Graph error code, the access token never logged."""

from __future__ import annotations

import logging

import pytest

from bot.channels.messenger.graph import GraphClient, GraphError
from bot.config import Settings

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


def test_a_timeout_is_retried(client, graph):
    graph.then("/me/messages", 200, delay=1.0)  # longer than the client's 0.5 s timeout
    client.send("psid-1", {"text": "Ciao"})
    assert len(graph.wait(lambda calls: len(calls) == 2)) == 2


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
    graph.then("/me/messages", 500)
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

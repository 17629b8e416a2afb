"""The fake Graph API in Instagram mode refuses what Instagram refuses (written from Meta's
Instagram Messaging documentation), so the channel's tests prove it stays within the limits."""

from __future__ import annotations

from bot.channels.graph.errors import GraphError
from bot.channels.messenger.graph import GraphClient
from tests.channels.instagram.conftest import PAGE_TOKEN


def refusal(graph, message: dict) -> str:
    client = GraphClient(graph.url, "v21.0", PAGE_TOKEN, attempts=1)
    try:
        client.send("igsid-1", message)
    except GraphError as exc:
        return str(exc)
    finally:
        client.close()
    return ""


def test_instagram_limits_are_refused(ig_graph):
    assert refusal(ig_graph, {"text": "x" * 1000}) == ""
    assert "1000" in refusal(ig_graph, {"text": "x" * 1001})
    phone = {"text": "ok", "quick_replies": [{"content_type": "user_phone_number"}]}
    assert "plain text" in refusal(ig_graph, phone)
    many = [{"content_type": "text", "title": str(i), "payload": str(i)} for i in range(14)]
    assert "13" in refusal(ig_graph, {"text": "ok", "quick_replies": many})
    long_title = [{"content_type": "text", "title": "x" * 21, "payload": "p"}]
    assert "20" in refusal(ig_graph, {"text": "ok", "quick_replies": long_title})
    button = {"attachment": {"type": "template", "payload": {"template_type": "button", "text": "t"}}}
    assert "not supported" in refusal(ig_graph, button)


def test_the_fake_in_messenger_mode_keeps_messengers_limits(graph):
    assert refusal(graph, {"text": "x" * 1500}) == ""

"""WhatsApp's formatting, splitting and interactive limits on their own, the webhook payload read
into events, and the fake Cloud API refusing what the real one refuses."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from bot.channels.whatsapp.events import Choice, Media, Reaction, Status, Text, parse
from bot.channels.whatsapp.outgoing import Option, choices
from bot.channels.whatsapp.text import MAX_TEXT, one_line, split_text, whatsapp_text
from tests.channels.whatsapp.conftest import TOKEN, button_reply, list_reply, message, text
from tests.fake_whatsapp import PHONE_NUMBER_ID, webhook


def test_markdown_becomes_whatsapp_formatting():
    shown = whatsapp_text(
        "# Resi\n\nClicca su **Password dimenticata?** e _poi_ vai su [il sito](https://shop.example/reset)."
        "\n\n- uno\n- **due**\n\nUsa `reset`."
    )
    assert shown == (
        "*Resi*\n\nClicca su *Password dimenticata?* e _poi_ vai su il sito (https://shop.example/reset)."
        "\n\n• uno\n• *due*\n\nUsa `reset`."
    )


def test_marks_hug_the_text():
    assert whatsapp_text("a ** b ** c") == "a ** b ** c"  # not Markdown bold: left as written
    assert whatsapp_text("<b> bold </b>word") == "*bold* word"  # spaces go outside the marks


def test_long_text_is_split_at_paragraphs_then_sentences():
    paragraph = " ".join(["Una frase di prova sul reso."] * 60)  # about 1700 characters
    pieces = split_text("\n\n".join([paragraph] * 5))
    assert all(len(p) <= MAX_TEXT for p in pieces) and len(pieces) == 3
    assert pieces[0] == f"{paragraph}\n\n{paragraph}"
    one = " ".join(["Frase."] * 1000)
    assert all(len(p) <= MAX_TEXT and p.endswith(".") for p in split_text(one))


def test_a_template_parameter_holds_one_line():
    assert one_line("Primo.\n\nSecondo\triga\n   terza") == "Primo. · Secondo riga terza"


def test_three_options_are_buttons_more_are_a_list_within_limits():
    options = [Option(f"ARTICLE:a-{i}", f"{i}. Un titolo molto lungo che non entra") for i in range(1, 13)]
    buttons = choices("Intendevi?", options[:3], "it")["interactive"]
    assert buttons["type"] == "button"
    assert all(len(b["reply"]["title"]) <= 20 for b in buttons["action"]["buttons"])
    listed = choices("Intendevi?", options, "it")["interactive"]
    rows = listed["action"]["sections"][0]["rows"]
    assert listed["type"] == "list" and len(rows) == 10 and listed["action"]["button"] == "Vedi le opzioni"
    assert all(len(r["title"]) <= 24 and len(r["description"]) <= 72 for r in rows)
    assert choices("x" * 2000, options[:1], "en")["interactive"]["body"]["text"].endswith("…")


def test_a_delivery_is_read_into_events():
    payload = webhook({
        "contacts": [{"profile": {"name": "Anna"}, "wa_id": "39333"}],
        "messages": [
            text("39333", "ciao", wamid="wamid.1"), button_reply("39333", "ARTICLE:x", "X"),
            list_reply("39333", "PERSON", "Un operatore"), message("39333", "image", {"id": "i"}),
            message("39333", "reaction", {"message_id": "wamid.OUT1", "emoji": "👎"}),
            message("39333", "system", {"body": "changed number"}),
        ],
        "statuses": [{"id": "wamid.OUT1", "status": "read", "timestamp": "1", "recipient_id": "39333",
                      "biz_opaque_callback_data": "faqbot:tok"}],
    })  # fmt: skip
    events = parse(payload, PHONE_NUMBER_ID)
    assert [type(e) for e in events] == [Text, Choice, Choice, Media, Reaction, Status]
    assert events[0].key == "wamid.1" and events[0].user == "39333" and isinstance(events[0].at, dt.datetime)
    assert (events[2].id, events[2].title) == ("PERSON", "Un operatore")
    assert events[5].token == "tok" and events[5].user == "39333"
    assert parse(payload, "another-number") == []
    assert parse({"object": "page", "entry": []}) == []


@pytest.fixture
def post(cloud):
    cloud.customer_wrote("39333", dt.datetime.now(dt.UTC))

    def send(body: dict, to: str = "39333", token: str = TOKEN) -> httpx.Response:
        request = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, **body}
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.post(f"{cloud.url}/v21.0/{PHONE_NUMBER_ID}/messages", json=request, headers=headers)

    return send


def buttons(n: int, title: str = "ok") -> dict:
    action = {"buttons": [{"type": "reply", "reply": {"id": f"b{i}", "title": title}} for i in range(n)]}
    return {"type": "interactive", "interactive": {"type": "button", "body": {"text": "?"}, "action": action}}


def rows(n: int, title: str = "ok") -> dict:
    section = {"rows": [{"id": f"r{i}", "title": title} for i in range(n)]}
    action = {"button": "Scegli", "sections": [section]}
    return {"type": "interactive", "interactive": {"type": "list", "body": {"text": "?"}, "action": action}}


def test_the_fake_refuses_what_the_cloud_api_refuses(post):
    def code(answer: httpx.Response) -> int:
        return answer.json()["error"]["code"] if answer.status_code >= 400 else 0

    assert code(post({"type": "text", "text": {"body": "x" * 4096}})) == 0
    assert code(post({"type": "text", "text": {"body": "x" * 4097}})) == 131009
    assert code(post(buttons(3))) == 0 and code(post(buttons(4))) == 131009
    assert code(post(buttons(1, "x" * 21))) == 131009
    assert code(post(rows(10))) == 0 and code(post(rows(11))) == 131009
    assert code(post(rows(1, "x" * 25))) == 131009
    assert code(post({"type": "text", "text": {"body": "hi"}}, to="39999")) == 131047  # never wrote
    assert code(post({"type": "text", "text": {"body": "hi"}}, token="wrong")) == 190

"""Replies as Messenger messages, and webhook deliveries as events: no server, no store."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from bot.channels.messenger import payloads
from bot.channels.messenger.events import Attachment, Postback, Text, ThreadControl, parse
from bot.channels.messenger.outgoing import (
    MAX_QUICK_REPLIES,
    plain_text,
    quick_replies,
    split_text,
    text_messages,
    title,
    turn_messages,
)
from bot.dialogue.bot import ArticleView, Reply, Suggestion
from bot.service.chat import Turn
from bot.service.handoffs import Handoff


def test_markdown_becomes_plain_text_with_links_kept():
    source = (
        "Clicca su **Password dimenticata?** e segui il [link](https://lumo.example/reset).\n"
        "Scrivi a [assistenza](mailto:help@lumo.example) o a <https://lumo.example/aiuto>.\n\n"
        "Passi:\n1. Apri l'app\n2. Vai su *Account* &amp; dati\n\n- uno\n- due\n\n"
        "Fine <script>alert(1)</script>davvero."
    )
    assert plain_text(source) == (
        "Clicca su Password dimenticata? e segui il link (https://lumo.example/reset). "
        "Scrivi a assistenza (help@lumo.example) o a https://lumo.example/aiuto.\n\n"
        "Passi:\n\n1. Apri l'app\n2. Vai su Account & dati\n\n• uno\n• due\n\n"
        "Fine davvero."
    )


def test_split_prefers_paragraphs_then_sentences_then_words():
    paragraph = "Una frase di prova abbastanza lunga. " * 20  # 740 characters
    text = "\n\n".join([paragraph.strip()] * 3)
    pieces = split_text(text, limit=1600)
    assert [p.count("\n\n") for p in pieces] == [1, 0] and "\n\n".join(pieces) == text
    long_paragraph = (paragraph * 4).strip()
    pieces = split_text(long_paragraph, limit=1000)
    assert all(len(p) <= 1000 and p.endswith(".") for p in pieces)
    assert " ".join(pieces) == long_paragraph
    word = "x" * 2500
    assert [len(p) for p in split_text(f"inizio {word} fine")] == [6, 2000, 505]  # cut inside only the word


@given(st.text(alphabet=st.sampled_from("ab. \n!"), max_size=3000), st.integers(10, 300))
def test_split_never_exceeds_the_limit_and_loses_no_word(text, limit):
    pieces = split_text(text, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


def test_titles_fit_twenty_characters():
    assert title("Quanto costa la spedizione") == "Quanto costa la spe…"
    assert len(title("Quanto costa la spedizione")) == 20
    assert title("Reso") == "Reso" and title("  a  b ") == "a b"


def _answer(follow_ups: int, offer_person: bool = False) -> Reply:
    view = ArticleView("a", "A", "it", "S", "Body", offer_person)
    ups = tuple(
        Suggestion(f"art-{i}", f"Articolo numero {i} con un titolo lungo", 0.0) for i in range(follow_ups)
    )
    return Reply("answer", "it", 0.9, "**Body**", "confident", view, (), ups, offer_person=offer_person)


def test_quick_replies_carry_article_ids_feedback_and_a_person_and_stop_at_thirteen():
    replies = quick_replies(_answer(2, offer_person=True), "m_1")
    assert [q["payload"] for q in replies] == [
        "ARTICLE:art-0", "ARTICLE:art-1", "FEEDBACK:YES:m_1", "FEEDBACK:NO:m_1", "PERSON",
    ]  # fmt: skip
    assert all(q["content_type"] == "text" and len(q["title"]) <= 20 for q in replies)
    many = quick_replies(_answer(20, offer_person=True), "m_1")
    assert len(many) == MAX_QUICK_REPLIES and many[-1]["payload"] == "PERSON"


def test_turn_messages_per_decision():
    answer = turn_messages(Turn("c", "m_1", _answer(1), None))
    assert answer == [{"text": "Body", "quick_replies": quick_replies(_answer(1), "m_1")}]
    handoff_reply = Reply("handoff", "it", 0.1, "Ti passo a una persona.", "requested")
    handed = turn_messages(
        Turn("c", "m_2", handoff_reply, Handoff("t_1", "Ti passo a una persona. Attesa 5 min.", 5))
    )
    assert handed == [{"text": "Ti passo a una persona. Attesa 5 min."}]
    silent = Reply("handoff", "it", 0.0, "", "agent_holds")
    assert turn_messages(Turn("c", "m_3", silent, Handoff("t_1", "wait", 5))) == []
    assert text_messages("") == [] and text_messages("x", [{"a": 1}]) == [
        {"text": "x", "quick_replies": [{"a": 1}]}
    ]


def test_payloads_round_trip_and_unknown_ones_are_kept():
    assert payloads.parse(payloads.article("reset-password")) == payloads.Payload("article", "reset-password")
    assert payloads.parse(payloads.feedback(False, "m_9")) == payloads.Payload("feedback", "m_9", False)
    assert payloads.parse("PERSON").kind == "person" and payloads.parse("GET_STARTED").kind == "get_started"
    assert (
        payloads.parse("FEEDBACK:MAYBE:m").kind == "unknown" and payloads.parse("ARTICLE:").kind == "unknown"
    )


def _messaging(**event) -> dict:
    return {"sender": {"id": "psid-1"}, "recipient": {"id": "page"}, "timestamp": 1764000000000, **event}


def test_deliveries_parse_into_typed_events_and_drop_what_we_do_not_act_on():
    body = {
        "object": "page",
        "entry": [
            {
                "id": "page",
                "messaging": [
                    _messaging(message={"mid": "m_1", "text": "ciao"}),
                    _messaging(
                        message={"mid": "m_2", "text": "Reso", "quick_reply": {"payload": "ARTICLE:x"}}
                    ),
                    _messaging(message={"mid": "m_3", "attachments": [{"type": "image"}, {"type": "audio"}]}),
                    _messaging(message={"mid": "m_4", "text": "eco", "is_echo": True, "app_id": 1}),
                    _messaging(delivery={"mids": ["m_1"], "watermark": 1}),
                    _messaging(read={"watermark": 1}),
                    _messaging(reaction={"mid": "m_1", "action": "react"}),
                    _messaging(postback={"title": "Inizia", "payload": "GET_STARTED"}),
                    _messaging(pass_thread_control={"new_owner_app_id": "42", "metadata": "back"}),
                    {"recipient": {"id": "page"}, "message": {"mid": "m_5", "text": "no sender"}},
                ],
                "standby": [_messaging(message={"mid": "m_6", "text": "sono ancora qui"})],
            }
        ],
    }
    events = parse(body)
    at = dt.datetime(2025, 11, 24, 16, 0, tzinfo=dt.UTC)
    assert events == [
        Text("psid-1", "m_1", at, False, "ciao"),
        Text("psid-1", "m_2", at, False, "Reso", "ARTICLE:x"),
        Attachment("psid-1", "m_3", at, False, ("image", "audio")),
        Postback("psid-1", "postback:psid-1:1764000000000:GET_STARTED", at, False, "GET_STARTED", "Inizia"),
        ThreadControl(
            "psid-1", "pass_thread_control:psid-1:1764000000000:42", at, False, "pass", "42", None, "back"
        ),
        Text("psid-1", "m_6", at, True, "sono ancora qui"),
    ]
    assert parse({"object": "instagram", "entry": []}) == [] and parse([]) == []

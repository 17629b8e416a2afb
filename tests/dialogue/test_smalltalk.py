"""Greetings, thanks, goodbyes and acknowledgements, told from questions."""

from __future__ import annotations

import pytest

from bot.dialogue.smalltalk import ACK, GOODBYE, GREETING, THANKS, SmallTalk, small_talk
from tests.conftest import sample_kb_texts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ciao", SmallTalk(GREETING, "it")),
        ("Buongiorno a tutti!", SmallTalk(GREETING, "it")),
        ("ho una domanda", SmallTalk(GREETING, "it")),
        ("aiuto", SmallTalk(GREETING, "it")),
        ("hello?", SmallTalk(GREETING, "en")),
        ("Ciao, come stai?", SmallTalk(GREETING, "it")),
        ("hi, how are you?", SmallTalk(GREETING, "en")),
        ("I have a question", SmallTalk(GREETING, "en")),
        ("grazie mille!", SmallTalk(THANKS, "it")),
        ("ok grazie, ciao", SmallTalk(THANKS, "it")),  # thanks names a mix
        ("no grazie", SmallTalk(THANKS, "it")),
        ("d'accordo, grazie per l'aiuto", SmallTalk(THANKS, "it")),
        ("Thank you so much!!", SmallTalk(THANKS, "en")),
        ("great, thank you for your help", SmallTalk(THANKS, "en")),
        ("ciao, thanks!", SmallTalk(THANKS, None)),  # both languages: none of them
        ("buona serata", SmallTalk(GOODBYE, "it")),
        ("have a nice day", SmallTalk(GOODBYE, "en")),
        ("perfetto", SmallTalk(ACK, "it")),
        ("ok", SmallTalk(ACK, None)),  # a word of both languages
        ("got it", SmallTalk(ACK, "en")),
        ("👍", SmallTalk(ACK, None)),  # the Messenger like, as the channel hands it on
        ("ok 👍🏽", SmallTalk(ACK, None)),
        ("🙏", SmallTalk(THANKS, None)),
        ("grazie ❤️", SmallTalk(THANKS, "it")),
    ],
)
def test_small_talk_kinds_and_languages(text, expected):
    assert small_talk(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ciao, il pacco doveva arrivare ieri e non si vede",
        "hi, where is my order?",
        "come va la spedizione?",  # "come va" with something to ask about
        "how are you shipping my order",
        "grazie ma non funziona",  # a complaint, however polite
        "non va bene",
        "not good",
        "i need help with my order",
        "sì",  # says nothing alone
        "no",
        "??",
        "🚚",  # an emoji that says nothing of the kind
        "👍 il pacco non è arrivato",
        "ok ok ok ok ok ok ok ok ok",  # too long to be only politeness
        "voglio parlare con un operatore",  # a request for a person, handled before small talk
    ],
)
def test_questions_and_other_messages_are_not_small_talk(text):
    assert small_talk(text) is None


def test_no_question_of_the_sample_kb_or_its_evaluation_set_is_taken_for_small_talk():
    texts = sample_kb_texts()
    assert len(texts) > 1000 and [t for t in texts if small_talk(t)] == []

"""Explicit requests for a person, and complaints that an answer did not help, in Italian and English."""

from __future__ import annotations

import pytest

from bot.dialogue.escalation import asks_for_person, says_unhelpful
from tests.conftest import sample_kb_texts

REQUESTS = [
    "operatore",
    "voglio parlare con un operatore",
    "Vorrei parlare con una persona!",
    "passami un operatore per favore",
    "posso parlare con qualcuno?",
    "assistenza umana",
    "non voglio parlare con un bot",
    "agent",
    "talk to a human",
    "I want to speak to a real person",
    "can I talk to someone",
    "human please",
    "customer service representative please",
]
QUESTIONS = [
    "dove è il mio ordine",
    "come contatto il servizio clienti",
    "what is your phone number",
    "how do I return an item",
    "the courier left a notice",
    "password dimenticata",
    "what time do you open",
    "agenda",
    "a che ora aprite",
]


@pytest.mark.parametrize("text", REQUESTS)
def test_recognises_requests_for_a_person(text):
    assert asks_for_person(text)


@pytest.mark.parametrize("text", QUESTIONS)
def test_ordinary_questions_are_not_requests(text):
    assert not asks_for_person(text)


COMPLAINTS = [
    "non mi è stato utile",
    "Non ha risolto niente",
    "non mi ha aiutato",
    "non è quello che cercavo",
    "risposta sbagliata!",
    "it didn't help",
    "not helpful at all",
    "that doesn't answer my question",
    "not what I asked",
    "wrong answer",
]
NOT_COMPLAINTS = [
    "my card does not work",  # a payment question, not a verdict on the answer
    "the discount code didn't work",
    "il codice sconto non ha funzionato",
    "il bollitore non si accende più, cosa posso fare?",
    "posso restituire un prodotto non utilizzato?",
    "ho fatto il reso ma il rimborso non è arrivato",
    "the answer you gave me did not help because my order number starts with LC and I ordered twice",
]


@pytest.mark.parametrize("text", COMPLAINTS)
def test_recognises_complaints_that_an_answer_did_not_help(text):
    assert says_unhelpful(text)


@pytest.mark.parametrize("text", NOT_COMPLAINTS)
def test_questions_that_merely_hold_a_negation_are_not_complaints(text):
    assert not says_unhelpful(text)


def test_no_question_of_the_sample_kb_reads_as_a_complaint():
    texts = sample_kb_texts()
    assert len(texts) > 1000 and [t for t in texts if says_unhelpful(t)] == []

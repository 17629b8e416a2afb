"""Explicit requests for a person, in Italian and English."""

from __future__ import annotations

import pytest

from bot.escalation import asks_for_person

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

"""Explicit requests for a person ("operatore", "talk to a human") and complaints that an answer
did not help ("non mi è stato utile", "that didn't help"), in Italian and English."""

from __future__ import annotations

import re

from bot.text.normalise import normalise

_PERSON_IT = r"(?:persona|umano|essere umano|operatore|operatrice|qualcuno|addetto|addetta|consulente)"
_PERSON_EN = r"(?:person|human|human being|agent|operator|someone|somebody|representative|rep|staff)"
_PATTERNS = [
    # Italian: "operatore", "voglio parlare con una persona", "passami un operatore", "assistenza umana"
    rf"\b(?:parlare|parlo|parla|chattare|scrivere|mettermi in contatto|mettimi in contatto|passami|"
    rf"passatemi|voglio|vorrei|chiedo|serve|servirebbe|cerco|datemi|dammi)\b(?:\s+\w+){{0,4}}\s+{_PERSON_IT}\b",
    r"\boperator[ei]\b",
    r"\b(?:persona|assistente|assistenza|operatore) (?:vera|vero|reale|umana|umano|in carne e ossa)\b",
    r"\bnon (?:voglio|mi serve) (?:parlare con )?(?:un|il) (?:bot|robot|chatbot)\b",
    # English: "agent", "talk to a human", "real person", "customer service representative"
    rf"\b(?:talk|speak|chat|connect|transfer|put)\b(?:\s+\w+){{0,4}}\s+{_PERSON_EN}\b",
    r"\b(?:want|need|get|give)\b(?:\s+\w+){0,3}\s+(?:a |an )?(?:real |live |actual )?"
    r"(?:person|human|agent|operator|representative)\b",
    r"\b(?:real|live|actual) (?:person|human|agent)\b",
    r"\b(?:customer (?:service|care|support) )?representative\b",
    r"^(?:an? )?(?:agent|human|operator|representative|person)(?: please| pls)?$",
    r"\bnot (?:a|this|the) (?:bot|robot|chatbot)\b",
]
_REGEX = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))


def asks_for_person(text: str) -> bool:
    """True when the customer explicitly asks to talk to a person."""
    return bool(_REGEX.search(normalise(text)))


_UNHELPFUL_PATTERNS = [
    # Italian: "non mi è stato utile", "non ha risolto", "non è quello che cercavo", "risposta sbagliata"
    r"\bnon (?:mi )?(?:e |e stat[oa] |sei stat[oa] |ha |hai |avete |mi ha |mi hai )?"
    r"(?:utile|d aiuto|di aiuto|aiutato|aiutata|risolto|servito|servita)\b",
    r"\bnon (?:e|era) (?:quello|cio) che (?:cercavo|chiedevo|volevo|intendevo|ho chiesto)\b",
    r"\bnon c entra\b",
    r"\brispost[ae] (?:sbagliat[ae]|inutil[ei])\b",
    r"^(?:inutile|sbagliato|sbagliata)$",
    # English: "that didn't help", "not helpful", "not what I asked", "wrong answer"
    r"\b(?:did ?n t|didnt|did not|does ?n t|doesnt|does not|not|was ?n t|wasnt|was not|is ?n t|isnt|is not) "
    r"(?:really |very |at all )?(?:help|helpful|helped|answer|answered|useful|solve|solved)\b",
    r"\bnot what i (?:asked|meant|wanted|was looking for|need|needed)\b",
    r"\b(?:wrong|useless) answer\b",
    r"^(?:useless|unhelpful|wrong)$",
]
_UNHELPFUL = re.compile("|".join(f"(?:{p})" for p in _UNHELPFUL_PATTERNS))
# Longer messages are questions of their own. "It did not work" is not among the complaints: "the
# code did not work" asks about the code.
MAX_COMPLAINT_WORDS = 10


def says_unhelpful(text: str) -> bool:
    """True when a short message says that the answer just given did not help."""
    words = normalise(text)
    return len(words.split()) <= MAX_COMPLAINT_WORDS and bool(_UNHELPFUL.search(words))


_NONE_FIT = re.compile(
    r"^(?:no,? )?(?:nessuna|nessuno|nessuna di queste|nessuno di questi|nessuna delle due|nessuno dei due|"
    r"niente di tutto questo|niente di questo|non e nessuna di queste|none|none of these|none of them|"
    r"neither|neither of them|neither of these|nothing like that|none of those)(?: grazie| thanks)?$"
)


def rejects_choices(text: str) -> bool:
    """True when the customer answers a "did you mean" with "none of these"."""
    return bool(_NONE_FIT.match(normalise(text)))

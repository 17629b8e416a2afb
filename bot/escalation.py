"""Explicit requests for a person, in Italian and English ("operatore", "talk to a human")."""

from __future__ import annotations

import re

from bot.text import normalise

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

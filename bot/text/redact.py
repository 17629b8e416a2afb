"""Remove personal data from customer text before it is stored in the missed-query log.

Candidates are found by pattern and confirmed by a validator where one exists, so order numbers,
prices and dates survive: e-mail addresses, IBANs (checksum), payment cards (Luhn), Italian
codici fiscali (pattern, checksum or not: a mistyped one is still personal) and phone numbers
(phonenumbers, Italian and international formats) become typed placeholders such as [EMAIL].
"""

from __future__ import annotations

import re

import phonenumbers
from stdnum import iban, luhn

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b", re.IGNORECASE)
CODICE_FISCALE = re.compile(
    r"\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-EHLMPR-T][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]\b", re.IGNORECASE
)
CARD = re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])")


def redact(text: str, region: str = "IT") -> str:
    """`text` with personal data replaced by [EMAIL], [IBAN], [CARD], [CODICE_FISCALE], [PHONE]."""
    text = EMAIL.sub("[EMAIL]", text)
    text = IBAN.sub(_iban, text)
    text = CODICE_FISCALE.sub("[CODICE_FISCALE]", text)
    text = CARD.sub(lambda m: "[CARD]" if _is_card(m.group()) else m.group(), text)
    return _phones(text, region)


def _iban(match: re.Match[str]) -> str:
    """The longest valid IBAN at the start of the candidate (it may run into the next words)."""
    candidate = match.group()
    for end in range(len(candidate), 14, -1):
        if candidate[end - 1] != " " and iban.is_valid(candidate[:end]):
            return "[IBAN]" + candidate[end:]
    return candidate


def _is_card(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    return 13 <= len(digits) <= 19 and luhn.is_valid(digits)


def _phones(text: str, region: str) -> str:
    spans = [
        (match.start, match.end)
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID)
    ]
    for start, end in reversed(spans):
        text = f"{text[:start]}[PHONE]{text[end:]}"
    return text

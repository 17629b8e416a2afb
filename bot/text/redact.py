"""Remove personal data from customer text before it is stored in the missed-query log.

Candidates are found by pattern and confirmed by a validator where one exists, so order numbers,
prices and dates survive: e-mail addresses, IBANs (checksum), payment cards (Luhn), Italian
codici fiscali (pattern, checksum or not: a mistyped one is still personal) and phone numbers
(phonenumbers, Italian and international formats) become typed placeholders such as [EMAIL].

What people type varies, and a variant must not slip through: the text is first folded to its
compatibility form (NFKC: a fullwidth ＠ or digit is the plain one, a no-break space a space), and
the patterns allow the separators people use inside a number (spaces, repeated or not, dots,
dashes, slashes), a codice fiscale written in groups, an address with spaces around the @ or
"(at)", and a number glued to a word ("tel3331234567").
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from stdnum import iban, luhn

AT = r"(?:\s*@\s*|\s*[(\[]\s*at\s*[)\]]\s*)"
EMAIL = re.compile(rf"[\w.+-]+{AT}[\w-]+(?:\.[\w-]+)+", re.UNICODE | re.IGNORECASE)
_SEP = r"[ .\-/]{0,2}"  # between the groups of a number: "4111.1111", "4111  1111", "4111/1111"
IBAN = re.compile(rf"\b[A-Z]{{2}}\d{{2}}(?:{_SEP}[A-Z0-9]){{11,30}}\b", re.IGNORECASE)
_CF_DIGIT = "[0-9LMNPQRSTUV]"
CODICE_FISCALE = re.compile(
    rf"\b[A-Z]{{3}}\s?[A-Z]{{3}}\s?{_CF_DIGIT}{{2}}[A-EHLMPR-T]{_CF_DIGIT}{{2}}\s?[A-Z]{_CF_DIGIT}{{3}}\s?[A-Z]\b",
    re.IGNORECASE,
)
CARD = re.compile(rf"(?<!\d)(?:\d{_SEP}){{12,18}}\d(?!\d)")  # glued to letters too: "carta4111…"
_GLUED_NUMBER = re.compile(r"(?<=[^\W\d_])(?=\+?\d{6})")  # a word running into a long number


def redact(text: str, region: str = "IT") -> str:
    """`text` with personal data replaced by [EMAIL], [IBAN], [CARD], [CODICE_FISCALE], [PHONE]."""
    text = unicodedata.normalize("NFKC", text)
    text = EMAIL.sub("[EMAIL]", text)
    text = IBAN.sub(_iban, text)
    text = CODICE_FISCALE.sub("[CODICE_FISCALE]", text)
    text = CARD.sub(lambda m: "[CARD]" if _is_card(m.group()) else m.group(), text)
    return _phones(text, region)


def _iban(match: re.Match[str]) -> str:
    """The longest valid IBAN at the start of the candidate (it may run into the next words)."""
    candidate = match.group()
    for end in range(len(candidate), 14, -1):
        if candidate[end - 1].isalnum() and iban.is_valid(re.sub(r"[ .\-/]", "", candidate[:end])):
            return "[IBAN]" + candidate[end:]
    return candidate


def _is_card(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    return 13 <= len(digits) <= 19 and luhn.is_valid(digits)


def _phones(text: str, region: str) -> str:
    """Phone numbers, also one glued to the word before it (set apart by a space if one is found)."""
    spaced = _GLUED_NUMBER.sub(" ", text)
    spans = [
        (match.start, match.end)
        for match in phonenumbers.PhoneNumberMatcher(spaced, region, leniency=phonenumbers.Leniency.VALID)
    ]
    if not spans:
        return text
    for start, end in reversed(spans):
        spaced = f"{spaced[:start]}[PHONE]{spaced[end:]}"
    return spaced

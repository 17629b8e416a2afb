"""Which language a customer writes in, tuned for short texts (lingua).

The bot serves Italian and English (see bot.config); `faqbot bench` detects among any data set's
languages that lingua knows (ISO 639-1 codes). One language needs no detection, whatever its code.

lingua weighs every word, so a question framed in one language around the other's terms ("i have
a partita iva, how do i get fattura elettronica") reads as the terms' language. The frame is in
the function words: each one found in a single language's stop-word list multiplies that
language's odds by FUNCTION_WORD_ODDS.

In a conversation, the language it has been in so far multiplies its odds by CONVERSATION_ODDS:
customers seldom switch language mid-chat, and the messages lingua reads worst are the short and
mixed ones that follow a first question ("tracking ordine LC-482913", "password", "shop in
napoli?"). A message clearly in the other language ("can you speak english?", "what about
returns") still switches.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import lingua
from lingua import IsoCode639_1, IsoCode639_3, Language, LanguageDetectorBuilder

from bot.retrieval.lexical import stopwords
from bot.text.normalise import normalise

FUNCTION_WORD_ODDS = 4.0
# Prior odds that a message is in the conversation's language: about one message in eleven
# switching, a generous share. lingua gives a one-word or mixed message odds of 2 to 6 either way,
# and a sentence in one language 20 and more.
CONVERSATION_ODDS = 10.0
# Stop words of one list that are common words of the other language too (Italian "no", "me",
# "so", "do", "ve" of "ve lo mando"; English "come", "era", "ad", "ai"), and single letters
# (English "s" of "it's", Italian "l" of "l'ordine", but also a stray "e" of "e-mail"): no
# evidence either way.
_AMBIGUOUS = frozenset({"no", "me", "so", "do", "ve", "come", "era", "ad", "ai"})


class LanguageDetector:
    """Probabilities over the configured languages; falls back to a default for empty text."""

    def __init__(self, languages: Sequence[str] = ("it", "en"), default: str = "it") -> None:
        unknown = [lang for lang in languages if lingua_language(lang) is None]
        if unknown and len(languages) > 1:
            raise ValueError(f"cannot tell apart languages {unknown}: not ISO 639-1 codes that lingua knows")
        if default not in languages:
            raise ValueError(f"default language {default!r} is not among {list(languages)}")
        self.languages = tuple(languages)
        self.default = default
        self._detector: lingua.LanguageDetector | None = None

    def warm_up(self) -> LanguageDetector:
        if self._detector is None and len(self.languages) > 1:
            self._detector = _build(self.languages)
        return self

    def probabilities(self, text: str, conversation: str | None = None) -> dict[str, float]:
        """P(language | text) for each configured language; `conversation` is the language the
        conversation has been in so far, if any (see CONVERSATION_ODDS)."""
        if len(self.languages) == 1:
            return {self.languages[0]: 1.0}
        detector = self.warm_up()._detector
        assert detector is not None  # warm_up builds one whenever there are two languages or more
        values = detector.compute_language_confidence_values(text)
        by_code = {code: 0.0 for code in self.languages}
        for value in values:
            by_code[value.language.iso_code_639_1.name.lower()] = float(value.value)
        if sum(by_code.values()) == 0.0:
            by_code[self.default] = 1.0
        probs = _with_function_words(by_code, normalise(text).split())
        if conversation in probs:
            probs = _with_odds(probs, {conversation: CONVERSATION_ODDS})
        return probs

    def detect(self, text: str, conversation: str | None = None) -> str:
        probs = self.probabilities(text, conversation)
        return max(self.languages, key=lambda code: probs[code])


def language_code(tag: str) -> str:
    """A language tag as the ISO 639-1 code the rest of faqbot keys on: "it-IT", "it_IT", "IT"
    and "ita" -> "it". A tag lingua does not know keeps its primary subtag, lower-cased; regional
    variants ("pt-BR", "pt-PT") become one language."""
    primary = tag.strip().replace("_", "-").split("-")[0].lower()
    if len(primary) == 3:
        try:
            return Language.from_iso_code_639_3(IsoCode639_3.from_str(primary)).iso_code_639_1.name.lower()
        except ValueError:
            pass
    return primary


def lingua_language(code: str) -> Language | None:
    """lingua's language for an ISO 639-1 code, or None."""
    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(code))
    except ValueError:
        return None


@lru_cache(maxsize=4)
def _build(languages: tuple[str, ...]) -> lingua.LanguageDetector:
    langs = [lingua_language(code) for code in languages]
    # LanguageDetector refuses codes lingua does not know whenever it has two languages or more,
    # the only case that builds a detector: none is None here.
    known = [lang for lang in langs if lang is not None]
    assert len(known) == len(langs)
    return LanguageDetectorBuilder.from_languages(*known).with_preloaded_language_models().build()


def _with_function_words(probs: dict[str, float], words: list[str]) -> dict[str, float]:
    """`probs` updated with the odds of each language's exclusive function words in `words`."""
    exclusive = _exclusive_function_words(tuple(probs))
    counts = {code: sum(w in exclusive[code] for w in words) for code in probs}
    if not any(counts.values()):
        return probs
    return _with_odds(probs, {code: FUNCTION_WORD_ODDS ** counts[code] for code in probs})


def _with_odds(probs: dict[str, float], factors: dict[str, float]) -> dict[str, float]:
    """`probs` with each language's odds multiplied by its factor (1 when not given), renormalised."""
    logs = {code: math.log(max(p, 1e-9)) + math.log(factors.get(code, 1.0)) for code, p in probs.items()}
    top = max(logs.values())
    total = sum(math.exp(v - top) for v in logs.values())
    return {code: math.exp(v - top) / total for code, v in logs.items()}


@lru_cache(maxsize=4)
def _exclusive_function_words(languages: tuple[str, ...]) -> dict[str, frozenset[str]]:
    """Per language, its stop words that are in no other language's list (nor ambiguous)."""
    lists = {code: {w for w in stopwords(code) if len(w) > 1} - _AMBIGUOUS for code in languages}
    return {
        code: frozenset(words.difference(*(lists[o] for o in languages if o != code)))
        for code, words in lists.items()
    }

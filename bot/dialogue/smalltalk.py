"""Messages that are not questions: greetings, thanks, goodbyes and acknowledgements ("ciao",
"grazie mille!", "ok thanks", "bye"). The bot answers them in kind instead of searching the
knowledge base, where they would only miss and hand the customer to a person."""

from __future__ import annotations

from dataclasses import dataclass

from bot.dialogue.vocabulary import Reason
from bot.text.normalise import normalise

# A kind of small talk is the reason of the reply to it.
GREETING, THANKS, GOODBYE, ACK = Reason.GREETING, Reason.THANKS, Reason.GOODBYE, Reason.ACK
# When a message holds several kinds ("ok grazie ciao"), the first listed here names it.
PRECEDENCE = (THANKS, GOODBYE, GREETING, ACK)
MAX_WORDS = 8  # longer messages carry something else, even if every word is a polite one


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words as `normalise` leaves them (no accents, no punctuation: "d'accordo" is "d accordo").
# A greeting also covers a bare call for help or notice of a question ("aiuto", "I have a
# question"): the reply invites the question.
WORDS: dict[str, dict[Reason, frozenset[str]]] = {
    "it": {
        GREETING: _words(
            "ciao salve buongiorno buonasera buondi giorno pomeriggio sera ehi ehila aiuto domanda domande "
            "informazione informazioni info"
        ),
        THANKS: _words("grazie ringrazio ringraziamo gentile gentili gentilissimo gentilissima gentilissimi"),
        GOODBYE: _words("arrivederci arrivederla buonanotte saluti salutoni presto prossima giornata serata"),
        ACK: _words("ok okay okey va bene benissimo perfetto perfetta ottimo capito chiaro accordo certo"),
    },
    "en": {
        GREETING: _words("hi hello hey hiya howdy morning afternoon evening help question questions"),
        THANKS: _words("thanks thank thx ty cheers appreciated"),
        GOODBYE: _words("bye goodbye byebye cya farewell later night day see"),
        ACK: _words(
            "ok okay alright fine good great perfect cool understood got noted clear nice awesome sure"
        ),
    },
}
# Words that go with the ones above but say nothing alone ("grazie mille", "thank you so much",
# "no grazie", "ho una domanda"). Negations are not among them: "non va bene" is a complaint.
FILLERS: dict[str, frozenset[str]] = {
    "it": _words(
        "mille tante tantissime molte infinite molto tanto davvero ancora di nuovo e a ti vi tutti tutto "
        "anche allora si no alla buona buon d per l ho avrei una un posso potrei fare farvi chiedere "
        "bisogno serve mi favore cortesia"
    ),
    "en": _words(
        "you so much very a lot again and yes no that s it all the for your there everyone have "
        "thats its guys soon i ve can could ask need quick me please pls"
    ),
}


# Phrases whose words say something else alone ("come" asks how, "va" is "va bene").
PHRASES: dict[str, dict[str, Reason]] = {
    "it": {"come stai": GREETING, "come sta": GREETING, "come state": GREETING, "come va": GREETING},
    "en": {"how are you": GREETING, "how is it going": GREETING, "how are things": GREETING},
}
# Emoji sent alone, or with the words above ("ok 👍"); skin tones and variation selectors are
# separate characters, so "👍🏽" and "❤️" hold these.
EMOJI = {"👍": ACK, "👌": ACK, "🙂": ACK, "😊": ACK, "😀": ACK, "🙏": THANKS, "❤": THANKS, "👋": GREETING}


@dataclass(frozen=True)
class SmallTalk:
    """What kind of non-question a message is, and the language its words belong to (None when
    they belong to both, as "ok" does)."""

    kind: Reason
    lang: str | None


def small_talk(text: str) -> SmallTalk | None:
    """The message's kind when every word of it is a greeting, thanks, goodbye or acknowledgement
    (or a word that goes with one); None for anything else, questions included."""
    plain, signs = _without_phrases(f" {normalise(text)} ")
    signs |= {EMOJI[char] for char in text if char in EMOJI}
    words = plain.split()
    if (not words and not signs) or len(words) > MAX_WORDS:
        return None
    langs = [lang for lang in WORDS if all(_known(word, lang) for word in words)]
    if not langs:  # "ciao, thanks!": words of both languages, none of anything else
        if not all(any(_known(word, lang) for lang in WORDS) for word in words):
            return None
        langs = list(WORDS)
    found = {kind for lang in langs for kind, vocabulary in WORDS[lang].items() if vocabulary & set(words)}
    kind = next((k for k in PRECEDENCE if k in found | signs), None)
    if kind is None:
        return None
    return SmallTalk(kind, langs[0] if len(langs) == 1 else None)


def _without_phrases(plain: str) -> tuple[str, set[Reason]]:
    """`plain` (spaces around) without the phrases of PHRASES, and the kinds they named."""
    kinds = set()
    for phrases in PHRASES.values():
        for phrase, kind in phrases.items():
            if f" {phrase} " in plain:
                plain = plain.replace(f" {phrase} ", " ")
                kinds.add(kind)
    return plain, kinds


def _known(word: str, lang: str) -> bool:
    return word in FILLERS[lang] or any(word in vocabulary for vocabulary in WORDS[lang].values())

"""Language detection: lingua's reading, corrected by the function words that frame a question."""

import pytest

import bot.retrieval.language as language
from bot.retrieval.language import LanguageDetector


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector(["it", "en"], "it").warm_up()


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        # English frames around Italian terms: lingua alone reads them as Italian
        ("what is codice destinatario", "en"),
        ("i dont have a codice destinatario, can i use my pec", "en"),
        # Italian frames around English terms
        ("come mi tolgo dalla mailing list?", "it"),
        ("non riesco a fare il login con la mia password", "it"),
        ("dove trovo il tracking del mio ordine?", "it"),
        ("ve lo rimando indietro", "it"),
        ("where can i track my order?", "en"),
    ],
)
def test_the_frame_decides_the_language(detector, text, lang):
    assert detector.detect(text) == lang


def test_lingua_alone_misread_the_mixed_questions(detector, monkeypatch):
    """The function-word correction is what gets the mixed questions right."""
    monkeypatch.setattr(language, "FUNCTION_WORD_ODDS", 1.0)
    assert detector.detect("what is codice destinatario") == "it"
    assert detector.detect("come mi tolgo dalla mailing list?") == "en"


def test_no_function_words_leaves_lingua_alone(detector, monkeypatch):
    corrected = detector.probabilities("reset password")
    monkeypatch.setattr(language, "FUNCTION_WORD_ODDS", 1.0)
    assert detector.probabilities("reset password") == pytest.approx(corrected)


def test_words_common_to_both_languages_are_no_evidence():
    words = language._exclusive_function_words(("it", "en"))
    for word in ("no", "me", "so", "ve", "come", "ai", "a", "i", "in"):
        assert word not in words["it"] and word not in words["en"]
    assert "the" in words["en"] and "della" in words["it"]
    assert not words["it"] & words["en"]


def test_probabilities_still_sum_to_one(detector):
    probs = detector.probabilities("i have a partita iva, how do i get fattura elettronica")
    assert sum(probs.values()) == pytest.approx(1.0)
    assert set(probs) == {"it", "en"}


def test_one_language_is_certain():
    assert LanguageDetector(["en"], "en").probabilities("the the the") == {"en": 1.0}


def test_any_language_lingua_knows():
    detector = LanguageDetector(["de", "fr"], "de")
    assert detector.detect("wie lange dauert der Versand meiner Bestellung") == "de"
    assert detector.detect("combien de temps dure la livraison de ma commande") == "fr"


def test_one_language_needs_no_detection_whatever_its_code():
    assert LanguageDetector(["xx"], "xx").probabilities("anything at all") == {"xx": 1.0}


def test_unknown_codes_cannot_be_told_apart():
    with pytest.raises(ValueError, match="xx"):
        LanguageDetector(["xx", "en"], "en")
    with pytest.raises(ValueError, match="default"):
        LanguageDetector(["it", "en"], "de")


@pytest.mark.parametrize(
    ("tag", "code"),
    [
        ("it", "it"),
        ("it-IT", "it"),
        ("en_US", "en"),
        ("EN", "en"),
        ("ita", "it"),
        ("eng", "en"),
        ("pt-BR", "pt"),
        ("xx-YY", "xx"),
        ("zzz", "zzz"),
    ],
)
def test_language_tags_become_the_codes_faqbot_keys_on(tag, code):
    """Data sets label languages as locales ("it-IT") or ISO 639-3 codes ("ita") too."""
    assert language.language_code(tag) == code


@pytest.mark.parametrize(
    ("text", "conversation"),
    [
        ("tracking ordine LC-482913", "it"),  # lingua alone: English
        ("shop in napoli?", "en"),  # lingua alone: Italian
        ("annul order", "en"),
        ("password", "en"),
    ],
)
def test_a_short_or_mixed_message_keeps_the_conversation_language(detector, text, conversation):
    assert detector.detect(text) != conversation
    assert detector.detect(text, conversation) == conversation


@pytest.mark.parametrize(
    ("text", "conversation", "lang"),
    [
        ("can you speak english?", "it", "en"),
        ("what about returns", "it", "en"),
        ("vorrei parlare con qualcuno", "en", "it"),
    ],
)
def test_a_message_clearly_in_the_other_language_switches(detector, text, conversation, lang):
    assert detector.detect(text, conversation) == lang


def test_the_conversation_weighs_as_stated_odds(detector):
    alone = detector.probabilities("annul order")
    within = detector.probabilities("annul order", "en")
    odds = (within["en"] / within["it"]) / (alone["en"] / alone["it"])
    assert odds == pytest.approx(language.CONVERSATION_ODDS)
    assert sum(within.values()) == pytest.approx(1.0)


def test_a_conversation_language_outside_the_detector_is_ignored(detector):
    assert detector.probabilities("annul order", "de") == pytest.approx(detector.probabilities("annul order"))

"""Hybrid retrieval over a small two-language KB, with the fake embedder."""

from __future__ import annotations

import pytest

from bot.index.build import build_index
from bot.retrieval.language import LanguageDetector
from bot.retrieval.lexical import LexicalIndex, tokenize
from bot.retrieval.search import Retriever
from tests.conftest import FakeEmbedder


@pytest.fixture
def retriever(small_kb, settings):
    embedder = FakeEmbedder()
    build_index(settings.build, embedder)
    return Retriever.from_root(settings.index_path, embedder, LanguageDetector()).load()


def test_italian_stemming_and_accents_match_inflections():
    assert tokenize("Come restituire i prodotti?", "it") == ["restitu", "prodott"]
    assert tokenize("restituisco il prodotto", "it") == ["restitu", "prodott"]
    assert tokenize("perché è già arrivato", "it") == tokenize("perche e gia arrivato", "it")
    assert tokenize("the parcels have been shipped", "en") == ["parcel", "ship"]


def test_lexical_scores_only_the_query_language_index():
    index = LexicalIndex.build(["spedizione gratuita", "free shipping", "reso"], ["it", "en", "it"])
    scores = index.scores("spedizioni", langs=["it"])
    assert scores[0] > 0 and scores[1] == 0 and scores[2] == 0
    assert index.coverage("spedizione lampo", "it") == 0.5


@pytest.mark.parametrize(
    ("text", "expected", "lang"),
    [
        ("ho perso la password", "reset-password", "it"),
        ("quanto costano le spese di spedizione?", "shipping-costs", "it"),
        ("vorrei restituire un prodotto", "returns-how", "it"),
        ("I forgot my password, help", "reset-password-en", "en"),
        ("what are the shipping costs", "shipping-costs-en", "en"),
    ],
)
def test_finds_the_right_article_in_both_languages(retriever, text, expected, lang):
    result = retriever.search(text)
    assert result.lang == lang
    assert result.hits[0].article_id == expected
    assert 0.0 <= result.confidence <= 1.0


def test_hit_carries_the_matching_question_as_evidence(retriever):
    hit = retriever.search("password dimenticata").hits[0]
    assert hit.matched_kind in {"question", "title"}
    assert "password" in hit.matched.lower()
    assert set(hit.signals) == {"dense", "lexical", "fuzzy", "lang", "chars"}


def test_only_one_language_version_of_an_article_is_listed(retriever):
    ids = [h.article_id for h in retriever.search("password").hits]
    assert not ({"reset-password", "reset-password-en"} <= set(ids))


def test_translations_of_one_original_are_one_group():
    """Every version of an article is linked to every other, so three languages collapse to one
    hit (linking each only to the original let two translations both be listed)."""
    import numpy as np

    from bot.index.artefacts import ArticleRecord
    from bot.retrieval.corpus import translation_groups
    from bot.retrieval.search import collapse_translations

    articles = [
        ArticleRecord("faq", "it", "FAQ"),
        ArticleRecord("faq-en", "en", "FAQ", translation_of="faq"),
        ArticleRecord("faq-de", "de", "FAQ", translation_of="faq"),
        ArticleRecord("other", "it", "Other"),
        ArticleRecord("orphan", "en", "Orphan", translation_of="missing"),
    ]
    groups = translation_groups(articles, {a.id: i for i, a in enumerate(articles)})
    assert groups == [{1, 2}, {0, 2}, {0, 1}, set(), set()]

    class Corpus:
        linked = groups
        article_lang = [a.lang for a in articles]

    candidates = np.array([1, 2, 3, 0])  # English version best, then German, other, Italian
    kept = collapse_translations(Corpus(), candidates, np.arange(4), lang="de")
    assert [int(candidates[k]) for k in kept] == [2, 3]


def test_customer_language_picks_between_language_versions(retriever):
    # "password" matches both versions of the article equally: the customer's language decides
    assert retriever.search("password", lang="it").hits[0].article_id == "reset-password"
    assert retriever.search("password", lang="en").hits[0].article_id == "reset-password-en"
    assert retriever.search("password", lang="en").lang == "en"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("what if i have forgotten the password of my account", "reset-password-en"),
        ("what is the meaning of password persa", "reset-password-en"),
        ("how is it with my password dimenticata", "reset-password-en"),
        ("non ricordo la password del mio account", "reset-password"),
    ],
)
def test_detected_language_picks_between_language_versions(retriever, text, expected):
    """An unstated language is detected, and its version is shown: the reply's messages are in
    that language too, so the article matches them."""
    result = retriever.search(text)
    assert result.hits[0].article_id == expected
    assert expected.endswith("-en") == (result.lang == "en")


def test_falls_back_to_the_other_language(retriever):
    # "returns" exists only in Italian: an English customer still gets it ranked first
    hit = retriever.search("reso restituzione", lang="en").hits[0]
    assert hit.article_id == "returns-how"


def test_verbatim_question_answers_with_its_article(retriever):
    result = retriever.search("spese di spedizione")
    assert result.hits[0].article_id == "shipping-costs" and result.confidence >= 0.99


def test_exact_question_is_more_confident_than_an_unrelated_one(retriever):
    exact = retriever.search("Ho dimenticato la password").confidence
    unrelated = retriever.search("qual è la distanza tra la Terra e Giove?").confidence
    assert exact > unrelated


def test_other_languages_tokenise_with_or_without_a_stemmer():
    assert tokenize("Die Bestellungen wurden versandt", "de") == ["bestell", "versandt"]
    assert tokenize("tilaus ei ole saapunut", "xx") == ["tilaus", "ei", "ole", "saapunut"]

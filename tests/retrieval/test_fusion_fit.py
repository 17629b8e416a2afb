"""How the fusion is fitted: which ranker serves, and how the confidence weighs answerable and
unanswerable labelled questions."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import rankdata

from bot.index.contents import article_record, article_units
from bot.index.write import train_head
from bot.kb.articles import Article
from bot.retrieval.corpus import Corpus
from bot.retrieval.features import RANK, RANK_FEATURES
from bot.retrieval.fusion import Fusion, Linear, Standardised, fit_linear
from bot.retrieval.fusion_fit import (
    CLARIFY_QUANTILE,
    Example,
    _balance,
    _confidence_rows,
    _gate,
    _self_examples,
    clarify_as_calibrated,
    fit_examples,
    fit_fusion,
    kb_calibrated_confidence,
)
from bot.retrieval.language import LanguageDetector
from bot.retrieval.lexical import LexicalIndex
from bot.retrieval.results import SearchResult
from bot.retrieval.scoring import Candidates, Scorer
from bot.retrieval.search import rank
from tests.conftest import FakeEmbedder


def test_balance_gives_both_kinds_the_same_total_weight():
    weight = _balance([True] * 97 + [False] * 3)
    assert np.isclose(weight[:97].sum(), weight[97:].sum())
    assert np.all(weight[:97] == 1.0) and np.allclose(weight[97:], 97 / 3)


def test_balance_leaves_a_single_kind_alone():
    assert np.array_equal(_balance([True, True, True]), np.ones(3))
    assert np.array_equal(_balance([False, False]), np.ones(2))


def test_weights_move_the_fitted_boundary_towards_the_rare_kind():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0.7, 0.1, 300), rng.normal(0.4, 0.1, 10)])[:, None]
    y = np.array([1] * 300 + [0] * 10)
    plain = fit_linear(x, y)
    balanced = fit_linear(x, y, weight=_balance(list(y == 1)))
    # the rare unanswerable side gains say: its typical score now falls below one half
    assert plain(np.array([[0.4]]))[0] > 0.5 > balanced(np.array([[0.4]]))[0]


# --- which ranker serves: learned from the KB's own questions, or the robust one -------------------

TOPICS = [
    ("password", "reset"),
    ("invoice", "download"),
    ("order", "cancel"),
    ("parcel", "track"),
    ("account", "delete"),
    ("address", "change"),
    ("refund", "request"),
    ("voucher", "redeem"),
    ("subscription", "pause"),
    ("card", "update"),
    ("newsletter", "unsubscribe"),
    ("warranty", "claim"),
    ("return", "ship"),
    ("store", "find"),
    ("size", "choose"),
    ("gift", "wrap"),
    ("coupon", "apply"),
    ("review", "write"),
    ("delivery", "reschedule"),
    ("receipt", "print"),
    ("login", "recover"),
    ("email", "verify"),
    ("phone", "add"),
    ("points", "spend"),
    ("basket", "save"),
    ("wishlist", "share"),
    ("price", "match"),
    ("stock", "notify"),
    ("exchange", "arrange"),
    ("repair", "book"),
    ("manual", "read"),
    ("battery", "replace"),
    ("charger", "buy"),
    ("screen", "clean"),
    ("app", "install"),
    ("profile", "edit"),
    ("language", "switch"),
    ("currency", "set"),
    ("tax", "exempt"),
    ("bulk", "order"),
    ("sample", "ask"),
    ("catalogue", "browse"),
]


def one_question_faq() -> list[Article]:
    """An imported FAQ: one question per entry, the title, and a long answer."""
    return [
        Article(
            id=f"{verb}-{noun}",
            lang="en",
            title=f"How do I {verb} my {noun}?",
            questions=(f"How do I {verb} my {noun}?",),
            body=f"To {verb} the {noun}, open the {noun} page.\n\nOur team can also {verb} it for you.",
            path=Path(f"{verb}-{noun}.md"),
        )
        for noun, verb in TOPICS
    ]


def corpus_of(articles: list[Article]) -> Corpus:
    units = article_units(articles)
    vectors = FakeEmbedder().encode([u.text for u in units])
    lexical = LexicalIndex.build([u.text for u in units], [articles[u.article].lang for u in units])
    head = train_head(articles, units, vectors)
    return Corpus([article_record(a) for a in articles], units, vectors, lexical, head=head)


def ask(corpus: Corpus, fusion: Fusion, text: str) -> SearchResult:
    vector = FakeEmbedder().encode([text])[0]
    head = corpus.head.logits(vector) if corpus.head is not None else None
    dense, lexical = corpus.vectors @ vector, corpus.lexical.scores(text)
    return rank(corpus, fusion, Scorer(corpus), text, "en", {"en": 1.0}, dense, lexical, 1.0, head=head)


def test_a_faq_whose_only_question_is_its_title_is_served_the_robust_ranker():
    """Nothing to hold out: no self-supervised ranker learns from noise (it used to, from none
    right), and a paraphrase of an entry finds it."""
    corpus = corpus_of(one_question_faq())
    fusion = fit_fusion(corpus, LanguageDetector(["en"], "en"))
    assert fusion.ranker["*"] == Standardised.robust()
    assert ask(corpus, fusion, "what should I do to track a parcel").hits[0].article_id == "track-parcel"


def test_its_confidence_is_calibrated_on_the_kb_entries_asked_without_their_own():
    corpus = corpus_of(one_question_faq())
    fusion = fit_fusion(corpus, LanguageDetector(["en"], "en"))
    assert "calibrated" in fusion.source
    assert fusion.confidence["*"] == kb_calibrated_confidence(
        corpus, LanguageDetector(["en"], "en"), Standardised.robust()
    )
    in_scope = ask(corpus, fusion, "how can I track my parcel").confidence
    out_of_scope = ask(corpus, fusion, "is the car park open on sundays").confidence
    assert in_scope > 0.5 > 0.2 > out_of_scope  # answered outright; handed off


def test_too_few_entries_to_calibrate_on_keep_the_prior_confidence():
    corpus = corpus_of(one_question_faq()[:10])
    assert kb_calibrated_confidence(corpus, LanguageDetector(["en"], "en"), Standardised.robust()) is None
    assert fit_fusion(corpus, LanguageDetector(["en"], "en")) == Fusion.prior()


def with_alternate_questions() -> list[Article]:
    return [
        dataclasses.replace(
            a,
            questions=(
                *a.questions,
                f"{a.id.split('-')[1]} {a.id.split('-')[0]} help",
                f"can you {a.id.replace('-', ' ')}",
            ),
        )
        for a in one_question_faq()
    ]


def test_alternate_questions_that_teach_the_ranker_keep_the_learned_one():
    articles = with_alternate_questions()
    fusion = fit_fusion(corpus_of(articles), LanguageDetector(["en"], "en"))
    # every article keeps two phrasings when one is held out: the fit ranks them as well as any
    # plain signal does, so it serves
    assert fusion.stats["*"]["queries"] == 3 * len(articles)
    assert fusion.stats["*"]["ranker"] == "learned" and isinstance(fusion.ranker["*"], Linear)


def test_a_learned_confidence_hands_off_where_the_day_one_one_does():
    """At the clarify threshold sits CLARIFY_QUANTILE of the KB's own questions asked with their
    entry removed; which questions are answered outright, and the order of confidences, stay."""
    corpus, detector = corpus_of(with_alternate_questions()), LanguageDetector(["en"], "en")
    examples = _self_examples(corpus, detector, 3000, 13)
    learned = fit_examples(corpus, examples, source="self-supervised")
    served = clarify_as_calibrated(corpus, learned, examples)
    assert served == fit_fusion(corpus, detector) and served.ranker == learned.ranker
    removed = [e for e in examples if e.gold < 0]
    x, _, _, _ = _confidence_rows(corpus, removed, [served.ranker["*"]] * 2)
    before, after = learned.confidence["*"](x), served.confidence["*"](x)
    assert np.quantile(before, CLARIFY_QUANTILE) != pytest.approx(0.2, abs=0.02)  # it did move
    assert np.quantile(after, CLARIFY_QUANTILE) == pytest.approx(0.2, abs=0.01)
    assert np.array_equal(before >= 0.5, after >= 0.5)
    assert np.array_equal(rankdata(before), rankdata(after))
    assert served.stats["*"]["clarify_scale"] > 0


def example(features: np.ndarray, gold: int, fold: int = 0) -> Example:
    cands = Candidates(np.arange(len(features)), features, np.zeros(len(features), dtype=np.int64))
    return Example("en", 1.0, cands, gold, fold)


def test_a_learned_ranker_worse_than_one_plain_signal_on_its_held_out_questions_does_not_serve():
    x = np.zeros((2, len(RANK_FEATURES)))
    x[:, RANK["dense_question"]] = [0.9, 0.3]  # dense puts the right article (0) first
    x[:, RANK["fuzzy"]] = [0.1, 0.8]
    group = [example(x, 0, fold) for fold in (0, 1)]
    fuzzy_only = Linear(0.0, tuple(float(name == "fuzzy") for name in RANK_FEATURES))
    dense_only = Linear(0.0, tuple(float(name == "dense_question") for name in RANK_FEATURES))
    assert not _gate(group, [fuzzy_only, fuzzy_only])["learned_serves"]
    verdict = _gate(group, [dense_only, dense_only])
    assert verdict["learned_serves"] and verdict["learned_top1"] == 1.0

"""Learn the fusion models of a freshly built index from its own alternate questions."""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass

import numpy as np

from bot.fusion import MIN_QUERIES, Fusion, Linear, confidence_features, fit_linear
from bot.language import LanguageDetector
from bot.retrieve import ANSWER, QUESTION, Corpus, Scorer, collapse_translations, exclusion


@dataclass
class _Query:
    unit: int
    gold: int
    lang: str
    probs: dict[str, float]
    coverage: float
    held_out: object  # Candidates with the question removed (its article still answers)
    seen: object  # Candidates with the question kept: customers often type a curated question verbatim
    removed: object  # Candidates with the whole article (and its translations) removed
    fold: int


def fit_fusion(
    corpus: Corpus,
    detector: LanguageDetector,
    max_queries: int = 3000,
    seed: int = 13,
) -> Fusion:
    """Fit ranker and confidence models; fall back to the priors when there is too little data."""
    queries = _make_queries(corpus, detector, max_queries, seed)
    if len(queries) < MIN_QUERIES:
        return Fusion.prior()
    langs = sorted({q.lang for q in queries})
    groups = {"*": queries} | {
        lang: [q for q in queries if q.lang == lang]
        for lang in langs
        if sum(q.lang == lang for q in queries) >= MIN_QUERIES
    }
    ranker: dict[str, Linear] = {}
    confidence: dict[str, Linear] = {}
    stats: dict[str, dict[str, float]] = {}
    prior = Fusion.prior()
    for name, group in groups.items():
        ranker[name] = _fit_ranker(group) or prior.ranker["*"]
        # Cross-fitting: the confidence model sees ranker probabilities from the other fold.
        folds = [_fit_ranker([q for q in group if q.fold != f]) or ranker[name] for f in (0, 1)]
        x, y, top1 = _confidence_rows(corpus, group, folds)
        confidence[name] = fit_linear(x, y) or prior.confidence["*"]
        stats[name] = {"queries": len(group), "held_out_top1": top1}
    return Fusion(ranker, confidence, source="self-supervised", stats=stats)


def _make_queries(corpus: Corpus, detector: LanguageDetector, max_queries: int, seed: int) -> list[_Query]:
    units = [
        u
        for u in np.flatnonzero(corpus.unit_kind == QUESTION)
        # an article needs another title/question left once this one is held out
        if _short_units(corpus, int(corpus.unit_article[u])) > 1
    ]
    random.Random(seed).shuffle(units)
    units = sorted(units[:max_queries])
    if not units:
        return []
    scorer = Scorer(corpus)
    dense_all = corpus.vectors[units] @ corpus.vectors.T
    queries = []
    for row, unit in enumerate(units):
        gold = int(corpus.unit_article[unit])
        text = corpus.units[unit].text
        lang = corpus.article_lang[gold]
        probs = detector.probabilities(text)
        lexical = corpus.lexical.scores(text)
        dense = dense_all[row]
        own = range(corpus.starts[gold], corpus.starts[gold + 1])
        same = [u for u in own if corpus.unit_norm[u] == corpus.unit_norm[unit]]
        held_out = scorer.candidates(text, dense, lexical, probs, exclusion(corpus, units=same))
        seen = scorer.candidates(text, dense, lexical, probs)
        gone = [gold, *corpus.linked[gold]]
        removed = scorer.candidates(text, dense, lexical, probs, exclusion(corpus, articles=gone))
        coverage = corpus.lexical.coverage(text, lang)
        fold = zlib.crc32(corpus.articles[gold]["id"].encode()) % 2
        queries.append(_Query(unit, gold, lang, probs, coverage, held_out, seen, removed, fold))
    return queries


def _short_units(corpus: Corpus, article: int) -> int:
    kinds = corpus.unit_kind[corpus.starts[article] : corpus.starts[article + 1]]
    return int((kinds != ANSWER).sum())


def _fit_ranker(group: list[_Query]) -> Linear | None:
    rows = [q.held_out.features for q in group if len(q.held_out.articles)]
    labels = [(q.held_out.articles == q.gold).astype(int) for q in group if len(q.held_out.articles)]
    if not rows:
        return None
    return fit_linear(np.vstack(rows), np.concatenate(labels))


def _confidence_rows(
    corpus: Corpus, group: list[_Query], folds: list[Linear]
) -> tuple[np.ndarray, np.ndarray, float]:
    """One row per query and condition: held out (label: top-1 right) and removed (label 0)."""
    xs, ys, right = [], [], 0
    for q in group:
        model = folds[q.fold]
        for cands, answerable in ((q.held_out, True), (q.seen, True), (q.removed, False)):
            if not len(cands.articles):
                xs.append(confidence_features(np.zeros(0), cands.features, q.coverage))
                ys.append(0)
                continue
            p = model(cands.features)
            order = collapse_translations(corpus, cands.articles, np.argsort(-p, kind="stable"))
            correct = answerable and int(cands.articles[order[0]]) == q.gold
            right += int(correct and cands is q.held_out)
            xs.append(confidence_features(p[order], cands.features[order], q.coverage))
            ys.append(int(correct))
    return np.vstack(xs), np.array(ys), right / max(1, len(group))

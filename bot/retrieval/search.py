"""Hybrid search over one index version: dense (FAISS) + lexical (BM25) + fuzzy (rapidfuzz)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.index.artefacts import ArticleRecord, IndexError_, Manifest
from bot.index.versions import resolve
from bot.retrieval.corpus import Corpus
from bot.retrieval.embedder import Embedder
from bot.retrieval.features import RANK, confidence_features
from bot.retrieval.fusion import Fusion
from bot.retrieval.language import LanguageDetector
from bot.retrieval.model_switch import ModelSwitch
from bot.retrieval.results import Hit, SearchResult
from bot.retrieval.scoring import Candidates, Scorer
from bot.text.normalise import normalise

# A question typed exactly as curated (after normalisation) is the FAQ's own mapping: trust it.
EXACT_CONFIDENCE = 0.99


class Retriever:
    """Loads one index version and answers `search(text)` with ranked, scored articles."""

    def __init__(
        self,
        folder: Path,
        embedder: Embedder,
        detector: LanguageDetector,
        per_signal: int = 20,
        switch: ModelSwitch | None = None,
    ) -> None:
        self.folder = folder
        self.embedder = embedder
        self.switch = switch or ModelSwitch(embedder)
        self.detector = detector
        self.per_signal = per_signal
        self.corpus: Corpus | None = None
        self.manifest: Manifest | None = None
        self.fusion = Fusion.prior()

    @classmethod
    def from_root(
        cls, root: Path, embedder: Embedder, detector: LanguageDetector, switch: ModelSwitch | None = None
    ) -> Retriever:
        """A retriever for the live version under an index root (`index/current`)."""
        return cls(resolve(root), embedder, detector, switch=switch)

    def load(self) -> Retriever:
        """Read and verify the version; refuse one built with another model or dimension."""
        corpus, manifest, fusion = Corpus.load(self.folder)
        self.embedder = self.switch.for_version(manifest, self.folder, self.embedder)
        if manifest.model != self.embedder.model_id:
            raise IndexError_(
                f"{self.folder}: built with model {manifest.model!r}, serving {self.embedder.model_id!r}; "
                "rebuild the index"
            )
        if manifest.dimension != self.embedder.dimension:
            raise IndexError_(
                f"{self.folder}: dimension {manifest.dimension} != model's {self.embedder.dimension}"
            )
        self.corpus, self.manifest, self.fusion = corpus, manifest, fusion
        self.detector.warm_up()
        return self

    @property
    def version(self) -> str:
        return self.manifest.version if self.manifest else ""

    def article(self, article_id: str) -> ArticleRecord | None:
        """The record of a served article, or None if this version does not hold it."""
        assert self.corpus is not None, "call load() first"
        position = self.corpus.position.get(article_id)
        return None if position is None else self.corpus.articles[position]

    def search(
        self, text: str, lang: str | None = None, k: int = 5, conversation_lang: str | None = None
    ) -> SearchResult:
        """Rank articles for `text`; `lang` forces the customer's language instead of detecting it;
        `conversation_lang`, the language of the conversation so far, weighs in the detection."""
        if self.corpus is None:
            raise RuntimeError("call load() first")
        vector = self.embedder.encode([text])[0]
        return self.search_vector(text, vector, lang, k, conversation_lang=conversation_lang)

    def search_vector(
        self,
        text: str,
        vector: np.ndarray,
        lang: str | None = None,
        k: int = 5,
        head_logits: np.ndarray | None = None,
        conversation_lang: str | None = None,
    ) -> SearchResult:
        """`search` with the query's embedding already computed (batch evaluation); `head_logits`
        replace the head's scores (a head that never saw this question, when it trained on it)."""
        assert self.corpus is not None, "call load() first"
        probs = self.detector.probabilities(text, conversation_lang)
        if lang is not None:
            probs = {code: float(code == lang) for code in probs}
        query_lang = lang or max(probs, key=probs.__getitem__)
        dense = self.corpus.dense_scores(vector, 10 * self.per_signal)
        lexical = self.corpus.lexical.scores(text)
        coverage = self.corpus.lexical.coverage(text, query_lang)
        head = head_logits
        if head is None and self.corpus.head is not None:
            head = self.corpus.head.logits(vector)
        scorer = Scorer(self.corpus, self.per_signal)
        args = (text, query_lang, probs, dense, lexical, coverage)
        return rank(self.corpus, self.fusion, scorer, *args, k=k, head=head)


def rank(
    corpus: Corpus,
    fusion: Fusion,
    scorer: Scorer,
    text: str,
    lang: str,
    probs: dict[str, float],
    dense: np.ndarray,
    lexical: np.ndarray,
    coverage: float,
    excluded: np.ndarray | None = None,
    k: int = 5,
    head: np.ndarray | None = None,
) -> SearchResult:
    """Score candidates, rank them, keep one language version per article, estimate confidence.

    `lang` is the customer's language (stated, or else detected): its version of an article is
    shown.
    """
    cands = scorer.candidates(text, dense, lexical, probs, excluded, head)
    p = fusion.rank(lang, cands.features) if len(cands.articles) else np.zeros(0)
    ranking = np.argsort(-p, kind="stable")
    exact = exact_match(corpus, cands.articles, text, lang, excluded)
    if exact is not None:
        ranking = np.concatenate([[exact], ranking[ranking != exact]])
    p = p.copy()
    order = collapse_translations(corpus, cands.articles, ranking, p, lang)
    conf_x = confidence_features(p[order], cands.features[order], coverage, cands.head_energy)
    confidence = float(fusion.confident(lang, conf_x[None, :])[0]) if len(order) else 0.0
    if exact is not None:
        confidence = max(confidence, EXACT_CONFIDENCE)
    hits = tuple(_hit(corpus, cands, int(i), float(p[i])) for i in order[:k])
    return SearchResult(text, lang, probs, confidence, hits, coverage)


def exact_match(
    corpus: Corpus, articles: np.ndarray, text: str, lang: str, excluded: np.ndarray | None
) -> int | None:
    """Position among `articles` of the one with a title/question equal to `text`, preferring `lang`."""
    units = [u for u in corpus.exact.get(normalise(text), []) if excluded is None or not excluded[u]]
    owners = sorted(
        {int(corpus.unit_article[u]) for u in units}, key=lambda a: corpus.article_lang[a] != lang
    )
    for owner in owners:
        position = np.flatnonzero(articles == owner)
        if len(position):
            return int(position[0])
    return None


def collapse_translations(
    corpus: Corpus, articles: np.ndarray, order: np.ndarray, scores: np.ndarray | None = None, lang: str = ""
) -> np.ndarray:
    """One entry per article across its language versions, ranked by the best version's score.

    The entry shown is the version in the customer's `lang` when it is a candidate (its score in
    `scores` is raised to the group's best), else the best-ranked version.
    """
    position = {int(a): i for i, a in enumerate(articles)}
    seen: set[int] = set()
    kept = []
    for i in order:
        a = int(articles[i])
        if a in seen:
            continue
        group = {a, *corpus.linked[a]}
        seen.update(group)
        shown = next(
            (position[g] for g in sorted(group) if g in position and corpus.article_lang[g] == lang), int(i)
        )
        if scores is not None and shown != i:
            scores[shown] = scores[i]
        kept.append(shown)
    return np.array(kept, dtype=np.int64)


def _hit(corpus: Corpus, cands: Candidates, i: int, score: float) -> Hit:
    article = corpus.articles[int(cands.articles[i])]
    unit = corpus.units[int(cands.evidence[i])]
    row = cands.features[i]
    signals = {
        "dense": float(row[RANK["dense_question"]]),
        "lexical": float(row[RANK["lexical_rel"]]),
        "fuzzy": float(row[RANK["fuzzy"]]),
        "lang": float(row[RANK["lang"]]),
        "chars": float(row[RANK["chars"]]),
    }
    return Hit(article.id, article.title, article.lang, score, unit.text, unit.kind, signals)


def exclusion(corpus: Corpus, units: Sequence[int] = (), articles: Sequence[int] = ()) -> np.ndarray:
    """A unit mask hiding the given units and every unit of the given articles."""
    mask = np.zeros(len(corpus.units), dtype=bool)
    mask[list(units)] = True
    for a in articles:
        mask[corpus.starts[a] : corpus.starts[a + 1]] = True
    return mask

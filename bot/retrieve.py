"""Hybrid search over one index version: dense (FAISS) + lexical (BM25) + fuzzy (rapidfuzz)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from rapidfuzz import fuzz, process

from bot.char_ngrams import CharNgrams
from bot.embed import Embedder
from bot.fusion import Fusion, confidence_features
from bot.head import Head, energy, softmax
from bot.index import IndexError_, Manifest, Unit, resolve, verify
from bot.language import LanguageDetector
from bot.lexical import LexicalIndex
from bot.model_switch import ModelSwitch
from bot.text import normalise

TITLE, QUESTION, ANSWER = 0, 1, 2
# A question typed exactly as curated (after normalisation) is the FAQ's own mapping: trust it.
EXACT_CONFIDENCE = 0.99
_KINDS = {"title": TITLE, "question": QUESTION, "answer": ANSWER}


@dataclass(frozen=True)
class Hit:
    """One ranked article with its score and the evidence that matched."""

    article_id: str
    title: str
    lang: str
    score: float
    matched: str
    matched_kind: str
    signals: dict[str, float]


@dataclass(frozen=True)
class SearchResult:
    """The ranked articles for one question, and how sure we are that the first is right."""

    text: str
    lang: str
    lang_probs: dict[str, float]
    confidence: float
    hits: tuple[Hit, ...]
    coverage: float = 0.0


@dataclass
class Corpus:
    """An index version's content in memory: articles, units, their vectors and BM25."""

    articles: list[dict[str, Any]]
    units: list[Unit]
    vectors: np.ndarray
    lexical: LexicalIndex
    dense_index: faiss.Index | None = None
    head: Head | None = None
    unit_article: np.ndarray = field(init=False)
    unit_kind: np.ndarray = field(init=False)
    starts: np.ndarray = field(init=False)
    unit_norm: list[str] = field(init=False)
    article_lang: list[str] = field(init=False)
    linked: list[set[int]] = field(init=False)
    exact: dict[str, list[int]] = field(init=False)
    position: dict[str, int] = field(init=False)
    chars: CharNgrams = field(init=False)

    def __post_init__(self) -> None:
        self.unit_article = np.array([u.article for u in self.units], dtype=np.int64)
        self.unit_kind = np.array([_KINDS[u.kind] for u in self.units], dtype=np.int8)
        if len(self.unit_article) and np.any(np.diff(self.unit_article) < 0):
            raise ValueError("units must be grouped by article")
        self.starts = np.searchsorted(self.unit_article, np.arange(len(self.articles) + 1))
        normalised = [normalise(u.text) for u in self.units]
        self.chars = CharNgrams(normalised)
        self.unit_norm = [
            t if u.kind != "answer" else "" for u, t in zip(self.units, normalised, strict=True)
        ]
        self.article_lang = [a["lang"] for a in self.articles]
        self.exact = {}
        for unit, norm in enumerate(self.unit_norm):
            if norm:
                self.exact.setdefault(norm, []).append(unit)
        by_id = {a["id"]: i for i, a in enumerate(self.articles)}
        self.position = by_id
        self.linked = translation_groups(self.articles, by_id)

    def dense_scores(self, vector: np.ndarray, k: int) -> np.ndarray:
        """Cosine of `vector` with every unit: exact for a flat index; from an approximate one, the
        `k` nearest units found by it, and -1 (as far as can be) for the rest."""
        if self.dense_index is None or isinstance(self.dense_index, faiss.IndexFlat):
            return self.vectors @ vector
        scores, found = self.dense_index.search(vector[None, :], k)
        dense = np.full(len(self.units), -1.0, dtype=np.float32)
        hit = found[0] >= 0
        dense[found[0][hit]] = scores[0][hit]
        return dense

    @classmethod
    def load(cls, folder: Path) -> tuple[Corpus, Manifest, Fusion]:
        manifest = Manifest.from_file(folder / "manifest.json")
        verify(folder, manifest)
        payload = json.loads((folder / "articles.json").read_text(encoding="utf-8"))
        units = [Unit(a, kind, text) for a, kind, text in payload["units"]]
        index = faiss.read_index(str(folder / "vectors.faiss"))
        if isinstance(index, faiss.IndexIVF):
            index.make_direct_map()  # so stored vectors can be read back
        vectors = (
            index.reconstruct_n(0, index.ntotal)
            if index.ntotal
            else np.zeros((0, manifest.dimension), np.float32)
        )
        head = Head.load(folder / "head.npz") if (folder / "head.npz").is_file() else None
        corpus = cls(payload["articles"], units, vectors, LexicalIndex.load(folder / "lexical"), index, head)
        try:
            fusion = Fusion.from_dict(manifest.fusion) if manifest.fusion else Fusion.prior()
        except (KeyError, TypeError, ValueError) as exc:  # built by an older faqbot
            raise IndexError_(f"{folder}: {exc}") from exc
        return corpus, manifest, fusion


@dataclass
class Candidates:
    """Candidate articles for one query, with one feature row each."""

    articles: np.ndarray
    features: np.ndarray
    evidence: np.ndarray  # unit index of the best-matching title/question per candidate
    head_energy: tuple[float, float, float] = (0.0, 0.0, 0.0)  # see head.energy


class Scorer:
    """Turns per-unit dense and lexical scores into candidate articles with fusion features."""

    def __init__(self, corpus: Corpus, per_signal: int = 20) -> None:
        self.corpus = corpus
        self.per_signal = per_signal
        self._chars: tuple[str, np.ndarray] | None = None

    def char_scores(self, text: str) -> np.ndarray:
        """Share of `text`'s character n-grams held by every unit (the last text's are kept: the
        fusion fit scores one question under several conditions)."""
        if self._chars is None or self._chars[0] != text:
            self._chars = (text, self.corpus.chars.scores(text))
        return self._chars[1]

    def per_article(self, unit_scores: np.ndarray, kind_mask: np.ndarray, floor: float) -> np.ndarray:
        """Max of `unit_scores` over each article's units where `kind_mask` holds (else `floor`)."""
        c = self.corpus
        if not len(c.articles):
            return np.zeros(0, dtype=np.float32)
        masked = np.where(kind_mask, unit_scores, floor)
        return np.maximum.reduceat(masked, c.starts[:-1])

    def candidates(
        self,
        text: str,
        dense: np.ndarray,
        lexical: np.ndarray,
        lang_probs: dict[str, float],
        excluded: np.ndarray | None = None,
        head_logits: np.ndarray | None = None,
    ) -> Candidates:
        """Top articles by dense, lexical or head evidence, with their RANK_FEATURES rows.

        `head_logits` are the classification head's scores (None: no head), one per article plus,
        with an out-of-scope class, that class's last (see `Head.logits`); excluded articles drop
        out of its softmax."""
        c = self.corpus
        keep = np.ones(len(c.units), dtype=bool) if excluded is None else ~excluded
        short = keep & (c.unit_kind != ANSWER)
        answer = keep & (c.unit_kind == ANSWER)
        dense_q = self.per_article(dense, short, -1.0)
        dense_a = np.maximum(self.per_article(dense, answer, -1.0), 0.0)
        lex_q = self.per_article(lexical, short, 0.0)
        lex_a = self.per_article(lexical, answer, 0.0)
        char_units = self.char_scores(text)
        chars = self.per_article(char_units, short, 0.0)
        chars_a = self.per_article(char_units, answer, 0.0)
        alive = self.per_article(np.ones(len(c.units)), short, 0.0) > 0
        chosen = self._top(dense_q, alive) | self._top(np.where(lex_q > 0, lex_q, -1.0), alive)
        chosen |= self._top(np.where(chars > 0, chars, -1.0), alive)
        n = len(c.articles)
        oos = None if head_logits is None or len(head_logits) == n else float(head_logits[n])
        logits = None if head_logits is None else np.where(alive, head_logits[:n], -np.inf)
        head = np.zeros(len(c.articles)) if logits is None else softmax(logits)
        chosen |= self._top(np.where(head > 0, head, -1.0), alive)
        arts = np.flatnonzero(chosen)
        fuzzy, evidence = self._fuzzy(text, arts, short, dense)
        best_lex = max(float(lexical[keep].max()) if keep.any() else 0.0, 1e-6)
        dq = dense_q[arts]
        feats = np.column_stack(
            [
                dq,
                dense_a[arts],
                lex_q[arts] / best_lex,
                np.log1p(lex_q[arts]),
                lex_a[arts] / best_lex,
                fuzzy,
                [lang_probs.get(c.article_lang[a], 0.0) for a in arts],
                dq - (dq.max() if len(dq) else 0.0),
                fuzzy - (fuzzy.max() if len(fuzzy) else 0.0),
                head[arts],
                head[arts] - (head.max() if len(head) else 0.0),
                chars[arts],
                chars_a[arts],
            ]
        ).astype(np.float64)
        head_energy = energy(logits, oos) if logits is not None else (0.0, 0.0, 0.0)
        return Candidates(arts, feats.reshape(len(arts), -1), evidence, head_energy)

    def _top(self, scores: np.ndarray, alive: np.ndarray) -> np.ndarray:
        chosen = np.zeros(len(scores), dtype=bool)
        ranked = np.where(alive, scores, -np.inf)
        k = min(self.per_signal, int(alive.sum()))
        if k:
            top = np.argpartition(-ranked, k - 1)[:k]
            chosen[top[np.isfinite(ranked[top]) & (ranked[top] > -1.0)]] = True
        return chosen

    def _fuzzy(
        self, text: str, arts: np.ndarray, short: np.ndarray, dense: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Best token-set ratio per candidate, and the unit that best matches it (the evidence)."""
        c = self.corpus
        units = [np.flatnonzero(short[c.starts[a] : c.starts[a + 1]]) + c.starts[a] for a in arts]
        flat = np.concatenate(units) if units else np.zeros(0, dtype=np.int64)
        query = normalise(text)
        ratios = (
            process.cdist([query], [c.unit_norm[u] for u in flat], scorer=fuzz.token_set_ratio)[0] / 100.0
            if len(flat)
            else np.zeros(0)
        )
        fuzzy = np.zeros(len(arts))
        evidence = np.zeros(len(arts), dtype=np.int64)
        pos = 0
        for i, group in enumerate(units):
            part = ratios[pos : pos + len(group)]
            fuzzy[i] = part.max()
            evidence[i] = group[int(np.argmax(dense[group] + part))]
            pos += len(group)
        return fuzzy, evidence


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

    def article(self, article_id: str) -> dict[str, Any] | None:
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
        probs = self.detector.probabilities(text, conversation_lang)
        if lang is not None:
            probs = {code: float(code == lang) for code in probs}
        query_lang = lang or max(probs, key=probs.get)
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


def translation_groups(articles: list[dict[str, Any]], by_id: dict[str, int]) -> list[set[int]]:
    """For each article, its other language versions: every article joined to it by a chain of
    `translation_of` links, whichever way they point (an Italian original with English and German
    translations is one group of three)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    links = [
        (i, by_id[a["translation_of"]]) for i, a in enumerate(articles) if a.get("translation_of") in by_id
    ]
    rows, cols = zip(*links, strict=True) if links else ((), ())
    graph = coo_matrix((np.ones(len(links)), (rows, cols)), shape=(len(articles), len(articles)))
    _, group = connected_components(graph, directed=False)
    members: dict[int, set[int]] = {}
    for i, g in enumerate(group.tolist()):
        members.setdefault(g, set()).add(i)
    return [members[g] - {i} for i, g in enumerate(group.tolist())]


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
        "dense": float(row[0]),
        "lexical": float(row[2]),
        "fuzzy": float(row[5]),
        "lang": float(row[6]),
        "chars": float(row[11]),
    }
    return Hit(article["id"], article["title"], article["lang"], score, unit.text, unit.kind, signals)


def exclusion(corpus: Corpus, units: Sequence[int] = (), articles: Sequence[int] = ()) -> np.ndarray:
    """A unit mask hiding the given units and every unit of the given articles."""
    mask = np.zeros(len(corpus.units), dtype=bool)
    mask[list(units)] = True
    for a in articles:
        mask[corpus.starts[a] : corpus.starts[a + 1]] = True
    return mask

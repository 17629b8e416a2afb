"""An index version's content in memory: articles, their units, vectors, BM25, head and translation links."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

from bot.index.artefacts import ArticleRecord, IndexError_, Manifest, Unit, verify
from bot.retrieval.char_ngrams import CharNgrams
from bot.retrieval.fusion import Fusion
from bot.retrieval.head import Head
from bot.retrieval.lexical import LexicalIndex
from bot.text.normalise import normalise

TITLE, QUESTION, ANSWER = 0, 1, 2


_KINDS = {"title": TITLE, "question": QUESTION, "answer": ANSWER}


@dataclass
class Corpus:
    """An index version's content in memory: articles, units, their vectors and BM25."""

    articles: list[ArticleRecord]
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
        self.article_lang = [a.lang for a in self.articles]
        self.exact = {}
        for unit, norm in enumerate(self.unit_norm):
            if norm:
                self.exact.setdefault(norm, []).append(unit)
        by_id = {a.id: i for i, a in enumerate(self.articles)}
        self.position = by_id
        self.linked = translation_groups(self.articles, by_id)

    def dense_scores(self, vector: np.ndarray, k: int) -> np.ndarray:
        """Cosine of `vector` with every unit: exact for a flat index; from an approximate one, the
        `k` nearest units found by it, and -1 (as far as can be) for the rest."""
        if self.dense_index is None or isinstance(self.dense_index, faiss.IndexFlat):
            cosines: np.ndarray = self.vectors @ vector
            return cosines
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
        articles = [ArticleRecord.from_dict(a) for a in payload["articles"]]
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
        corpus = cls(articles, units, vectors, LexicalIndex.load(folder / "lexical"), index, head)
        try:
            fusion = Fusion.from_dict(manifest.fusion) if manifest.fusion else Fusion.prior()
        except (KeyError, TypeError, ValueError) as exc:  # built by an older faqbot
            raise IndexError_(f"{folder}: {exc}") from exc
        return corpus, manifest, fusion


def translation_groups(articles: list[ArticleRecord], by_id: dict[str, int]) -> list[set[int]]:
    """For each article, its other language versions: every article joined to it by a chain of
    `translation_of` links, whichever way they point (an Italian original with English and German
    translations is one group of three)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    links = [(i, by_id[a.translation_of]) for i, a in enumerate(articles) if a.translation_of in by_id]
    rows, cols = zip(*links, strict=True) if links else ((), ())
    # scipy-stubs want the row and column indices as arrays; coo_matrix takes any sequences
    graph = coo_matrix(
        (np.ones(len(links)), (rows, cols)),  # type: ignore[arg-type]
        shape=(len(articles), len(articles)),
    )
    _, group = connected_components(graph, directed=False)
    members: dict[int, set[int]] = {}
    for i, g in enumerate(group.tolist()):
        members.setdefault(g, set()).add(i)
    return [members[g] - {i} for i, g in enumerate(group.tolist())]

"""Group missed questions into topics by meaning, and propose the closest articles for each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.retrieval.embedder import Embedder
from bot.retrieval.search import Retriever

# Average cosine distance under which questions belong to one topic (0: identical, 1: unrelated).
DISTANCE = 0.4


@dataclass(frozen=True)
class MissedItem:
    id: int
    text: str
    lang: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class Topic:
    """A group of similar missed questions: largest and newest first."""

    ids: tuple[int, ...]
    examples: tuple[str, ...]
    newest: dt.datetime
    lang: str | None
    articles: tuple[dict, ...]

    @property
    def size(self) -> int:
        return len(self.ids)


def cluster(
    items: Sequence[MissedItem],
    embedder: Embedder,
    retriever: Retriever | None = None,
    distance: float = DISTANCE,
) -> list[Topic]:
    """Topics of `items` (agglomerative clustering, average linkage on cosine distance)."""
    if not items:
        return []
    vectors = embedder.encode([i.text for i in items])
    # A text with nothing to embed (only symbols, say) may get a zero vector, which has no cosine:
    # such questions form one topic of their own instead of failing the whole clustering.
    blank = np.linalg.norm(vectors, axis=1) == 0
    meaningful = np.flatnonzero(~blank)
    labels = np.zeros(len(items), dtype=int)
    if len(meaningful) > 1:
        from sklearn.cluster import AgglomerativeClustering

        model = AgglomerativeClustering(
            n_clusters=None, distance_threshold=distance, metric="cosine", linkage="average"
        )
        labels[meaningful] = model.fit_predict(vectors[meaningful])
    if blank.any():
        labels[blank] = labels[meaningful].max() + 1 if len(meaningful) else 0
    topics = [
        _topic(items, vectors, np.flatnonzero(labels == label), retriever) for label in np.unique(labels)
    ]
    return sorted(topics, key=lambda t: (t.size, t.newest), reverse=True)


def _topic(items: Sequence[MissedItem], vectors: np.ndarray, members: np.ndarray, retriever) -> Topic:
    chosen = sorted(members, key=lambda i: items[i].created_at, reverse=True)
    centroid = vectors[members].mean(axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    central = max(members, key=lambda i: float(vectors[i] @ centroid))
    langs = [items[i].lang for i in members if items[i].lang]
    lang = max(set(langs), key=langs.count) if langs else None
    articles: tuple[dict, ...] = ()
    if retriever is not None:
        hits = retriever.search_vector(items[central].text, centroid, lang=lang, k=3).hits
        articles = tuple(
            {"article_id": h.article_id, "title": h.title, "score": round(h.score, 4)} for h in hits
        )
    return Topic(
        ids=tuple(items[i].id for i in chosen),
        examples=tuple(items[i].text for i in chosen[:5]),
        newest=items[chosen[0]].created_at,
        lang=lang,
        articles=articles,
    )

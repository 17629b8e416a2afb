"""What a search returns: ranked hits with their evidence, and the confidence in the first (no FAISS here)."""

from __future__ import annotations

from dataclasses import dataclass


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

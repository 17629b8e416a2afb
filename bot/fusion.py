"""Fuse dense, lexical and fuzzy evidence into a ranking score and a calibrated confidence.

Two logistic models, learned at build time from the knowledge base itself (no labelled queries):
- the *ranker* scores each candidate article: P(this article answers the question);
- the *confidence* model estimates P(the top article is right) from the top candidates.
Training queries are the articles' own alternate questions, held out one at a time (the article
still exists: should answer) or with their whole article removed (should hand off).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

RANK_FEATURES = (
    "dense_question",  # best cosine with the article's title or alternate questions
    "dense_answer",  # best cosine with one of its answer paragraphs
    "lexical_rel",  # best BM25 on title/questions, relative to the query's best unit
    "lexical_abs",  # log(1 + best BM25 on title/questions)
    "lexical_answer_rel",  # best BM25 on answer paragraphs, relative
    "fuzzy",  # best rapidfuzz token-set ratio with title/questions, in [0, 1]
    "lang",  # probability that the question is in the article's language
    "dense_gap",  # dense_question minus the best candidate's
    "fuzzy_gap",  # fuzzy minus the best candidate's
    "head",  # P(article | question) from the classification head (0 without a head)
    "head_gap",  # head minus the best candidate's
    "chars",  # best share of the question's character n-grams held by its title or a question
    "chars_answer",  # the same, over its answer paragraphs
)
CONF_FEATURES = (
    "p1",
    "p2",
    "dense1",
    "lexical_abs1",
    "fuzzy1",
    "coverage",
    "dense_margin",
    "head1",
    "head_max",
    "head_lse",  # log-sum-exp of the head's logits (high when the question looks in scope)
    "head_top",  # the head's largest logit
    "head_out_of_scope",  # out-of-scope class logit minus head_lse (0 without such a class)
)

# Used when a knowledge base is too small to learn from (fewer than MIN_QUERIES held-out questions):
# the pooled models learned on the sample knowledge base (kb_articles/), rounded; the character
# n-gram signals and the out-of-scope class, added later, weigh 0 there (a tiny KB ranks as it did
# before them).
PRIOR_RANK = {
    "bias": -7.3,
    "weights": [1.1, 3.4, -0.2, 0.7, 3.5, 2.0, 0.5, 6.5, 2.2, 0.0, 0.0, 0.0, 0.0],
}
PRIOR_CONF = {"bias": -4.7, "weights": [3.0, -1.5, 2.8, 0.4, 1.4, -0.1, 2.4, 0.0, 0.0, 0.0, 0.0, 0.0]}
MIN_QUERIES = 40


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


@dataclass(frozen=True)
class Linear:
    """A logistic model: sigmoid(bias + weights . features)."""

    bias: float
    weights: tuple[float, ...]

    def __call__(self, features: np.ndarray) -> np.ndarray:
        return sigmoid(features @ np.asarray(self.weights) + self.bias)

    def to_dict(self) -> dict[str, Any]:
        return {"bias": self.bias, "weights": list(self.weights)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Linear:
        return cls(float(data["bias"]), tuple(float(w) for w in data["weights"]))


@dataclass(frozen=True)
class Fusion:
    """Per-language ranker and confidence models, with pooled ones as the fallback."""

    ranker: dict[str, Linear]
    confidence: dict[str, Linear]
    source: str = "prior"
    stats: dict[str, Any] = field(default_factory=dict)

    def rank(self, lang: str, features: np.ndarray) -> np.ndarray:
        return self.ranker.get(lang, self.ranker["*"])(features)

    def confident(self, lang: str, features: np.ndarray) -> np.ndarray:
        return self.confidence.get(lang, self.confidence["*"])(features)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rank_features": list(RANK_FEATURES),
            "conf_features": list(CONF_FEATURES),
            "ranker": {k: v.to_dict() for k, v in self.ranker.items()},
            "confidence": {k: v.to_dict() for k, v in self.confidence.items()},
            "stats": self.stats,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fusion:
        if list(data.get("rank_features", [])) != list(RANK_FEATURES) or list(
            data.get("conf_features", [])
        ) != list(CONF_FEATURES):
            raise ValueError(
                "fusion model was trained on other features (older faqbot); rebuild the index: faqbot build"
            )
        return cls(
            ranker={k: Linear.from_dict(v) for k, v in data["ranker"].items()},
            confidence={k: Linear.from_dict(v) for k, v in data["confidence"].items()},
            source=data.get("source", "prior"),
            stats=data.get("stats", {}),
        )

    @classmethod
    def prior(cls) -> Fusion:
        return cls(
            ranker={"*": Linear.from_dict(PRIOR_RANK)},
            confidence={"*": Linear.from_dict(PRIOR_CONF)},
        )


def fit_linear(
    x: np.ndarray, y: np.ndarray, c: float = 1.0, weight: np.ndarray | None = None
) -> Linear | None:
    """A logistic regression (rows weighted by `weight`, if given), or None when the data has a
    single class or too few rows.

    Features are left unscaled on purpose: they share a natural scale (similarities and
    probabilities in [0, 1]), and standardising them measured worse on the evaluation set."""
    if len(y) < MIN_QUERIES // 2 or len(set(y.tolist())) < 2:
        return None
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=5000)
    model.fit(x, y, sample_weight=weight)
    return Linear(float(model.intercept_[0]), tuple(float(w) for w in model.coef_[0]))


def confidence_features(
    probs: np.ndarray,
    rank_features: np.ndarray,
    coverage: float,
    head_energy: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> np.ndarray:
    """Features of a query's top candidates (sorted by probability, best first)."""
    if not len(probs):
        return np.array([0.0, 0.0, 0.0, 0.0, 0.0, coverage, 0.0, 0.0, 0.0, *head_energy])
    p2 = float(probs[1]) if len(probs) > 1 else 0.0
    top = rank_features[0]
    second_dense = rank_features[1][0] if len(probs) > 1 else 0.0
    head_max = top[9] - top[10]
    row = [float(probs[0]), p2, top[0], top[3], top[5], coverage, top[0] - second_dense, top[9], head_max]
    return np.array([*row, *head_energy])

"""Fuse dense, lexical and fuzzy evidence into a ranking score and a calibrated confidence.

Two logistic models, learned at build time from the knowledge base itself (no labelled queries):
- the *ranker* scores each candidate article: P(this article answers the question);
- the *confidence* model estimates P(the top article is right) from the top candidates.
Training queries are the articles' own alternate questions, held out one at a time (the article
still exists: should answer) or with their whole article removed (should hand off). A KB that
cannot teach a ranker (one question per entry, as an imported FAQ) is served a robust one instead:
standardised signals weighed alike (`Standardised`), see `fusion_fit._gate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from bot.retrieval.features import CONF_FEATURES, RANK, RANK_FEATURES
from bot.retrieval.head import softmax

# Used when a knowledge base is too small to learn from (fewer than MIN_QUERIES held-out questions)
# or to calibrate on (see fusion_fit.kb_calibrated_confidence): the pooled models learned on the
# sample knowledge base (kb_articles/), rounded; the character n-gram signals and the out-of-scope
# class, added later, weigh 0 there (a tiny KB ranks as it did before them).
PRIOR_RANK = {
    "bias": -7.3,
    "weights": [1.1, 3.4, -0.2, 0.7, 3.5, 2.0, 0.5, 6.5, 2.2, 0.0, 0.0, 0.0, 0.0],
}
PRIOR_CONF = {"bias": -4.7, "weights": [3.0, -1.5, 2.8, 0.4, 1.4, -0.1, 2.4, 0.0, 0.0, 0.0, 0.0, 0.0]}
MIN_QUERIES = 40

# The ranker served when the knowledge base cannot teach one but has entries enough to calibrate a
# confidence on: too few alternate questions, or a self-supervised fit that ranks its own held-out
# questions worse than this or a single signal does. One dense, one learned and one lexical signal
# over the titles and questions, each standardised within the query's candidates and weighed
# alike: no weight to learn, so nothing to overfit on a KB of one question per entry.
ROBUST_RANK_FEATURES = ("dense_question", "head", "lexical_rel")


def sigmoid(x: np.ndarray) -> np.ndarray:
    result: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))
    return result


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
class Standardised:
    """softmax(weights . z) over the query's candidates, z the named features standardised among
    them: each candidate's share of the evidence, so a clear winner scores far above the
    runner-up and a close call does not (what the decision's margin rule reads)."""

    features: tuple[str, ...]
    weights: tuple[float, ...]

    def __call__(self, features: np.ndarray) -> np.ndarray:
        columns = features[..., [RANK[name] for name in self.features]]
        spread = columns.std(axis=0)
        z = np.divide(columns - columns.mean(axis=0), spread, out=np.zeros_like(columns), where=spread > 0)
        logits = z @ np.asarray(self.weights)
        return softmax(logits) if len(logits) else logits

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "standardised", "features": list(self.features), "weights": list(self.weights)}

    @classmethod
    def robust(cls) -> Standardised:
        return cls(ROBUST_RANK_FEATURES, (1.0,) * len(ROBUST_RANK_FEATURES))


class Ranker(Protocol):
    """Scores a query's candidate rows (RANK_FEATURES columns): higher ranks first."""

    def __call__(self, features: np.ndarray) -> np.ndarray: ...

    def to_dict(self) -> dict[str, Any]: ...


def ranker_from_dict(data: dict[str, Any]) -> Ranker:
    if data.get("kind") == "standardised":
        return Standardised(tuple(data["features"]), tuple(float(w) for w in data["weights"]))
    return Linear.from_dict(data)


@dataclass(frozen=True)
class Fusion:
    """Per-language ranker and confidence models, with pooled ones as the fallback."""

    ranker: dict[str, Ranker]
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
            ranker={k: ranker_from_dict(v) for k, v in data["ranker"].items()},
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

"""A classification head over question embeddings: P(article | question), one class per article.

A multinomial logistic regression trained on each article's title and alternate questions. It
generalises past nearest neighbours by weighing every question of an article at once.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# Inverse regularisation strength; embeddings are unit vectors, so the scale is the same for any KB.
C = 10.0
FOLDS = 5


@dataclass(frozen=True)
class Head:
    """Weights over `n_articles` classes; articles without training examples get probability 0."""

    weights: np.ndarray  # (n_articles, dimension)
    bias: np.ndarray  # (n_articles,)
    trained: np.ndarray  # (n_articles,) bool: the article had examples
    oos: np.ndarray | None = None  # (dimension + 1,) weights and bias of an out-of-scope class

    def logits(self, vectors: np.ndarray) -> np.ndarray:
        """Class scores for one vector (1-D) or many (2-D); -inf for articles never trained.
        With an out-of-scope class, its score is one more, last column."""
        x = np.atleast_2d(vectors)
        logits = np.where(self.trained, x @ self.weights.T + self.bias, -np.inf)
        if self.oos is not None:
            logits = np.column_stack([logits, x @ self.oos[:-1] + self.oos[-1]])
        return logits[0] if vectors.ndim == 1 else logits

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """Softmax over the trained articles (the out-of-scope class left out)."""
        return softmax(self.logits(vectors)[..., : len(self.bias)])

    def save(self, path: Path) -> None:
        with path.open("wb") as handle:
            # Any, not ndarray: mypy would match `**extra` against savez's `allow_pickle: bool`.
            extra: dict[str, Any] = {} if self.oos is None else {"oos": self.oos}
            np.savez(handle, weights=self.weights, bias=self.bias, trained=self.trained, **extra)

    @classmethod
    def load(cls, path: Path) -> Head:
        data = np.load(path)
        return cls(data["weights"], data["bias"], data["trained"], data.get("oos"))


def fit_head(
    vectors: np.ndarray, labels: np.ndarray, n_articles: int, out_of_scope: np.ndarray | None = None
) -> Head | None:
    """Train on (vector, article index) pairs; None when fewer than two articles have examples.

    `out_of_scope` vectors (questions no article answers), if any, train one more class."""
    from sklearn.linear_model import LogisticRegression

    classes = np.unique(labels)
    if len(classes) < 2:
        return None
    oos = out_of_scope if out_of_scope is not None and len(out_of_scope) else None
    model = LogisticRegression(C=C, max_iter=3000)
    with warnings.catch_warnings():
        # One class per article and few examples each is what a head over an FAQ is, not a sign of
        # a regression problem: scikit-learn's warning would print once per fit, dozens per build.
        warnings.filterwarnings("ignore", message="The number of unique classes", category=UserWarning)
        if oos is not None:
            model.fit(np.vstack([vectors, oos]), np.concatenate([labels, np.full(len(oos), n_articles)]))
            oos_row = np.append(model.coef_[-1], model.intercept_[-1]).astype(np.float32)
            model.coef_, model.intercept_ = model.coef_[:-1], model.intercept_[:-1]
        else:
            model.fit(vectors, labels)
    weights = np.zeros((n_articles, vectors.shape[1]), dtype=np.float32)
    bias = np.full(n_articles, -1e4, dtype=np.float32)
    coef, intercept = model.coef_, model.intercept_
    if coef.shape[0] == 1:  # binary LR keeps one row: turn it into two symmetric logits
        coef, intercept = (
            np.vstack([-coef[0] / 2, coef[0] / 2]),
            np.array([-intercept[0] / 2, intercept[0] / 2]),
        )
    weights[classes] = coef
    bias[classes] = intercept
    trained = np.zeros(n_articles, dtype=bool)
    trained[classes] = True
    return Head(weights, bias, trained, None if oos is None else oos_row)


def out_of_fold(vectors: np.ndarray, labels: np.ndarray, n_articles: int, seed: int = 13) -> np.ndarray:
    """Each row's logits from a head trained without that row's fold (no leakage)."""
    order = np.random.default_rng(seed).permutation(len(labels))
    folds = np.array_split(order, min(FOLDS, len(labels)))
    logits = np.full((len(labels), n_articles), -np.inf)
    for fold in folds:
        train = np.setdiff1d(order, fold)
        head = fit_head(vectors[train], labels[train], n_articles)
        if head is not None:
            logits[fold] = head.logits(vectors[fold])
    return logits


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax along the last axis; -inf entries get probability 0."""
    top = np.max(logits, axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    exp = np.exp(logits - top)
    total = exp.sum(axis=-1, keepdims=True)
    probabilities: np.ndarray = np.divide(exp, total, out=np.zeros_like(exp), where=total > 0)
    return probabilities


def energy(logits: np.ndarray, oos: float | None = None) -> tuple[float, float, float]:
    """(log-sum-exp, max, out-of-scope log-odds) of one query's finite logits: the first two are
    high when the question looks in scope; the last (0 without an out-of-scope class) is the
    out-of-scope class's score minus the log-sum-exp."""
    finite = logits[np.isfinite(logits)]
    if not len(finite):
        return 0.0, 0.0, 0.0
    top = float(finite.max())
    lse = top + float(np.log(np.exp(finite - top).sum()))
    return lse, top, 0.0 if oos is None or not np.isfinite(oos) else oos - lse

"""The fusion features by name: one row per candidate article (ranking), one per query (confidence)."""

from __future__ import annotations

from collections.abc import Mapping

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


# The column of each feature, for reading a row by name (a reordered tuple cannot misread a row).
RANK = {name: column for column, name in enumerate(RANK_FEATURES)}
CONF = {name: column for column, name in enumerate(CONF_FEATURES)}


def rank_rows(columns: Mapping[str, np.ndarray]) -> np.ndarray:
    """The ranking feature matrix, one row per candidate, from one named column per feature."""
    if set(columns) != set(RANK_FEATURES):
        raise ValueError(f"ranking features differ: {sorted(set(columns) ^ set(RANK_FEATURES))}")
    return np.column_stack([columns[name] for name in RANK_FEATURES]).astype(np.float64)


def confidence_features(
    probs: np.ndarray,
    rank_features: np.ndarray,
    coverage: float,
    head_energy: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> np.ndarray:
    """Features of a query's top candidates (sorted by probability, best first), in CONF_FEATURES
    order; `head_energy` is (head_lse, head_top, head_out_of_scope), see `head.energy`."""
    row = dict.fromkeys(CONF_FEATURES, 0.0)
    row["coverage"] = coverage
    row["head_lse"], row["head_top"], row["head_out_of_scope"] = head_energy
    if len(probs):
        top = rank_features[0]
        dense = top[RANK["dense_question"]]
        second_dense = rank_features[1][RANK["dense_question"]] if len(probs) > 1 else 0.0
        row["p1"] = float(probs[0])
        row["p2"] = float(probs[1]) if len(probs) > 1 else 0.0
        row["dense1"] = dense
        row["lexical_abs1"] = top[RANK["lexical_abs"]]
        row["fuzzy1"] = top[RANK["fuzzy"]]
        row["dense_margin"] = dense - second_dense
        row["head1"] = top[RANK["head"]]
        row["head_max"] = top[RANK["head"]] - top[RANK["head_gap"]]
    return np.array([row[name] for name in CONF_FEATURES])

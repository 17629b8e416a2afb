"""The robust ranker: signals standardised within a query's candidates, weighed alike."""

from __future__ import annotations

import numpy as np

from bot.retrieval.features import RANK, RANK_FEATURES
from bot.retrieval.fusion import Fusion, Linear, Standardised, ranker_from_dict


def rows(**columns: list[float]) -> np.ndarray:
    n = len(next(iter(columns.values())))
    x = np.zeros((n, len(RANK_FEATURES)))
    for name, values in columns.items():
        x[:, RANK[name]] = values
    return x


def test_each_signal_counts_by_how_far_a_candidate_stands_out_not_by_its_scale():
    ranker = Standardised(("dense_question", "lexical_rel"), (1.0, 1.0))
    x = rows(dense_question=[0.9, 0.8, 0.1], lexical_rel=[0.0, 0.2, 0.1])
    scores = ranker(x)
    # the first leads on dense by a little, the second on lexical by more of that signal's spread
    assert scores[1] > scores[0] > scores[2]
    rescaled = x.copy()
    rescaled[:, RANK["lexical_rel"]] *= 10  # BM25 scores ten times larger: the same ranking
    rescaled[:, RANK["dense_question"]] += 0.05  # a question scoring higher on every candidate
    assert np.allclose(ranker(rescaled), scores)


def test_a_signal_with_no_spread_neither_helps_nor_breaks_the_ranking():
    ranker = Standardised(("dense_question", "head"), (1.0, 1.0))
    scores = ranker(rows(dense_question=[0.2, 0.6], head=[0.0, 0.0]))  # a KB without a head
    assert np.all(np.isfinite(scores)) and scores[1] > scores[0]
    assert np.allclose(ranker(rows(dense_question=[0.5], head=[0.1])), 1.0)  # the only candidate


def test_the_served_ranker_survives_the_manifest_either_kind():
    fusion = Fusion(
        ranker={"*": Standardised.robust(), "it": Linear(0.5, tuple(range(len(RANK_FEATURES))))},
        confidence=Fusion.prior().confidence,
    )
    again = Fusion.from_dict(fusion.to_dict())
    assert again.ranker == fusion.ranker
    assert ranker_from_dict(Standardised.robust().to_dict()) == Standardised.robust()

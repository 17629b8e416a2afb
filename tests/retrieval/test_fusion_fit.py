"""How the fusion's confidence weighs answerable and unanswerable labelled questions."""

from __future__ import annotations

import numpy as np

from bot.retrieval.fusion import fit_linear
from bot.retrieval.fusion_fit import _balance


def test_balance_gives_both_kinds_the_same_total_weight():
    weight = _balance([True] * 97 + [False] * 3)
    assert np.isclose(weight[:97].sum(), weight[97:].sum())
    assert np.all(weight[:97] == 1.0) and np.allclose(weight[97:], 97 / 3)


def test_balance_leaves_a_single_kind_alone():
    assert np.array_equal(_balance([True, True, True]), np.ones(3))
    assert np.array_equal(_balance([False, False]), np.ones(2))


def test_weights_move_the_fitted_boundary_towards_the_rare_kind():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0.7, 0.1, 300), rng.normal(0.4, 0.1, 10)])[:, None]
    y = np.array([1] * 300 + [0] * 10)
    plain = fit_linear(x, y)
    balanced = fit_linear(x, y, weight=_balance(list(y == 1)))
    # the rare unanswerable side gains say: its typical score now falls below one half
    assert plain(np.array([[0.4]]))[0] > 0.5 > balanced(np.array([[0.4]]))[0]

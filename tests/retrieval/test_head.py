"""The classification head: probabilities, untrained articles, out-of-fold logits, energy, the
out-of-scope class."""

from __future__ import annotations

import numpy as np

from bot.retrieval.head import Head, energy, fit_head, out_of_fold, softmax


def blobs(n_per: int = 6, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = np.eye(8)[:3] * 3
    x = np.vstack([c + rng.normal(scale=0.3, size=(n_per, 8)) for c in centres])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, np.repeat([0, 1, 2], n_per)


def test_head_separates_classes_and_ignores_untrained_articles():
    x, y = blobs()
    head = fit_head(x, y, n_articles=4)  # article 3 has no examples
    probs = head.probabilities(x)
    assert np.allclose(probs.sum(axis=1), 1.0)
    assert (probs.argmax(axis=1) == y).all()
    assert (probs[:, 3] == 0).all() and not head.trained[3]


def test_two_classes_work_too():
    x, y = blobs()
    keep = y < 2
    head = fit_head(x[keep], y[keep], n_articles=2)
    assert (head.probabilities(x[keep]).argmax(axis=1) == y[keep]).all()


def test_one_class_gives_no_head():
    x, _ = blobs()
    assert fit_head(x, np.zeros(len(x), dtype=int), 3) is None


def test_out_of_fold_logits_cover_every_row():
    x, y = blobs()
    logits = out_of_fold(x, y, n_articles=3)
    assert logits.shape == (len(y), 3) and np.isfinite(logits).all()
    assert (softmax(logits).argmax(axis=1) == y).mean() > 0.8


def test_energy_and_softmax_with_missing_classes():
    logits = np.array([2.0, -np.inf, 0.0])
    assert np.allclose(softmax(logits), [np.e**2 / (np.e**2 + 1), 0.0, 1 / (np.e**2 + 1)])
    lse, top, oos = energy(logits)
    assert top == 2.0 and np.isclose(lse, np.log(np.e**2 + 1)) and oos == 0.0
    assert np.isclose(energy(logits, oos=1.0)[2], 1.0 - lse)
    assert energy(logits, oos=-np.inf)[2] == 0.0  # a class never trained counts as none
    assert energy(np.array([-np.inf, -np.inf])) == (0.0, 0.0, 0.0)


def test_out_of_scope_class_scores_out_of_scope_questions_higher(tmp_path):
    x, y = blobs(seed=1)
    in_scope, out_of_scope = x[y < 2], x[y == 2]  # the third blob: questions no article answers
    head = fit_head(in_scope, y[y < 2], n_articles=2, out_of_scope=out_of_scope)
    logits = head.logits(x)
    assert logits.shape == (len(x), 3)  # two articles, then the out-of-scope class
    assert (logits.argmax(axis=1) == y).all()
    assert (head.probabilities(x).argmax(axis=1)[y < 2] == y[y < 2]).all()
    head.save(tmp_path / "head.npz")
    assert np.allclose(Head.load(tmp_path / "head.npz").logits(x), logits)
    plain = fit_head(in_scope, y[y < 2], n_articles=2, out_of_scope=np.zeros((0, x.shape[1])))
    assert plain.oos is None and plain.logits(x).shape == (len(x), 2)


def test_a_head_over_one_question_per_article_fits_without_warnings(recwarn):
    """An imported FAQ has one question per article: scikit-learn would warn on every fit."""
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((30, 8)).astype(np.float32)
    head = fit_head(vectors, np.arange(30), 30)
    assert head is not None and [str(w.message) for w in recwarn] == []

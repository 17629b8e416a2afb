"""Evaluation metrics on hand-made outcomes."""

from __future__ import annotations

import math

import pytest

from bot.quality.evaluate import EvalItem, Outcome, at_thresholds, auroc, load_eval_set, metrics


def outcome(gold, ranked, confidence, decision, answered=None, offered=()):
    item = EvalItem("q", "it", tuple(gold))
    return Outcome(item, tuple(ranked), confidence, decision, answered, offered=tuple(offered))


OUTCOMES = [
    outcome(["a"], ["a", "b"], 0.9, "answer", "a"),  # right
    outcome(["b"], ["a", "b"], 0.6, "answer", "a"),  # wrong, gold second
    outcome(["c"], ["x", "y", "c"], 0.3, "clarify", offered=["x", "y", "c"]),  # gold third, offered
    outcome([], ["a"], 0.1, "handoff"),  # unanswerable, handed off
]


def test_ranking_and_decision_rates():
    m = metrics(OUTCOMES)
    assert m["n_queries"] == 4 and m["n_answerable"] == 3
    assert m["top1"] == pytest.approx(1 / 3) and m["top3"] == 1.0
    assert m["mrr10"] == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)
    assert (m["correct"], m["wrong"], m["clarify"], m["handoff"]) == (0.25, 0.25, 0.25, 0.25)
    assert m["handoff_precision"] == 1.0 and m["auroc"] == 1.0
    assert m["clarify_right"] == 0.25 and m["self_served"] == pytest.approx(2 / 3)


def test_a_clarification_without_the_right_article_does_not_serve():
    missed = outcome(["c"], ["x", "y", "c"], 0.3, "clarify", offered=["x", "y"])
    unanswerable = outcome([], ["x"], 0.3, "clarify", offered=["x"])
    m = metrics([*OUTCOMES[:2], missed, unanswerable])
    assert m["clarify"] == 0.5 and m["clarify_right"] == 0.0 and m["self_served"] == pytest.approx(1 / 3)


def test_rates_at_other_thresholds():
    r = at_thresholds(OUTCOMES, answer=0.5, clarify=0.2)
    assert r == {"correct": 0.25, "wrong": 0.25, "clarify": 0.25, "handoff": 0.25}


def test_auroc_ties_and_degenerate_cases():
    assert auroc([0.5, 0.5], [1, 0]) == 0.5
    assert auroc([0.2, 0.8], [1, 0]) == 0.0
    assert math.isnan(auroc([0.3], [1]))


def test_eval_file_errors_name_file_and_item(tmp_path):
    (tmp_path / "it.yaml").write_text("lang: it\nitems:\n  - article: x\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"it.yaml: items\[0\]"):
        load_eval_set(tmp_path)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('lang: it\nitems:\n  - text: "open\n', r"it.yaml: not valid YAML"),
        ("- a\n- b\n", r"it.yaml: expected a mapping with an `items` list"),
        ("lang: it\nitems: one\n", r"it.yaml: expected a mapping with an `items` list"),
        ("items:\n  - text: ciao\n    article: x\n", r"it.yaml: items\[0\]: no lang"),
        ("lang: it\nitems:\n  - text: ciao\n    article: 5\n", r"it.yaml: items\[0\]: article must be"),
        ("lang: it\nitems:\n  - text: ciao\n    article: [x, 3]\n", r"it.yaml: items\[0\]: article must be"),
    ],
)
def test_malformed_eval_files_are_refused_with_their_name(tmp_path, text, error):
    (tmp_path / "it.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=error):
        load_eval_set(tmp_path)


def test_eval_labels_one_id_several_or_none(tmp_path):
    body = "lang: en\nitems:\n  - text: a\n    article: x\n  - text: b\n    article: [x, y]\n"
    body += "  - text: c\n    article: none\n  - text: d\n    lang: it\n  - text: e\n    article: []\n"
    (tmp_path / "en.yaml").write_text(body, encoding="utf-8")
    items = load_eval_set(tmp_path)
    assert [(i.gold, i.lang) for i in items] == [
        (("x",), "en"),
        (("x", "y"), "en"),
        ((), "en"),
        ((), "it"),
        ((), "en"),
    ]

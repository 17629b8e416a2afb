"""The decision policy on synthetic search results."""

from __future__ import annotations

import pytest

from bot.dialogue.policy import Thresholds, decide
from bot.dialogue.vocabulary import DecisionKind, Reason
from bot.retrieval.results import Hit, SearchResult


def result(confidence: float, *scores: float, lang: str = "it") -> SearchResult:
    hits = tuple(Hit(f"a{i}", f"Title {i}", lang, s, "q", "question", {}) for i, s in enumerate(scores))
    return SearchResult("text", lang, {lang: 1.0}, confidence, hits)


TH = Thresholds(answer=0.5, clarify=0.2, margin=0.1, max_suggestions=3)


def test_confident_and_clear_answers_with_the_top_article():
    decision = decide(result(0.8, 0.9, 0.3), TH)
    assert decision.kind == DecisionKind.ANSWER and decision.reason == Reason.CONFIDENT
    assert decision.hit.article_id == "a0" and decision.suggestions == ()


def test_between_thresholds_asks_did_you_mean_with_up_to_three():
    decision = decide(result(0.3, 0.6, 0.5, 0.4, 0.35), TH)
    assert decision.kind == DecisionKind.CLARIFY and decision.reason == Reason.UNCERTAIN
    assert [h.article_id for h in decision.suggestions] == ["a0", "a1", "a2"]


def test_top_two_too_close_asks_even_when_confident():
    decision = decide(result(0.9, 0.70, 0.65), TH)
    assert decision.kind == DecisionKind.CLARIFY and decision.reason == Reason.CLOSE_CALL
    assert len(decision.suggestions) == 2


def test_a_far_weaker_runner_up_is_still_offered():
    # a softmax ranker gives the runner-up a small share even when it is the right article
    decision = decide(result(0.3, 0.8, 0.1, 0.05, 0.01), TH)
    assert [h.article_id for h in decision.suggestions] == ["a0", "a1", "a2"]


@pytest.mark.parametrize("res", [result(0.1, 0.9), result(0.9)])
def test_low_confidence_or_no_hit_hands_off(res):
    assert decide(res, TH).kind == DecisionKind.HANDOFF


def test_thresholds_must_be_ordered():
    with pytest.raises(ValueError, match="clarify"):
        Thresholds(answer=0.2, clarify=0.5)


def test_a_language_with_thresholds_of_its_own_uses_them():
    th = Thresholds(answer=0.5, clarify=0.2, margin=0.1, by_language={"it": (0.7, 0.4)})
    assert decide(result(0.6, 0.9, 0.3, lang="it"), th).kind == DecisionKind.CLARIFY  # under Italian 0.7
    assert decide(result(0.6, 0.9, 0.3, lang="en"), th).kind == DecisionKind.ANSWER  # English keeps 0.5
    assert decide(result(0.3, 0.9, 0.3, lang="it"), th).kind == DecisionKind.HANDOFF  # under Italian 0.4
    assert decide(result(0.3, 0.9, 0.3, lang="en"), th).kind == DecisionKind.CLARIFY
    assert th.for_language("it").margin == 0.1 and th.for_language("en") is th


def test_a_language_s_thresholds_must_be_ordered_too():
    with pytest.raises(ValueError, match="clarify"):
        Thresholds(answer=0.5, clarify=0.2, by_language={"en": (0.3, 0.6)})

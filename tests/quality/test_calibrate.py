"""Threshold calibration on hand-made outcomes, its plot and the config write-back."""

from __future__ import annotations

import pytest
import yaml

import bot.quality.calibrate as calibrate
from bot.config import Settings, update_config_file
from bot.quality.calibrate import pick_by_language, pick_thresholds
from bot.quality.evaluate import EvalItem, Outcome
from bot.quality.plot import plot


def outcome(gold: str | None, top: str, confidence: float, second: str = "z") -> Outcome:
    return Outcome(EvalItem("q", "it", (gold,) if gold else ()), (top, second), confidence)


# 10 questions: right answers at high confidence, one wrong at 0.7, one near miss (gold 2nd) at 0.3
OUTCOMES = [outcome("a", "a", c) for c in (0.95, 0.9, 0.85, 0.8, 0.75, 0.6)] + [
    outcome("b", "x", 0.7),  # wrong top-1
    outcome("c", "x", 0.3, "c"),  # gold second: a good clarification
    outcome(None, "x", 0.2),  # out of scope
    outcome(None, "x", 0.1),  # out of scope
]


def test_answer_threshold_is_the_lowest_meeting_the_wrong_rate():
    strict = pick_thresholds(OUTCOMES, target_wrong=0.0)
    assert strict.answer_threshold == 0.75 and strict.wrong == 0.0 and strict.correct == 0.5
    loose = pick_thresholds(OUTCOMES, target_wrong=0.1)
    assert loose.answer_threshold == 0.6 and loose.wrong == pytest.approx(0.1)
    assert loose.correct == pytest.approx(0.6)


def test_clarify_band_stops_where_suggestions_stop_helping():
    chosen = pick_thresholds(OUTCOMES, target_wrong=0.1, clarify_precision=0.5)
    # under 0.6: the 0.3 question has its gold in the top 3; the 0.2 and 0.1 ones are out of scope
    assert chosen.clarify_threshold == 0.3
    assert chosen.clarify == pytest.approx(0.1) and chosen.handoff == pytest.approx(0.2)
    lenient = pick_thresholds(OUTCOMES, target_wrong=0.1, clarify_precision=0.3)
    assert lenient.clarify_threshold == 0.3  # a lower bound only adds out-of-scope questions


def test_one_bad_question_under_the_answer_threshold_does_not_close_the_band():
    near_misses = [outcome(g, "x", c, g) for g, c in (("d", 0.5), ("e", 0.45), ("f", 0.4))]
    outcomes = [*OUTCOMES, outcome(None, "x", 0.55), *near_misses]  # out of scope right under 0.6
    chosen = pick_thresholds(outcomes, target_wrong=0.1, clarify_precision=0.5)
    assert chosen.answer_threshold == 0.6
    # under 0.6: out of scope at 0.55, then four near misses down to 0.3, then out of scope
    assert chosen.clarify_threshold == 0.3 and chosen.clarify == pytest.approx(5 / 14)


def test_no_useful_band_means_no_clarification():
    outcomes = [outcome("a", "a", 0.9), outcome(None, "x", 0.5), outcome(None, "x", 0.4)]
    chosen = pick_thresholds(outcomes, target_wrong=0.0)
    assert chosen.clarify_threshold == chosen.answer_threshold == 0.9 and chosen.clarify == 0.0


def in_language(lang: str, outcomes: list[Outcome]) -> list[Outcome]:
    return [Outcome(EvalItem(o.item.text, lang, o.item.gold), o.ranked, o.confidence) for o in outcomes]


def test_each_language_gets_the_thresholds_its_own_questions_call_for(monkeypatch):
    monkeypatch.setattr(calibrate, "MIN_LANGUAGE_QUESTIONS", 10)
    # English is surer of itself: every confidence 0.1 lower, so its thresholds sit lower
    lower = [Outcome(o.item, o.ranked, round(o.confidence - 0.1, 2)) for o in OUTCOMES]
    outcomes = in_language("it", OUTCOMES) + in_language("en", lower)
    picked = pick_by_language(outcomes, target_wrong=0.0)
    assert picked["it"].answer_threshold == 0.75 and picked["en"].answer_threshold == 0.65
    assert picked["it"] == pick_thresholds(OUTCOMES, target_wrong=0.0)


def test_one_language_or_too_few_questions_keep_the_shared_thresholds(monkeypatch):
    monkeypatch.setattr(calibrate, "MIN_LANGUAGE_QUESTIONS", 10)
    assert pick_by_language(in_language("it", OUTCOMES)) == {}
    assert set(pick_by_language(in_language("it", OUTCOMES) + in_language("en", OUTCOMES[:9]))) == {"it"}


def test_no_outcomes_is_an_error():
    with pytest.raises(ValueError):
        pick_thresholds([])


def test_plot_writes_a_png(tmp_path):
    path = plot(OUTCOMES, pick_thresholds(OUTCOMES), tmp_path / "c.png", "test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_config_write_back_keeps_other_settings(isolated_home):
    (isolated_home / "faqbot.yaml").write_text("max_suggestions: 2\n", encoding="utf-8")
    settings = Settings()
    update_config_file(settings, {"answer_threshold": 0.6, "clarify_threshold": 0.3})
    data = yaml.safe_load((isolated_home / "faqbot.yaml").read_text(encoding="utf-8"))
    assert data == {"max_suggestions": 2, "answer_threshold": 0.6, "clarify_threshold": 0.3}
    reloaded = Settings()
    assert (reloaded.answer_threshold, reloaded.max_suggestions) == (0.6, 2)


def test_config_write_back_refuses_invalid_values(isolated_home):
    with pytest.raises(ValueError):
        update_config_file(Settings(), {"answer_threshold": 0.1, "clarify_threshold": 0.5})
    assert not (isolated_home / "faqbot.yaml").exists()


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ({"de": {"answer": 0.5, "clarify": 0.2}}, "not among languages"),
        ({"it": {"answer": 0.2, "clarify": 0.5}}, "must not exceed"),
        ({"it": {"answer": 1.5, "clarify": 0.2}}, "less than or equal to 1"),
    ],
)
def test_language_thresholds_are_checked(isolated_home, value, error):
    with pytest.raises(ValueError, match=error):
        update_config_file(Settings(), {"language_thresholds": value})
    assert not (isolated_home / "faqbot.yaml").exists()


def test_language_thresholds_reach_the_bot_from_the_environment(isolated_home, monkeypatch):
    from bot.dialogue.policy import Thresholds

    monkeypatch.setenv("FAQBOT_LANGUAGE_THRESHOLDS", '{"it": {"answer": 0.52, "clarify": 0.28}}')
    th = Thresholds.from_settings(Settings().dialogue)
    assert (th.for_language("it").answer, th.for_language("it").clarify) == (0.52, 0.28)
    assert th.for_language("en").answer == Settings().answer_threshold

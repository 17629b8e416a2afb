"""Threshold calibration on hand-made outcomes, its plot and the config write-back."""

from __future__ import annotations

import pytest
import yaml

from bot.calibrate import pick_thresholds, plot
from bot.config import Settings, update_config_file
from bot.evaluate import EvalItem, Outcome


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
    # band [0.2, 0.6): the 0.3 question has its gold in the top 3, the 0.2 one is out of scope: 1/2
    assert chosen.clarify_threshold == 0.2
    assert chosen.clarify == pytest.approx(0.2) and chosen.handoff == pytest.approx(0.1)
    stricter = pick_thresholds(OUTCOMES, target_wrong=0.1, clarify_precision=0.9)
    assert stricter.clarify_threshold == 0.3


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

"""Choose the answer and clarify thresholds from labelled outcomes, and plot the trade-off."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bot.quality.evaluate import Outcome, gold_rank


@dataclass(frozen=True)
class Calibration:
    """Thresholds picked for a target wrong-answer rate, with the rates they give."""

    answer_threshold: float
    clarify_threshold: float
    target_wrong: float
    wrong: float
    correct: float
    clarify: float
    handoff: float


def pick_thresholds(
    outcomes: list[Outcome], target_wrong: float = 0.05, clarify_precision: float = 0.5
) -> Calibration:
    """The lowest answer threshold whose wrong-answer rate stays within `target_wrong`; then the
    clarify threshold below it (below that: hand-off) where "did you mean" helps most: a question
    in the band is worth it when the right article is among the top 3 suggestions, and
    `clarify_precision` is the share of such questions at which a band breaks even. So the band
    holds at least that share, one out-of-scope question just under the answer threshold does not
    close it, and a tail of hopeless questions below the useful ones is handed off."""
    if not outcomes:
        raise ValueError("no outcomes to calibrate on")
    conf = np.array([o.confidence for o in outcomes])
    top1 = np.array([gold_rank(o) == 1 for o in outcomes])
    top3 = np.array([0 < gold_rank(o) <= 3 for o in outcomes])
    n = len(outcomes)
    candidates = np.unique(np.concatenate([conf, [1.0]]))
    answer = 1.0
    for c in candidates:  # ascending: the first that meets the target answers the most
        chosen = conf >= c
        if (chosen & ~top1).sum() / n <= target_wrong:
            answer = float(c)
            break
    clarify = answer
    below = candidates[candidates < answer][::-1]  # descending from the answer threshold
    if len(below):
        # each question let into the band is worth +(1 - p) when its right article is among the
        # suggestions and -p when not: the band ends where the running total peaks
        gains = np.array([(top3[conf == c] - clarify_precision).sum() for c in below])
        total = np.cumsum(gains)
        if total.max() > 0:
            clarify = float(below[int(np.argmax(total))])
    answered = conf >= answer
    band = (conf >= clarify) & ~answered
    return Calibration(
        answer_threshold=round(answer, 4),
        clarify_threshold=round(clarify, 4),
        target_wrong=target_wrong,
        wrong=float((answered & ~top1).sum() / n),
        correct=float((answered & top1).sum() / n),
        clarify=float(band.sum() / n),
        handoff=float((~answered & ~band).sum() / n),
    )


# A language gets thresholds of its own from this many questions on; with fewer, the wrong-answer
# rate its thresholds would aim at is mostly noise, and it keeps the thresholds of all languages.
MIN_LANGUAGE_QUESTIONS = 100


def pick_by_language(outcomes: list[Outcome], target_wrong: float = 0.05) -> dict[str, Calibration]:
    """`pick_thresholds` for each language that has MIN_LANGUAGE_QUESTIONS outcomes or more, when
    there are several languages: one pair for all lets the language whose confidence is less sure
    of itself go over the target (the sample KB, cross-validated: Italian 7-8% wrong, English 4%)."""
    languages = sorted({o.item.lang for o in outcomes})
    if len(languages) < 2:
        return {}
    mine = {lang: [o for o in outcomes if o.item.lang == lang] for lang in languages}
    return {
        lang: pick_thresholds(items, target_wrong)
        for lang, items in mine.items()
        if len(items) >= MIN_LANGUAGE_QUESTIONS
    }

#!/usr/bin/env python3
"""Do thresholds per language hold the wrong-answer target better than one pair for all?

Two-fold cross-validation over the KB's evaluation set: thresholds are picked (as `faqbot
calibrate` picks them) on one half and applied to the other, once as one shared pair and once as a
pair per language; the rates are those of `evaluate.at_thresholds` (the margin rule left out), the
two folds averaged, for a few random splits.

    python scripts/cv_thresholds.py [--index index] [--kb kb_articles] [--target-wrong 0.05]
"""

from __future__ import annotations

import argparse
import zlib
from pathlib import Path
from statistics import mean

from bot.cli.common import load_bot
from bot.quality.calibrate import MIN_LANGUAGE_QUESTIONS, pick_by_language, pick_thresholds
from bot.quality.evaluate import Outcome, at_thresholds, bot_asker, load_eval_set, run

RATES = ("correct", "wrong")


def fold_rates(
    outcomes: list[Outcome], fold: list[int], target: float
) -> dict[tuple[str, str, str], list[float]]:
    """(language, "shared" or "own", rate) -> that rate on each held-out half."""
    rates: dict[tuple[str, str, str], list[float]] = {}
    for held_out in (0, 1):
        fit = [o for o, f in zip(outcomes, fold, strict=True) if f != held_out]
        shared = pick_thresholds(fit, target)
        own = pick_by_language(fit, target)
        for lang in sorted({o.item.lang for o in outcomes}):
            scored = [o for o, f in zip(outcomes, fold, strict=True) if f == held_out and o.item.lang == lang]
            for name, pair in (("shared", shared), ("own", own.get(lang, shared))):
                got = at_thresholds(scored, pair.answer_threshold, pair.clarify_threshold)
                for rate in RATES:
                    rates.setdefault((lang, name, rate), []).append(got[rate])
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=Path("index"))
    parser.add_argument("--kb", type=Path, default=Path("kb_articles"))
    parser.add_argument("--target-wrong", type=float, default=0.05)
    parser.add_argument("--splits", type=int, default=3)
    args = parser.parse_args()
    outcomes = run(load_eval_set(args.kb / "eval"), bot_asker(load_bot(args.index)))
    need = MIN_LANGUAGE_QUESTIONS
    print(f"{len(outcomes)} questions; a language needs {need} in the fitting half for its own pair")
    for split in range(args.splits):
        fold = [zlib.crc32(f"{split}{o.item.text}".encode()) % 2 for o in outcomes]
        rates = fold_rates(outcomes, fold, args.target_wrong)
        cells = [
            f"{lang}/{name}: " + " ".join(f"{r}={mean(rates[lang, name, r]):.3f}" for r in RATES)
            for lang, name in sorted({(lang, name) for lang, name, _ in rates})
        ]
        print(f"split {split}: " + " | ".join(cells))


if __name__ == "__main__":
    main()

"""The calibration plot: confidence of right, wrong and unanswerable questions, thresholds marked."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.quality.calibrate import Calibration
from bot.quality.evaluate import Outcome, gold_rank


def plot(outcomes: list[Outcome], calibration: Calibration, path: Path, title: str) -> Path:
    """Histogram of confidence for answerable (right / wrong top-1) and unanswerable questions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = {
        "answerable, top-1 right": [
            o.confidence for o in outcomes if o.item.answerable and gold_rank(o) == 1
        ],
        "answerable, top-1 wrong": [
            o.confidence for o in outcomes if o.item.answerable and gold_rank(o) != 1
        ],
        "unanswerable": [o.confidence for o in outcomes if not o.item.answerable],
    }
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    bins = np.linspace(0, 1, 41)
    colors = {
        "answerable, top-1 right": "#2e7d32",
        "answerable, top-1 wrong": "#ef6c00",
        "unanswerable": "#c62828",
    }
    for label, values in groups.items():
        # matplotlib's stubs say Sequence[float]; its docs and code take an array of edges too
        ax.hist(
            values,
            bins=bins,  # type: ignore[arg-type]
            alpha=0.55,
            label=f"{label} ({len(values)})",
            color=colors[label],
        )
    for value, name, style in (
        (calibration.answer_threshold, "answer", "-"),
        (calibration.clarify_threshold, "clarify", "--"),
    ):
        ax.axvline(value, color="black", linestyle=style, linewidth=1.2)
        ax.text(value, ax.get_ylim()[1] * 0.95, f" {name} {value:.2f}", fontsize=8, va="top")
    ax.set_xlabel("confidence")
    ax.set_ylabel("questions")
    ax.set_title(
        f"{title}\ncorrect {calibration.correct:.0%}, wrong {calibration.wrong:.0%}, "
        f"clarify {calibration.clarify:.0%}, hand-off {calibration.handoff:.0%}",
        fontsize=10,
    )
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path

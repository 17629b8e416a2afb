"""Evaluation sets (kb_articles/eval/*.yaml) and the quality metrics computed over them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

NONE_LABELS = (None, "none", "")


@dataclass(frozen=True)
class EvalItem:
    """A customer question and the article that answers it (None: the KB cannot answer it)."""

    text: str
    lang: str
    gold: tuple[str, ...]

    @property
    def answerable(self) -> bool:
        return bool(self.gold)


@dataclass(frozen=True)
class Outcome:
    """What retrieval returned for one item: ranked article ids and the confidence."""

    item: EvalItem
    ranked: tuple[str, ...]
    confidence: float


def load_eval_set(folder: Path) -> list[EvalItem]:
    """Every item of every `*.yaml` file in `folder`; errors name the file and the item."""
    items: list[EvalItem] = []
    for path in sorted(folder.glob("*.y*ml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        lang = data.get("lang")
        for i, raw in enumerate(data.get("items") or []):
            if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
                raise ValueError(f"{path}: items[{i}]: expected a mapping with a text")
            label = raw.get("article")
            gold = () if label in NONE_LABELS else tuple([label] if isinstance(label, str) else label)
            items.append(EvalItem(raw["text"], raw.get("lang", lang), gold))
    return items


def metrics(
    outcomes: Iterable[Outcome],
    answer_threshold: float,
    clarify_threshold: float | None = None,
) -> dict[str, float]:
    """Ranking quality on answerable items and decision quality at the given thresholds."""
    outcomes = list(outcomes)
    answerable = [o for o in outcomes if o.item.answerable]
    ranks = [_rank(o) for o in answerable]
    labels = [int(_rank(o) == 1) for o in outcomes]
    n = max(1, len(outcomes))
    answered = [o for o in outcomes if o.confidence >= answer_threshold]
    correct = sum(_rank(o) == 1 for o in answered)
    clarify = clarify_threshold if clarify_threshold is not None else answer_threshold
    clarified = [o for o in outcomes if clarify <= o.confidence < answer_threshold]
    return {
        "n_queries": len(outcomes),
        "n_answerable": len(answerable),
        "top1": _share(r == 1 for r in ranks),
        "top3": _share(0 < r <= 3 for r in ranks),
        "mrr10": float(np.mean([1.0 / r if 0 < r <= 10 else 0.0 for r in ranks])) if ranks else 0.0,
        "auroc": auroc([o.confidence for o in outcomes], [int(o.item.answerable) for o in outcomes]),
        "auroc_correct": auroc([o.confidence for o in outcomes], labels),
        "correct": correct / n,
        "wrong": (len(answered) - correct) / n,
        "clarify": len(clarified) / n,
        "handoff": (len(outcomes) - len(answered) - len(clarified)) / n,
        "coverage": len(answered) / n,
    }


def _rank(outcome: Outcome) -> int:
    """1-based rank of the first gold article; 0 when absent or the item is unanswerable."""
    for i, article in enumerate(outcome.ranked, start=1):
        if article in outcome.item.gold:
            return i
    return 0


def _share(flags: Iterable[bool]) -> float:
    flags = list(flags)
    return sum(flags) / len(flags) if flags else 0.0


def auroc(scores: list[float], labels: list[int]) -> float:
    """Area under the ROC curve (probability a positive outscores a negative; ties count half)."""
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    if not pos or not neg:
        return float("nan")
    from scipy.stats import rankdata

    ranks = rankdata(pos + neg)
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def run(items: Iterable[EvalItem], search: Callable[[EvalItem], tuple[list[str], float]]) -> list[Outcome]:
    """Run `search` on every item and collect the outcomes."""
    outcomes = []
    for item in items:
        ranked, confidence = search(item)
        outcomes.append(Outcome(item, tuple(ranked), confidence))
    return outcomes

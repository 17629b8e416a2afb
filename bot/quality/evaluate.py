"""Evaluation sets (kb_articles/eval/*.yaml) and the quality metrics computed over them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from bot.dialogue.bot import Bot
from bot.dialogue.vocabulary import DecisionKind
from bot.kb.front_matter import safe_load

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
    """What the bot did with one item: ranked article ids, confidence, decision, answered article and
    the articles offered when it asked "did you mean...?"."""

    item: EvalItem
    ranked: tuple[str, ...]
    confidence: float
    decision: DecisionKind | None = None  # None when only the ranking was evaluated
    answered: str | None = None
    latency_ms: float = 0.0
    offered: tuple[str, ...] = ()


def load_eval_set(folder: Path) -> list[EvalItem]:
    """Every item of every `*.yaml` file in `folder`; errors (ValueError) name the file and the item."""
    items: list[EvalItem] = []
    for path in sorted(folder.glob("*.y*ml")):
        try:
            data = safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: not valid YAML ({exc})") from exc
        if not isinstance(data, dict) or not isinstance(data.get("items") or [], list):
            raise ValueError(f"{path}: expected a mapping with an `items` list")
        lang = data.get("lang")
        for i, raw in enumerate(data.get("items") or []):
            if not isinstance(raw, dict) or not isinstance(raw.get("text"), str):
                raise ValueError(f"{path}: items[{i}]: expected a mapping with a text")
            item_lang = raw.get("lang", lang)
            if not isinstance(item_lang, str):
                raise ValueError(f"{path}: items[{i}]: no lang (set `lang` on the file or the item)")
            items.append(EvalItem(raw["text"], item_lang, _gold(raw.get("article"), f"{path}: items[{i}]")))
    return items


def _gold(label: object, where: str) -> tuple[str, ...]:
    """The article ids an item accepts: none for `none` (or `[]`, as in the benchmark format), one
    id, or a list of ids."""
    if label in NONE_LABELS or label == []:
        return ()
    labels = [label] if isinstance(label, str) else label
    if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x for x in labels):
        raise ValueError(f"{where}: article must be an article id, a list of ids, or none")
    return tuple(labels)


def metrics(outcomes: Iterable[Outcome]) -> dict[str, float]:
    """Ranking quality on answerable items and the rates of what the bot actually decided."""
    outcomes = list(outcomes)
    answerable = [o for o in outcomes if o.item.answerable]
    ranks = [gold_rank(o) for o in answerable]
    n = max(1, len(outcomes))
    answered = [o for o in outcomes if o.decision == DecisionKind.ANSWER]
    correct = sum(o.answered in o.item.gold for o in answered)
    handoffs = [o for o in outcomes if o.decision == DecisionKind.HANDOFF]
    # A clarification that lists the right article leads the customer there in one more click.
    clarify_right = sum(
        o.decision == DecisionKind.CLARIFY and bool(set(o.offered) & set(o.item.gold)) for o in outcomes
    )
    return {
        "n_queries": len(outcomes),
        "n_answerable": len(answerable),
        "top1": _share(r == 1 for r in ranks),
        "top3": _share(0 < r <= 3 for r in ranks),
        "mrr10": float(np.mean([1.0 / r if 0 < r <= 10 else 0.0 for r in ranks])) if ranks else 0.0,
        "auroc": auroc([o.confidence for o in outcomes], [int(o.item.answerable) for o in outcomes]),
        "correct": correct / n,
        "wrong": (len(answered) - correct) / n,
        "clarify": sum(o.decision == DecisionKind.CLARIFY for o in outcomes) / n,
        "clarify_right": clarify_right / n,
        # Of the answerable questions, the share that reach their article without a person:
        # answered with it, or offered it in a clarification.
        "self_served": (correct + clarify_right) / max(1, len(answerable)),
        "handoff": len(handoffs) / n,
        "coverage": len(answered) / n,
        # Of the hand-offs, the share the KB really could not answer (or answered only wrongly).
        "handoff_precision": _share(not o.item.answerable or gold_rank(o) != 1 for o in handoffs),
        "p50_ms": _percentile([o.latency_ms for o in outcomes], 50),
        "p95_ms": _percentile([o.latency_ms for o in outcomes], 95),
    }


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else 0.0


def at_thresholds(outcomes: Iterable[Outcome], answer: float, clarify: float) -> dict[str, float]:
    """Decision rates if the thresholds were `answer`/`clarify` (top-1 answered; margin rule ignored)."""
    outcomes = list(outcomes)
    n = max(1, len(outcomes))
    answered = [o for o in outcomes if o.confidence >= answer]
    correct = sum(gold_rank(o) == 1 for o in answered)
    clarified = sum(clarify <= o.confidence < answer for o in outcomes)
    return {
        "correct": correct / n,
        "wrong": (len(answered) - correct) / n,
        "clarify": clarified / n,
        "handoff": (len(outcomes) - len(answered) - clarified) / n,
    }


def gold_rank(outcome: Outcome) -> int:
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


def run(items: Iterable[EvalItem], ask: Callable[[EvalItem], Outcome]) -> list[Outcome]:
    """Ask about every item and collect the outcomes."""
    return [ask(item) for item in items]


def by_language(outcomes: list[Outcome]) -> dict[str, dict[str, float]]:
    """`metrics` per language, plus "all"."""
    langs = sorted({o.item.lang for o in outcomes})
    report = {lang: metrics([o for o in outcomes if o.item.lang == lang]) for lang in langs}
    report["all"] = metrics(outcomes)
    return report


def bot_asker(bot: Bot) -> Callable[[EvalItem], Outcome]:
    """Ask the real Bot, one fresh conversation per item, language detected as for a customer."""

    def ask(item: EvalItem) -> Outcome:
        reply, _ = bot.reply(item.text)
        ranked = tuple(h.article_id for h in reply.result.hits) if reply.result else ()
        answered = reply.article.article_id if reply.article else None
        offered = tuple(s.article_id for s in reply.suggestions)
        return Outcome(item, ranked, reply.confidence, reply.decision, answered, reply.latency_ms, offered)

    return ask

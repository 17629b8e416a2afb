"""The decision policy: answer, ask "did you mean…", or hand off to a person."""

from __future__ import annotations

from dataclasses import dataclass

from bot.retrieve import Hit, SearchResult

ANSWER, CLARIFY, HANDOFF = "answer", "clarify", "handoff"


@dataclass(frozen=True)
class Thresholds:
    """Confidence cut-offs (calibrated by `faqbot calibrate`, never guessed per query)."""

    answer: float = 0.5
    clarify: float = 0.2
    # Ask instead of answering when the runner-up's ranking score is this close to the best one's.
    margin: float = 0.08
    max_suggestions: int = 3

    def __post_init__(self) -> None:
        if not 0.0 <= self.clarify <= self.answer <= 1.0:
            raise ValueError(f"need 0 <= clarify ({self.clarify}) <= answer ({self.answer}) <= 1")


@dataclass(frozen=True)
class Decision:
    """What to do with one question, and why."""

    kind: str
    confidence: float
    hit: Hit | None
    suggestions: tuple[Hit, ...]
    reason: str


def decide(result: SearchResult, thresholds: Thresholds) -> Decision:
    """Apply the thresholds to a search result (explicit requests for a person are handled before)."""
    hits, confidence = result.hits, result.confidence
    if not hits or confidence < thresholds.clarify:
        return Decision(HANDOFF, confidence, None, (), "low_confidence")
    suggestions = _suggestions(hits, thresholds)
    if confidence < thresholds.answer:
        return Decision(CLARIFY, confidence, None, suggestions, "uncertain")
    if len(suggestions) > 1 and hits[0].score - hits[1].score < thresholds.margin:
        return Decision(CLARIFY, confidence, None, suggestions, "close_call")
    return Decision(ANSWER, confidence, hits[0], (), "confident")


def _suggestions(hits: tuple[Hit, ...], thresholds: Thresholds) -> tuple[Hit, ...]:
    """Up to `max_suggestions` hits, dropping those far weaker than the best one."""
    best = hits[0].score
    kept = [h for h in hits if h.score >= best * 0.25]
    return tuple(kept[: thresholds.max_suggestions])

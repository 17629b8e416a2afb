"""The decision policy: answer, ask "did you mean…", or hand off to a person."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from bot.config import DialogueSettings
from bot.dialogue.vocabulary import DecisionKind, Reason
from bot.retrieval.results import Hit, SearchResult


@dataclass(frozen=True)
class Thresholds:
    """Confidence cut-offs (calibrated by `faqbot calibrate`, never guessed per query)."""

    answer: float = 0.5
    clarify: float = 0.2
    # Ask instead of answering when the runner-up's ranking score is this close to the best one's.
    margin: float = 0.08
    max_suggestions: int = 3
    # (answer, clarify) of their own for a language's questions: the confidence is fitted per
    # language, and one pair for all can leave one language over the wrong-answer target.
    by_language: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for answer, clarify in [(self.answer, self.clarify), *self.by_language.values()]:
            if not 0.0 <= clarify <= answer <= 1.0:
                raise ValueError(f"need 0 <= clarify ({clarify}) <= answer ({answer}) <= 1")

    @classmethod
    def from_settings(cls, settings: DialogueSettings) -> Thresholds:
        """The configured thresholds (FAQBOT_ANSWER_THRESHOLD, …; `faqbot calibrate` writes them)."""
        return cls(
            answer=settings.answer_threshold,
            clarify=settings.clarify_threshold,
            margin=settings.clarify_margin,
            max_suggestions=settings.max_suggestions,
            by_language=dict(settings.language_thresholds),
        )

    def for_language(self, lang: str) -> Thresholds:
        """The thresholds that apply to a question in `lang`."""
        if lang not in self.by_language:
            return self
        answer, clarify = self.by_language[lang]
        return replace(self, answer=answer, clarify=clarify, by_language={})


@dataclass(frozen=True)
class Decision:
    """What to do with one question, and why."""

    kind: DecisionKind
    confidence: float
    hit: Hit | None
    suggestions: tuple[Hit, ...]
    reason: Reason


def decide(result: SearchResult, thresholds: Thresholds) -> Decision:
    """Apply the thresholds to a search result (explicit requests for a person are handled before)."""
    thresholds = thresholds.for_language(result.lang)
    hits, confidence = result.hits, result.confidence
    if not hits or confidence < thresholds.clarify:
        return Decision(DecisionKind.HANDOFF, confidence, None, (), Reason.LOW_CONFIDENCE)
    suggestions = _suggestions(hits, thresholds)
    if confidence < thresholds.answer:
        return Decision(DecisionKind.CLARIFY, confidence, None, suggestions, Reason.UNCERTAIN)
    if len(suggestions) > 1 and hits[0].score - hits[1].score < thresholds.margin:
        return Decision(DecisionKind.CLARIFY, confidence, None, suggestions, Reason.CLOSE_CALL)
    return Decision(DecisionKind.ANSWER, confidence, hits[0], (), Reason.CONFIDENT)


def _suggestions(hits: tuple[Hit, ...], thresholds: Thresholds) -> tuple[Hit, ...]:
    """Up to `max_suggestions` hits, dropping those far weaker than the best one."""
    best = hits[0].score
    kept = [h for h in hits if h.score >= best * 0.25]
    return tuple(kept[: thresholds.max_suggestions])

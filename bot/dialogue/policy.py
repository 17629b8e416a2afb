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
    """Apply the thresholds to a search result (explicit requests for a person are handled before).

    A "did you mean" offers the top `max_suggestions` hits whatever their ranking scores: once the
    bot is unsure of the first, the next two are the likeliest alternatives, and a ranking score
    is no floor to drop them by (the robust ranker's are shares of the candidates' evidence, so a
    runner-up holds a small share even when it is the right article: dropping hits under a quarter
    of the best one's score took the self-served share of the covidfaq-jhu dev questions on day
    one from 0.86 to 0.71). The customer can always say none fits."""
    thresholds = thresholds.for_language(result.lang)
    hits, confidence = result.hits, result.confidence
    if not hits or confidence < thresholds.clarify:
        return Decision(DecisionKind.HANDOFF, confidence, None, (), Reason.LOW_CONFIDENCE)
    suggestions = hits[: thresholds.max_suggestions]
    if confidence < thresholds.answer:
        return Decision(DecisionKind.CLARIFY, confidence, None, suggestions, Reason.UNCERTAIN)
    if _close_call(hits, thresholds.margin):
        return Decision(DecisionKind.CLARIFY, confidence, None, suggestions, Reason.CLOSE_CALL)
    return Decision(DecisionKind.ANSWER, confidence, hits[0], (), Reason.CONFIDENT)


def _close_call(hits: tuple[Hit, ...], margin: float) -> bool:
    """The runner-up's score within `margin` of the best one's, and no mere fraction of it: two
    small scores (an exact match to a question that the ranker scores low) are no close call."""
    return len(hits) > 1 and hits[1].score >= 0.25 * hits[0].score and hits[0].score - hits[1].score < margin

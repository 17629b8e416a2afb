"""The `Bot` service: one customer turn in, one reply out, with the conversation's state."""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process

from bot.dialogue.escalation import asks_for_person, rejects_choices, says_unhelpful
from bot.dialogue.messages import message
from bot.dialogue.policy import Decision, Thresholds, decide
from bot.dialogue.smalltalk import small_talk
from bot.dialogue.vocabulary import DecisionKind, Reason
from bot.retrieval.results import SearchResult
from bot.text.normalise import normalise

if TYPE_CHECKING:  # a reply, a state or a thresholds check should not have to load FAISS
    from bot.retrieval.search import Retriever

MAX_FOLLOW_UP_WORDS = 6  # a longer message says what it is about on its own
_NUMBER = re.compile(r"^\s*(?:n\.?\s*|#|numero\s+|number\s+)?(\d{1,2})\s*[.)]?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ConversationState:
    """What the bot remembers between turns (kept by the caller: the CLI, later the store)."""

    lang: str | None = None
    misses: int = 0
    pending: tuple[tuple[str, str], ...] = ()  # (article_id, title) offered in the last clarification
    last_article: str | None = None


@dataclass(frozen=True)
class ArticleView:
    """An answer as channels show it: plain-text summary plus the full Markdown body."""

    article_id: str
    title: str
    lang: str
    summary: str
    body: str
    handoff: bool


@dataclass(frozen=True)
class Suggestion:
    article_id: str
    title: str
    score: float


@dataclass(frozen=True)
class Reply:
    """The bot's answer to one turn, independent of the channel that shows it."""

    decision: DecisionKind
    lang: str
    confidence: float
    text: str
    reason: Reason
    article: ArticleView | None = None
    suggestions: tuple[Suggestion, ...] = ()
    follow_ups: tuple[Suggestion, ...] = ()
    offer_person: bool = False
    latency_ms: float = 0.0
    result: SearchResult | None = None


class Bot:
    """Answers customers from the knowledge base, asks when unsure, hands off when it cannot help."""

    def __init__(self, retriever: Retriever, thresholds: Thresholds, misses_before_handoff: int = 2) -> None:
        if misses_before_handoff < 1:
            raise ValueError(f"misses_before_handoff must be >= 1, got {misses_before_handoff}")
        self.retriever = retriever
        self.thresholds = thresholds
        self.misses_before_handoff = misses_before_handoff

    def reply(
        self, text: str, state: ConversationState | None = None, lang: str | None = None
    ) -> tuple[Reply, ConversationState]:
        """Handle one customer message; returns the reply and the conversation's new state."""
        started = time.perf_counter()
        state = state or ConversationState()
        text = text.strip()
        if not text:
            raise ValueError("the message is empty")
        retriever = self.retriever  # one index version for the whole turn, even if a reload swaps it
        reply = self._without_search(retriever, text, state, lang)
        if reply is None:
            k = max(10, self.thresholds.max_suggestions)
            result = retriever.search(text, lang=lang, k=k, conversation_lang=state.lang)
            reply = self._decide(retriever, result, state, text, lang)
        reply = dataclasses.replace(reply, latency_ms=(time.perf_counter() - started) * 1000)
        return reply, self._next_state(state, reply)

    def _without_search(
        self, retriever: Retriever, text: str, state: ConversationState, lang: str | None
    ) -> Reply | None:
        """The turns that what the customer wrote decides, not the knowledge base: an offered
        article picked, a request for a person, a complaint about the last answer, small talk."""
        picked = self._picked(text, state) or self._followed(retriever, text, state)
        if picked is not None and retriever.article(picked) is not None:
            return self._answer(retriever, picked, 1.0, state.lang or lang or "it", Reason.PICKED, None)
        if state.pending and rejects_choices(text):
            reply_lang = state.lang or lang or retriever.detector.default
            if state.misses + 1 >= self.misses_before_handoff:
                return self._handoff(reply_lang, 0.0, Reason.REPEATED_MISS, None)
            none = message("none_fit", reply_lang)
            return Reply(DecisionKind.CLARIFY, reply_lang, 0.0, none, Reason.NONE_FIT, offer_person=True)
        if asks_for_person(text):
            return self._handoff(
                lang or retriever.detector.detect(text, state.lang), 0.0, Reason.REQUESTED, None
            )
        if state.last_article and says_unhelpful(text):
            reply_lang = lang or retriever.detector.detect(text, state.lang)
            return self._handoff(reply_lang, 0.0, Reason.NEGATIVE_FEEDBACK, None)
        talk = small_talk(text)
        if talk is not None:
            reply_lang = lang or talk.lang or state.lang or retriever.detector.default
            return Reply(
                DecisionKind.SMALLTALK,
                reply_lang,
                0.0,
                message(f"smalltalk_{talk.kind}", reply_lang),
                talk.kind,
            )
        return None

    def _in_context(
        self, retriever: Retriever, text: str, state: ConversationState, lang: str | None
    ) -> Reply | None:
        """A short follow-up that needs the last answer to make sense ("quanto costa?" after the
        article on returns), read after that article's title; called when the message alone would
        not be answered, it answers only if the two together answer with another article."""
        if state.last_article is None or len(text.split()) > MAX_FOLLOW_UP_WORDS:
            return None
        record = retriever.article(state.last_article)
        if record is None:
            return None
        k = max(10, self.thresholds.max_suggestions)
        joined = retriever.search(f"{record.title} {text}", lang=lang, k=k, conversation_lang=state.lang)
        decision = decide(joined, self.thresholds)
        if decision.kind != DecisionKind.ANSWER:
            return None
        assert decision.hit is not None  # decide() gives every answer its hit
        if decision.hit.article_id == state.last_article:
            return None
        return self._answer(
            retriever, decision.hit.article_id, decision.confidence, joined.lang, Reason.IN_CONTEXT, joined
        )

    def _decide(
        self,
        retriever: Retriever,
        result: SearchResult,
        state: ConversationState,
        text: str,
        lang: str | None,
    ) -> Reply:
        decision = decide(result, self.thresholds)
        if decision.kind != DecisionKind.ANSWER:
            in_context = self._in_context(retriever, text, state, lang)
            if in_context is not None:
                return in_context
        # A confident close call between two articles is a choice to offer, not a failure to help.
        missed = decision.kind == DecisionKind.HANDOFF or decision.reason == Reason.UNCERTAIN
        if missed and state.misses + 1 >= self.misses_before_handoff:
            return self._handoff(result.lang, decision.confidence, Reason.REPEATED_MISS, result)
        if decision.kind == DecisionKind.ANSWER:
            assert decision.hit is not None  # decide() gives every answer its hit
            return self._answer(
                retriever, decision.hit.article_id, decision.confidence, result.lang, decision.reason, result
            )
        if decision.kind == DecisionKind.CLARIFY:
            return self._clarify(decision, result)
        return self._handoff(result.lang, decision.confidence, decision.reason, result)

    def _answer(
        self,
        retriever: Retriever,
        article_id: str,
        confidence: float,
        lang: str,
        reason: Reason,
        result: SearchResult | None,
    ) -> Reply:
        record = retriever.article(article_id)
        if record is None:
            raise KeyError(f"article {article_id!r} is not in the index")
        view = ArticleView(record.id, record.title, record.lang, record.summary, record.body, record.handoff)
        follow_ups = tuple(
            Suggestion(a.id, a.title, 0.0)
            for a in (retriever.article(i) for i in record.follow_ups)
            if a is not None
        )
        text = view.body
        if view.handoff:
            text = f"{text}\n\n{message('offer_person', lang)}"
        return Reply(
            DecisionKind.ANSWER,
            lang,
            confidence,
            text,
            reason,
            view,
            (),
            follow_ups,
            offer_person=view.handoff,
            result=result,
        )

    def _clarify(self, decision: Decision, result: SearchResult) -> Reply:
        options = tuple(Suggestion(h.article_id, h.title, h.score) for h in decision.suggestions)
        lines = [message("clarify" if len(options) > 1 else "clarify_one", result.lang)]
        lines += [f"{i}. {s.title}" for i, s in enumerate(options, start=1)]
        lines.append(message("clarify_hint", result.lang))
        return Reply(
            DecisionKind.CLARIFY,
            result.lang,
            decision.confidence,
            "\n".join(lines),
            decision.reason,
            None,
            options,
            # none of them may fit (a "did you mean" is offered down to questions the KB lacks):
            # the way to a person is one tap away
            offer_person=True,
            result=result,
        )

    def _handoff(self, lang: str, confidence: float, reason: Reason, result: SearchResult | None) -> Reply:
        keys = {
            Reason.REQUESTED: "handoff_requested",
            Reason.REPEATED_MISS: "handoff_repeated_miss",
            Reason.NEGATIVE_FEEDBACK: "handoff_unhelpful",
        }
        key = keys.get(reason, "handoff_low_confidence")
        return Reply(DecisionKind.HANDOFF, lang, confidence, message(key, lang), reason, result=result)

    def _picked(self, text: str, state: ConversationState) -> str | None:
        """The article the customer picked from the last clarification, by number or by title."""
        if not state.pending:
            return None
        number = _NUMBER.match(text)
        if number:
            index = int(number.group(1)) - 1
            return state.pending[index][0] if 0 <= index < len(state.pending) else None
        titles = [normalise(title) for _, title in state.pending]
        best = process.extractOne(normalise(text), titles, scorer=fuzz.ratio, score_cutoff=90)
        return state.pending[best[2]][0] if best else None

    @staticmethod
    def _followed(retriever: Retriever, text: str, state: ConversationState) -> str | None:
        """The follow-up of the last answer the customer picked by its title (a button click)."""
        record = retriever.article(state.last_article) if state.last_article else None
        if record is None:
            return None
        offered = [a for a in (retriever.article(i) for i in record.follow_ups) if a is not None]
        wanted = normalise(text)
        return next((a.id for a in offered if normalise(a.title) == wanted), None)

    @staticmethod
    def _next_state(state: ConversationState, reply: Reply) -> ConversationState:
        if reply.decision == DecisionKind.SMALLTALK:  # "ok", "grazie": the choices offered still stand
            return dataclasses.replace(state, lang=reply.lang)
        missed = reply.decision == DecisionKind.CLARIFY and reply.reason in (
            Reason.UNCERTAIN,
            Reason.NONE_FIT,
        )
        return ConversationState(
            lang=reply.lang,
            misses=state.misses + 1 if missed else 0,
            pending=tuple((s.article_id, s.title) for s in reply.suggestions),
            last_article=reply.article.article_id if reply.article else state.last_article,
        )

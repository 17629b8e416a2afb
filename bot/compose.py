"""Assemble the `Bot` from settings: model, language detector, live index, thresholds."""

from __future__ import annotations

from bot.config import Settings
from bot.dialogue.bot import Bot
from bot.dialogue.policy import Thresholds
from bot.retrieval.embedder import Embedder, load_embedder
from bot.retrieval.language import LanguageDetector
from bot.retrieval.model_switch import ModelSwitch
from bot.retrieval.query_encoder import QueryEncoder
from bot.retrieval.search import Retriever


def thresholds(settings: Settings) -> Thresholds:
    return Thresholds(
        answer=settings.answer_threshold,
        clarify=settings.clarify_threshold,
        margin=settings.clarify_margin,
        max_suggestions=settings.max_suggestions,
        by_language={lang: (t.answer, t.clarify) for lang, t in settings.language_thresholds.items()},
    )


def load_retriever(settings: Settings) -> Retriever:
    """The retriever over the live index version (raises if none is built or it is corrupt).

    Its queries go through a `QueryEncoder`: cached and micro-batched."""

    def serving(model: Embedder, previous: Embedder | None = None) -> QueryEncoder:
        encoder = QueryEncoder(
            model,
            cache_size=settings.query_cache_size,
            max_batch=settings.encode_max_batch,
            window_ms=settings.encode_window_ms,
        )
        if isinstance(previous, QueryEncoder):  # metrics observers carry over to the new model
            encoder.on_batch, encoder.on_hit = previous.on_batch, previous.on_hit
        return encoder

    base = serving(load_embedder(settings.model, settings.embed_batch_size))
    detector = LanguageDetector(settings.languages, settings.default_lang)
    switch = ModelSwitch(base, serving, settings.embed_batch_size)
    return Retriever.from_root(settings.index_path, base, detector, switch).load()


def load_bot(settings: Settings) -> Bot:
    """A ready `Bot` over the live index."""
    return Bot(load_retriever(settings), thresholds(settings), settings.misses_before_handoff)

"""The `day-one` and `curated` protocols of `faqbot bench`: what a customer gets from the KB alone, or
after staff added the dev questions as alternate questions, built as `faqbot build` builds it and
asked through the live `Bot` (no bench-only method). `labelled`, fitting on dev, is in bench.py."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.config import BuildSettings, DialogueSettings
from bot.dialogue.bot import Bot
from bot.dialogue.policy import Thresholds
from bot.index.build import build_articles
from bot.kb.articles import Article
from bot.quality.evaluate import EvalItem, bot_asker, by_language, metrics, run
from bot.retrieval.embedder import Embedder
from bot.retrieval.language import LanguageDetector
from bot.retrieval.search import Retriever
from bot.text.normalise import normalise

PROTOCOLS = ("labelled", "curated", "day-one")


def curated(articles: Sequence[Article], dev: Sequence[EvalItem]) -> list[Article]:
    """The KB after staff added each answerable dev question to its first gold entry, as the
    console's "add as question" writes it (spaces collapsed); a text the KB already holds, as a
    title or a question of any entry, is skipped (the KB would refuse it as a duplicate)."""
    held = {normalise(text) for a in articles for text in (a.title, *a.questions)}
    added: dict[str, list[str]] = {}
    for query in dev:
        text = " ".join(query.text.split())
        if not query.gold or not text or normalise(text) in held:
            continue
        held.add(normalise(text))
        added.setdefault(query.gold[0], []).append(text)
    return [dataclasses.replace(a, questions=(*a.questions, *added.get(a.id, ()))) for a in articles]


def live_report(
    articles: Sequence[Article],
    test: Sequence[EvalItem],
    detector: LanguageDetector,
    build: BuildSettings,
    dialogue: DialogueSettings,
    embedder: Embedder,
) -> dict[str, Any]:
    """Build `articles` as `faqbot build` does, serve them with the thresholds a build serves with,
    and ask the live `Bot` each test question in a fresh conversation (language detected)."""
    with tempfile.TemporaryDirectory(prefix="faqbot-bench-") as tmp:
        built = build_articles(list(articles), build, embedder, Path(tmp))
        retriever = Retriever(built.folder, embedder, detector).load()
    thresholds = Thresholds.from_settings(dialogue)
    bot = Bot(retriever, thresholds, dialogue.misses_before_handoff)
    outcomes = run(test, bot_asker(bot))
    report: dict[str, Any] = metrics(outcomes)
    if len({q.lang for q in test}) > 1:  # how each language of a mix fares (timings: whole set only)
        languages = by_language(outcomes)
        report["by_language"] = {
            lang: {k: v for k, v in m.items() if not k.endswith("_ms")}
            for lang, m in languages.items()
            if lang != "all"
        }
    report.update(
        answer_threshold=thresholds.answer,
        clarify_threshold=thresholds.clarify,
        fusion=retriever.fusion.source,
        model=retriever.manifest.model if retriever.manifest else "",
    )
    return report

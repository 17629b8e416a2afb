"""One `Bot.reply` in process on a data set's KB (built as `faqbot build` builds it), and how much of
it is the query encode, inside the reply and called directly.

    python scripts/bench_reply_latency.py ../shared/data/itafaq [--tuned-threads] [--queries 150]

`--tuned-threads` applies the serving process's thread settings (bot/retrieval/compute.py: the model
gets the cores, FAISS and BLAS one thread each), as `faqbot serve` does.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from bot.config import Settings
from bot.dialogue.bot import Bot
from bot.dialogue.policy import Thresholds
from bot.index.build import build_articles
from bot.quality.bench import bench_detector, load_dataset
from bot.retrieval.embedder import load_embedder
from bot.retrieval.search import Retriever


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--tuned-threads", action="store_true")
    parser.add_argument("--queries", type=int, default=150)
    args = parser.parse_args()
    if args.tuned_threads:
        from bot.retrieval.compute import serving_threads, tune_threads

        tune_threads(serving_threads(0))
    articles, queries = load_dataset(args.folder)
    test = [q.text for q in queries if q.split == "test"][: args.queries]
    settings = Settings(home=Path(tempfile.mkdtemp(prefix="faqbot-latency-")))
    model = load_embedder(settings.model)
    with tempfile.TemporaryDirectory() as tmp:
        built = build_articles(articles, settings.build, model, Path(tmp))
        retriever = Retriever(built.folder, model, bench_detector(sorted({a.lang for a in articles}))).load()
    bot = Bot(retriever, Thresholds.from_settings(settings.dialogue))
    encode, encodes = retriever.embedder.encode, []

    def timed(texts):  # the encode as the reply calls it
        started = time.perf_counter()
        vectors = encode(texts)
        encodes.append((time.perf_counter() - started) * 1000)
        return vectors

    retriever.embedder.encode = timed  # type: ignore[method-assign]
    for text in test[:20]:  # warm-up: caches, thread pools
        bot.reply(text)
    encodes.clear()
    replies = []
    for text in test:
        started = time.perf_counter()
        bot.reply(text)
        replies.append((time.perf_counter() - started) * 1000)
    inside = list(encodes)
    direct = []
    for text in test:
        started = time.perf_counter()
        encode([text])
        direct.append((time.perf_counter() - started) * 1000)
    print(
        f"{args.folder.name}: {len(articles)} entries, {len(retriever.corpus.units)} units; "
        f"reply p50 {np.median(replies):.1f} ms, encode in reply p50 {np.median(inside):.1f} ms, "
        f"encode called directly p50 {np.median(direct):.1f} ms"
    )


if __name__ == "__main__":
    main()

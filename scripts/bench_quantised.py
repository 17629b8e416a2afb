#!/usr/bin/env python3
"""Does a quantised encoder keep accuracy? The model as shipped against PyTorch's dynamic int8
quantisation of its linear layers: encode speed, and `faqbot bench` on each data set (same
protocol, same thresholds fitting). Prints a Markdown table for docs/benchmarks.md.

    .venv/bin/python scripts/bench_quantised.py [../shared/data/clinc150 ../shared/data/banking77-oos]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from bot.quality.bench import run_bench  # noqa: E402
from bot.quality.evaluate import load_eval_set  # noqa: E402
from bot.retrieval.compute import tune_threads  # noqa: E402
from bot.retrieval.embedder import SentenceTransformerEmbedder, load_embedder  # noqa: E402


class Int8Embedder(SentenceTransformerEmbedder):
    """The same model with its linear layers quantised to int8 at load (a distinct cache key)."""

    def warm_up(self) -> Int8Embedder:
        if self._model is None:
            import torch

            super().warm_up()
            quantize = torch.ao.quantization.quantize_dynamic  # deprecated by PyTorch, still there in 2.13
            self._model = quantize(self._model, {torch.nn.Linear}, torch.qint8)
        return self

    @property
    def model_id(self) -> str:
        return super().model_id + "+dynamic-int8"


def speed(embedder, texts: list[str]) -> tuple[float, float]:
    """Median ms of one query encode, and texts per second in batches."""
    embedder.encode(texts[:8])
    times = []
    for text in texts[:100]:
        started = time.perf_counter()
        embedder.encode([text])
        times.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    embedder.encode(texts)
    return sorted(times)[len(times) // 2], len(texts) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = [str(ROOT.parent / "shared" / "data" / name) for name in ("clinc150", "banking77-oos")]
    parser.add_argument("datasets", nargs="*", default=default)
    args = parser.parse_args()
    tune_threads(2)
    with tempfile.TemporaryDirectory(prefix="faqbot-quant-") as tmp:
        settings = Settings(home=Path(tmp))  # a throw-away embedding cache
        texts = [item.text for item in load_eval_set(ROOT / "kb_articles" / "eval")][:400]
        variants = {
            "fp32 (as shipped)": load_embedder(settings.model, settings.embed_batch_size),
            "dynamic int8": Int8Embedder(settings.model, settings.embed_batch_size),
        }
        print("| encoder | one query (p50) | batch rate | " + " | ".join(
            f"{Path(d).name} top-1 / AUROC" for d in args.datasets) + " |")  # fmt: skip
        print("|---|---|---|" + "---|" * len(args.datasets))
        for name, embedder in variants.items():
            one, rate = speed(embedder, texts)
            cells = []
            for folder in args.datasets:
                report = run_bench(Path(folder), settings.build, settings.dialogue, embedder)
                cells.append(f"{report['top1']:.3f} / {report['auroc']:.3f}")
            print(f"| {name} | {one:.1f} ms | {rate:.0f} texts/s | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()

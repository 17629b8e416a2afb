#!/usr/bin/env python3
"""Answer quality on every benchmark data set: faqbot (`faqbot bench --json`) and simple peers.

Peers, same protocol (top entry, thresholds fitted on dev, figures on test): BM25 (bm25s) over the
entries' questions, all-MiniLM-L6-v2 max cosine, rapidfuzz token-set ratio. Writes the table into
docs/benchmarks.md between the bench_quality markers.

    python scripts/bench_quality.py [DATA_DIR ...]   # default: ../shared/data/*/
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchdoc import write_block  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.quality.bench import load_dataset  # noqa: E402
from bot.quality.calibrate import pick_thresholds  # noqa: E402
from bot.quality.evaluate import EvalItem, Outcome, at_thresholds, metrics  # noqa: E402
from bot.retrieval.embedder import EmbeddingCache, load_embedder  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench_quality:start -->", "<!-- bench_quality:end -->"
COLUMNS = ("top1", "top3", "mrr10", "auroc", "correct", "wrong", "coverage", "p50_ms")


def faqbot(folder: Path, head_on_dev: bool, tune_epochs: int = 3) -> dict:
    """Run the real command line, as a user would."""
    flag = "--head-on-dev" if head_on_dev else "--no-head-on-dev"
    command = [
        str(Path(sys.executable).with_name("faqbot")),
        *("bench", str(folder), "--json", flag, "--tune-epochs", str(tune_epochs)),
    ]
    out = subprocess.run(
        command, capture_output=True, text=True, check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"}
    )
    return json.loads(out.stdout)


def peer_scores(folder: Path) -> dict[str, tuple[list, list, np.ndarray, np.ndarray]]:
    """For each peer: (dev queries, test queries, dev scores, test scores), scores per entry."""
    import bm25s
    from rapidfuzz import fuzz, process

    from bot.text.normalise import normalise

    articles, queries = load_dataset(folder)
    texts = [q for a in articles for q in a.questions]
    owner = np.array([i for i, a in enumerate(articles) for _ in a.questions])
    dev = [q for q in queries if q.split == "dev"]
    test = [q for q in queries if q.split == "test"]
    settings = Settings()
    cache = EmbeddingCache(settings.index_path / "cache" / "embeddings.sqlite")
    embedder = load_embedder(settings.model)
    kb_vectors = cache.embed(embedder, texts)

    def per_entry(unit_scores: np.ndarray) -> np.ndarray:
        out = np.full((unit_scores.shape[0], len(articles)), -np.inf)
        for i in range(len(articles)):
            out[:, i] = unit_scores[:, owner == i].max(axis=1)
        return out

    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)

    def bm25(qs):
        tokens = bm25s.tokenize([q.text for q in qs], stopwords="en", show_progress=False)
        vocab = {v: k for k, v in tokens.vocab.items()}
        rows = []
        for ids in tokens.ids:
            words = [vocab[i] for i in ids if vocab[i] in retriever.vocab_dict]
            rows.append(retriever.get_scores(words) if words else np.zeros(len(texts)))
        return per_entry(np.array(rows))

    def dense(qs):
        return per_entry(cache.embed(embedder, [q.text for q in qs]) @ kb_vectors.T)

    norm_texts = [normalise(t) for t in texts]

    def fuzzy(qs):
        return per_entry(
            process.cdist(
                [normalise(q.text) for q in qs], norm_texts, scorer=fuzz.token_set_ratio, workers=-1
            )
        )

    return {
        "BM25 (bm25s) over the questions": (dev, test, bm25(dev), bm25(test)),
        "all-MiniLM-L6-v2 max cosine": (dev, test, dense(dev), dense(test)),
        "rapidfuzz token_set_ratio": (dev, test, fuzzy(dev), fuzzy(test)),
    }


def peer_report(folder: Path, dev, test, dev_scores: np.ndarray, test_scores: np.ndarray) -> dict:
    ids = [a.id for a in load_dataset(folder)[0]]

    def outcomes(qs, scores):
        order = np.argsort(-scores, axis=1)[:, :10]
        return [
            Outcome(EvalItem(q.text, q.lang, q.gold), tuple(ids[j] for j in row), float(s.max()))
            for q, row, s in zip(qs, order, scores, strict=True)
        ]

    chosen = pick_thresholds(outcomes(dev, dev_scores))
    test_outcomes = outcomes(test, test_scores)
    report = metrics(test_outcomes)
    rates = at_thresholds(test_outcomes, chosen.answer_threshold, chosen.answer_threshold)
    report.update(correct=rates["correct"], wrong=rates["wrong"], coverage=rates["correct"] + rates["wrong"])
    report["p50_ms"] = float("nan")
    return report


def row(dataset: str, method: str, m: dict) -> str:
    """A table row; an undefined figure (None from `faqbot bench --json`, or NaN) shows as –."""
    cells = [
        "–" if m[c] is None or m[c] != m[c] else f"{m[c]:.1f}" if c == "p50_ms" else f"{m[c]:.3f}"
        for c in COLUMNS
    ]
    return "| " + " | ".join([dataset, method, *cells]) + " |"


def data_folders(named: list[Path]) -> list[Path]:
    """The folders named, or every benchmark data set under ../shared/data/."""
    return named or sorted(p.parent for p in (ROOT.parent / "shared" / "data").glob("*/kb.jsonl"))


def main(argv: list[str]) -> None:
    folders = data_folders([Path(a) for a in argv])
    lines = [
        "| data set | method | " + " | ".join(COLUMNS) + " |",
        "|---|---|" + "---|" * len(COLUMNS),
    ]
    for folder in folders:
        print(f"{folder.name}: faqbot", file=sys.stderr, flush=True)
        lines.append(
            row(folder.name, "**faqbot** (model tuned, head also trained on dev)", faqbot(folder, True))
        )
        lines.append(row(folder.name, "faqbot, model as is", faqbot(folder, True, 0)))
        untuned_kb_head = faqbot(folder, False, 0)
        lines.append(row(folder.name, "faqbot, model as is, head on KB questions only", untuned_kb_head))
        for method, (dev, test, dev_s, test_s) in peer_scores(folder).items():
            print(f"{folder.name}: {method}", file=sys.stderr, flush=True)
            lines.append(row(folder.name, method, peer_report(folder, dev, test, dev_s, test_s)))
    machine = f"{os.cpu_count()} CPU cores, Python {platform.python_version()}, {platform.machine()}"
    block = "\n".join(
        [
            START,
            f"Measured {dt.date.today().isoformat()} on {machine} with `python scripts/bench_quality.py` "
            "(test split; weights and thresholds fitted on dev only; correct/wrong/coverage at the "
            "dev-fitted answer threshold for a 5% wrong-answer target).",
            "",
            *lines,
            END,
        ]
    )
    write_block(DOC, START, END, "Public benchmarks", block)
    print(block)


if __name__ == "__main__":
    main(sys.argv[1:])

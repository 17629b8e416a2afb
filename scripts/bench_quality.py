#!/usr/bin/env python3
"""Answer quality on every benchmark data set, under the three `faqbot bench` protocols, beside
simple peers on the same test split.

faqbot: `faqbot bench DIR --protocol labelled|curated|day-one --json`, run as a user runs it
(`labelled` fits weights and thresholds on dev; `curated` adds dev's questions as alternate
questions; `day-one` reads the KB alone). Peers (top entry; threshold fitted on dev): BM25 (bm25s)
over each entry's title, questions and answer; all-MiniLM-L6-v2 max cosine over its title,
questions and answer paragraphs; rapidfuzz token-set ratio over its title and questions. Writes
the table into docs/benchmarks.md between the bench_quality markers.

    python scripts/bench_quality.py [--tune-epochs N] [DATA_DIR ...]   # default: ../shared/data/*/
"""

from __future__ import annotations

import argparse
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
COLUMNS = ("top1", "top3", "auroc", "correct", "wrong", "clarify", "self_served", "handoff", "p50_ms")
PROTOCOLS = ("day-one", "curated", "labelled")
FAQ_SETS = ("stackfaq", "covidfaq-jhu", "itafaq")  # listed first: the day-one case


def faqbot(folder: Path, protocol: str, tune_epochs: int) -> dict:
    """Run the real command line, as a user would."""
    command = [
        str(Path(sys.executable).with_name("faqbot")),
        *("bench", str(folder), "--json", "--protocol", protocol, "--tune-epochs", str(tune_epochs)),
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
    short = [(i, t) for i, a in enumerate(articles) for t in dict.fromkeys((a.title, *a.questions))]
    passages = [(i, t) for i, a in enumerate(articles) for t in a.paragraphs()]
    texts = [t for _, t in short]
    owner = np.array([i for i, _ in short])
    dense_owner = np.array([i for i, _ in short + passages])
    dev = [q for q in queries if q.split == "dev"]
    test = [q for q in queries if q.split == "test"]
    settings = Settings()
    cache = EmbeddingCache(settings.index_path / "cache" / "embeddings.sqlite")
    embedder = load_embedder(settings.model)
    kb_vectors = cache.embed(embedder, [t for _, t in short + passages])
    documents = [" ".join(dict.fromkeys((a.title, *a.questions, a.body))) for a in articles]
    stopwords = "it" if all(a.lang == "it" for a in articles) else "en"

    def per_entry(unit_scores: np.ndarray, owners: np.ndarray) -> np.ndarray:
        out = np.full((unit_scores.shape[0], len(articles)), -np.inf)
        for i in range(len(articles)):
            out[:, i] = unit_scores[:, owners == i].max(axis=1)
        return out

    retriever = bm25s.BM25()
    tokenized = bm25s.tokenize(documents, stopwords=stopwords, show_progress=False)
    retriever.index(tokenized, show_progress=False)

    def bm25(qs):
        tokens = bm25s.tokenize([q.text for q in qs], stopwords=stopwords, show_progress=False)
        vocab = {v: k for k, v in tokens.vocab.items()}
        rows = []
        for ids in tokens.ids:
            words = [vocab[i] for i in ids if vocab[i] in retriever.vocab_dict]
            rows.append(retriever.get_scores(words) if words else np.zeros(len(documents)))
        return np.array(rows)

    def dense(qs):
        return per_entry(cache.embed(embedder, [q.text for q in qs]) @ kb_vectors.T, dense_owner)

    norm_texts = [normalise(t) for t in texts]

    def fuzzy(qs):
        return per_entry(
            process.cdist(
                [normalise(q.text) for q in qs], norm_texts, scorer=fuzz.token_set_ratio, workers=-1
            ),
            owner,
        )

    return {
        "BM25 (bm25s), title + questions + answer": (dev, test, bm25(dev), bm25(test)),
        "all-MiniLM-L6-v2 max cosine, questions + answer paragraphs": (dev, test, dense(dev), dense(test)),
        "rapidfuzz token_set_ratio, title + questions": (dev, test, fuzzy(dev), fuzzy(test)),
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
    # a peer answers or hands off: no "did you mean"
    report.update(
        correct=rates["correct"],
        wrong=rates["wrong"],
        clarify=0.0,
        handoff=1 - rates["correct"] - rates["wrong"],
    )
    report["self_served"] = rates["correct"] * len(test) / max(1, sum(bool(q.gold) for q in test))
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--tune-epochs", type=int, default=0, help="for the labelled protocol")
    args = parser.parse_args(argv)
    folders = data_folders(args.folders)
    # rows of the data sets not run this time stay as they were measured
    rows = {name: kept for name, kept in previous_rows().items() if name not in {f.name for f in folders}}
    command = " ".join(["python scripts/bench_quality.py", *argv])
    for folder in folders:
        lines = []
        for protocol in PROTOCOLS:
            print(f"{folder.name}: faqbot {protocol}", file=sys.stderr, flush=True)
            epochs = args.tune_epochs if protocol == "labelled" else 0  # as `faqbot build` serves
            tuned = ", model tuned" if epochs else ""
            try:
                lines.append(
                    row(folder.name, f"**faqbot {protocol}**{tuned}", faqbot(folder, protocol, epochs))
                )
            except subprocess.CalledProcessError as exc:  # say so in the table, and measure the rest
                reason = (exc.stderr or "").strip().splitlines()[-1:] or ["no message"]
                print(f"{folder.name}: faqbot {protocol} failed: {reason[0]}", file=sys.stderr, flush=True)
                lines.append(f"| {folder.name} | **faqbot {protocol}** failed: {reason[0]} |")
        for method, (dev, test, dev_s, test_s) in peer_scores(folder).items():
            print(f"{folder.name}: {method}", file=sys.stderr, flush=True)
            lines.append(row(folder.name, method, peer_report(folder, dev, test, dev_s, test_s)))
        rows[folder.name] = lines
        write_table(rows, command)  # after each data set: a long run that stops keeps what it measured


def previous_rows() -> dict[str, list[str]]:
    """The table's rows now in docs/benchmarks.md, by data set."""
    text = DOC.read_text(encoding="utf-8")
    if START not in text:
        return {}
    block = text.split(START, 1)[1].split(END, 1)[0]
    rows: dict[str, list[str]] = {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| ") and cells[0] not in ("data set", "") and not cells[0].startswith("-"):
            rows.setdefault(cells[0], []).append(line)
    return rows


def write_table(rows: dict[str, list[str]], command: str) -> None:
    machine = f"{os.cpu_count()} CPU cores, Python {platform.python_version()}, {platform.machine()}"
    lines = ["| data set | method | " + " | ".join(COLUMNS) + " |", "|---|---|" + "---|" * len(COLUMNS)]
    for name in sorted(rows, key=lambda n: (FAQ_SETS.index(n) if n in FAQ_SETS else len(FAQ_SETS), n)):
        lines += rows[name]
    block = "\n".join(
        [
            START,
            f"Measured {dt.date.today().isoformat()} on {machine} with `{command}` (test split; "
            "`day-one` and `curated` serve with the thresholds a build serves with; `labelled` and the "
            "peers answer at the dev-fitted threshold for a 5% wrong-answer target; a peer answers or "
            'hands off, it has no "did you mean"). Rows of data sets not named in the command are kept '
            "from the run before.",
            "",
            *lines,
            END,
        ]
    )
    write_block(DOC, START, END, "Public benchmarks", block)
    print(block)


if __name__ == "__main__":
    main(sys.argv[1:])

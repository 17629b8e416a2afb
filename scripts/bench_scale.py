#!/usr/bin/env python3
"""Retrieval as the knowledge base grows (results in docs/benchmarks.md).

1. Dense search alone, 1k to 1M synthetic vectors (one per article), with the FAISS index the
   product chooses by size (`bot.index.dense.make_faiss`): build time, search p50/p99 for the k the
   retriever asks for, top-1 agreement with exact search, resident memory in RAM and memory-mapped.
   The vectors are clustered like sentence embeddings (topics plus noise); queries are new points
   near stored ones, never stored vectors themselves.
2. The whole product at 1k and 10k synthetic articles: `faqbot build` cold and warm (embedding
   cache), then the full hybrid `Retriever.search` (model encode excluded and included) and memory.

    .venv/bin/python scripts/bench_scale.py [--dense 1000,10000,100000,1000000] [--kb 1000,10000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchdoc import write_block  # noqa: E402

from bot.index.dense import exact_top1, make_faiss  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench_scale:start -->", "<!-- bench_scale:end -->"
DIM, K = 384, 200  # MiniLM's dimension; the retriever asks the index for 10 x 20 units


def rss_mb() -> float:
    """Resident memory of this process now (from /proc), in MiB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def clustered(n: int, rng: np.random.Generator) -> np.ndarray:
    topics = rng.standard_normal((max(8, n // 50), DIM)).astype(np.float32)
    vectors = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 100_000):
        size = min(100_000, n - start)
        part = topics[rng.integers(0, len(topics), size)]
        part += 0.7 * rng.standard_normal((size, DIM)).astype(np.float32)
        vectors[start : start + size] = part / np.linalg.norm(part, axis=1, keepdims=True)
    return vectors


def near(vectors: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """New queries close to stored vectors (cosine about 0.9), as paraphrases are."""
    picked = vectors[rng.choice(len(vectors), size=count, replace=False)]
    noise = rng.standard_normal(picked.shape).astype(np.float32)
    queries = picked + 0.45 * noise / np.linalg.norm(noise, axis=1, keepdims=True)
    return queries / np.linalg.norm(queries, axis=1, keepdims=True)


def timed_search(index: faiss.Index, queries: np.ndarray) -> tuple[np.ndarray, list[float]]:
    found, times = [], []
    for query in queries:
        started = time.perf_counter()
        _, ids = index.search(query[None, :], K)
        times.append((time.perf_counter() - started) * 1000)
        found.append(ids[0, 0])
    return np.array(found), times


def dense_row(n: int, rng: np.random.Generator) -> dict:
    gc.collect()
    vectors = clustered(n, rng)
    queries = near(vectors, 500, rng)
    before = rss_mb()
    started = time.perf_counter()
    index = make_faiss(vectors, ann_threshold=200_000)  # the product's default
    build_s = time.perf_counter() - started
    found, times = timed_search(index, queries)
    exact, _ = exact_top1(vectors, queries)
    row = {
        "n": n,
        "type": type(index).__name__,
        "nprobe": getattr(index, "nprobe", "-"),
        "build_s": build_s,
        "p50": float(np.percentile(times, 50)),
        "p99": float(np.percentile(times, 99)),
        "agree": float(np.mean(found == exact)),
        "ram_mb": rss_mb() - before,
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "vectors.faiss")
        faiss.write_index(index, path)
        row["file_mb"] = os.path.getsize(path) / 2**20
        del index
        gc.collect()
        before = rss_mb()
        mapped = faiss.read_index(path, faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
        if hasattr(mapped, "nprobe"):
            mapped.nprobe = row["nprobe"]
        found, times = timed_search(mapped, queries)
        row["mmap_mb"] = rss_mb() - before
        row["mmap_p99"] = float(np.percentile(times, 99))
        row["mmap_agree"] = float(np.mean(found == exact))
        del mapped
    return row


WORDS = {
    "en": [
        "order",
        "parcel",
        "refund",
        "voucher",
        "sofa",
        "lamp",
        "rug",
        "mattress",
        "invoice",
        "warranty",
        "delivery",
        "courier",
        "account",
        "password",
        "return",
        "exchange",
        "discount",
        "colour",
        "size",
        "fabric",
        "cushion",
        "shelf",
        "mirror",
    ],
    "it": [
        "ordine",
        "pacco",
        "rimborso",
        "buono",
        "divano",
        "lampada",
        "tappeto",
        "materasso",
        "fattura",
        "garanzia",
        "consegna",
        "corriere",
        "account",
        "password",
        "reso",
        "cambio",
        "sconto",
        "colore",
        "misura",
        "tessuto",
        "cuscino",
        "mensola",
    ],
}
FRAMES = {
    "en": ["How do I {a} my {b} {c}?", "Can I {a} the {b} for {c}?", "What if my {b} {c} needs a {a}?"],
    "it": ["Come posso {a} il {b} {c}?", "Posso {a} il {b} per {c}?", "Cosa fare se il {b} {c} va {a}?"],
}
VERBS = {
    "en": ["track", "cancel", "change", "return", "pay", "repair"],
    "it": ["tracciare", "annullare", "cambiare", "restituire", "pagare", "riparare"],
}


def synthetic_kb(folder: Path, n: int, rng: np.random.Generator) -> None:
    """`n` valid articles, half Italian and half English, each with a title, 3 questions and a
    short answer made of shop words (series numbers keep them distinct)."""
    for i in range(n):
        lang = "it" if i % 2 else "en"
        words, verbs = WORDS[lang], VERBS[lang]
        pick = lambda words=words: str(rng.choice(words))  # noqa: E731
        questions = [
            FRAMES[lang][q].format(a=rng.choice(verbs), b=pick(), c=f"{pick()} {i}") for q in range(3)
        ]
        body = " ".join(f"{pick().capitalize()} {pick()} {pick()} {i}." for _ in range(6))
        (folder / lang).mkdir(parents=True, exist_ok=True)
        (folder / lang / f"a{i}.md").write_text(
            f"---\nid: a{i}\nlang: {lang}\ntitle: {pick().capitalize()} {pick()} {i}\nquestions:\n"
            + "".join(f'  - "{q}"\n' for q in questions)
            + f"status: published\n---\n{body}\n",
            encoding="utf-8",
        )


def kb_row(n: int, rng: np.random.Generator) -> dict:
    from bot.config import Settings
    from bot.retrieval.embedder import load_embedder
    from bot.retrieval.language import LanguageDetector
    from bot.retrieval.search import Retriever

    with tempfile.TemporaryDirectory(prefix="faqbot-scale-") as tmp:
        home = Path(tmp)
        synthetic_kb(home / "kb_articles", n, rng)
        env = {**os.environ, "FAQBOT_HOME": str(home), "HF_HUB_OFFLINE": "1"}
        faqbot = str(Path(sys.executable).with_name("faqbot"))
        row = {"n": n}
        for run in ("cold", "warm"):
            started = time.perf_counter()
            subprocess.run([faqbot, "build"], env=env, check=True, capture_output=True)
            row[f"build_{run}_s"] = time.perf_counter() - started
        before = rss_mb()
        settings = Settings(home=home)
        embedder = load_embedder(settings.model)
        retriever = Retriever.from_root(settings.index_path, embedder, LanguageDetector()).load()
        row["ram_mb"] = rss_mb() - before
        questions = [f"{rng.choice(WORDS['en'])} {rng.choice(WORDS['en'])} {i} please" for i in range(300)]
        vectors = embedder.encode(questions)
        for text, vector in zip(questions[:20], vectors[:20], strict=True):
            retriever.search_vector(text, vector)  # warm up
        search, full = [], []
        for text, vector in zip(questions, vectors, strict=True):
            started = time.perf_counter()
            retriever.search_vector(text, vector)
            search.append((time.perf_counter() - started) * 1000)
        for text in questions[:100]:
            started = time.perf_counter()
            retriever.search(text)
            full.append((time.perf_counter() - started) * 1000)
        row |= {
            "units": len(retriever.corpus.units),
            "p50": float(np.percentile(search, 50)),
            "p99": float(np.percentile(search, 99)),
            "full_p50": float(np.percentile(full, 50)),
        }
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dense", default="1000,10000,100000,1000000")
    parser.add_argument("--kb", default="1000,10000")
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)  # as a serving process runs (bot/retrieval/compute.py)
    rng = np.random.default_rng(0)
    dense = [dense_row(int(n), rng) for n in args.dense.split(",") if n]
    for row in dense:
        print(row, file=sys.stderr)
    kbs = [kb_row(int(n), rng) for n in args.kb.split(",") if n]
    for row in kbs:
        print(row, file=sys.stderr)
    machine = f"{os.cpu_count()} CPU cores, Python {platform.python_version()}, {platform.machine()}"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    lines = [
        START,
        f"Measured {dt.date.today().isoformat()} on {machine} with "
        f"`python scripts/bench_scale.py --dense {args.dense} --kb {args.kb}` (peak RSS {peak:.0f} MiB).",
        "",
        "Dense search alone (synthetic clustered vectors, 384 dimensions, one per article; "
        f"500 new queries; k = {K}; FAISS on one thread):",
        "",
        "| vectors | index (nprobe) | build | p50 / p99 | top-1 = exact | RAM | file "
        "| mmap: RAM, p99, top-1 |",
        "|---|---|---|---|---|---|---|---|",
        *(
            f"| {r['n']:,} | {r['type']} ({r['nprobe']}) | {r['build_s']:.1f} s | {r['p50']:.2f} / "
            f"{r['p99']:.2f} ms | {r['agree']:.3f} | {r['ram_mb']:.0f} MiB | {r['file_mb']:.0f} MiB | "
            f"{r['mmap_mb']:.0f} MiB, {r['mmap_p99']:.2f} ms, {r['mmap_agree']:.3f} |"
            for r in dense
        ),
        "",
        "The whole product on synthetic knowledge bases (half Italian, half English; title, 3 questions "
        "and an answer each): `faqbot build` cold, then warm (nothing changed), and the full hybrid "
        "search (dense + BM25 + fuzzy + head + fusion) for 300 new questions:",
        "",
        "| articles | texts | build cold / warm | search p50 / p99 (query vector given) "
        "| search p50 with encode | RAM of the loaded index |",
        "|---|---|---|---|---|---|",
        *(
            f"| {r['n']:,} | {r['units']:,} | {r['build_cold_s']:.1f} s / {r['build_warm_s']:.1f} s | "
            f"{r['p50']:.1f} / {r['p99']:.1f} ms | {r['full_p50']:.1f} ms | {r['ram_mb']:.0f} MiB |"
            for r in kbs
        ),
        END,
    ]
    block = "\n".join(lines)
    write_block(DOC, START, END, "Scale", block)
    print(block)


if __name__ == "__main__":
    main()

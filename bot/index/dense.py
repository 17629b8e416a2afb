"""The dense index: exact inner product for small collections, IVF with a measured nprobe above."""

from __future__ import annotations

import math

import faiss
import numpy as np


def make_faiss(vectors: np.ndarray, ann_threshold: int) -> faiss.Index:
    """Exact inner product below `ann_threshold` vectors; above, an inverted-file index (IVF-Flat).

    IVF builds in time linear in the collection (HNSW took about 1 ms per vector on two cores, too
    slow for a nightly rebuild of a million), can be memory-mapped, and its `nprobe` is chosen from
    the collection itself (`choose_nprobe`), not guessed."""
    n, dim = vectors.shape
    if n < ann_threshold:
        index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return index
    nlist = max(1, min(int(math.sqrt(n)), n // 39))  # k-means wants 39+ points per list
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    sample = vectors[np.sort(rng.choice(n, size=min(n, 40 * nlist), replace=False))]
    ivf.train(sample)
    ivf.add(vectors)
    ivf.nprobe = choose_nprobe(ivf, vectors, rng)
    return ivf


def exact_top1(
    vectors: np.ndarray, queries: np.ndarray, chunk: int = 200_000
) -> tuple[np.ndarray, np.ndarray]:
    """Row of the best inner product for each query, by brute force in chunks (bounded memory)."""
    best = np.zeros(len(queries), dtype=np.int64)
    best_score = np.full(len(queries), -np.inf, dtype=np.float32)
    columns = np.arange(len(queries))
    for start in range(0, len(vectors), chunk):
        scores = vectors[start : start + chunk] @ queries.T
        top = np.argmax(scores, axis=0)
        value = scores[top, columns]
        better = value > best_score
        best[better], best_score[better] = top[better] + start, value[better]
    return best, best_score


def choose_nprobe(
    index: faiss.IndexIVF,
    vectors: np.ndarray,
    rng: np.random.Generator,
    target: float = 0.98,
    probes: int = 300,
) -> int:
    """The smallest nprobe whose top hit agrees with exact search on `target` of probe queries:
    stored vectors blurred with noise (cosine about 0.8 to the original), as a paraphrase would be."""
    picked = vectors[rng.choice(len(vectors), size=min(probes, len(vectors)), replace=False)]
    noise = rng.standard_normal(picked.shape).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    queries = picked + 0.75 * noise
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    best, best_score = exact_top1(vectors, queries)
    nprobe = 1
    while nprobe < index.nlist:
        index.nprobe = nprobe
        _, found = index.search(queries, 1)
        if np.mean(found[:, 0] == best) >= target:
            return nprobe
        nprobe *= 2
    return index.nlist

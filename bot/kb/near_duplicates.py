"""Pairs of very similar questions (rapidfuzz ratio at least `RATIO`), found without comparing all
pairs, and remembered between builds so that only new questions are compared again.

A ratio r needs lengths within a factor (100 - (100 - r)) / (100 + (100 - r)) of each other, so each
block of questions is compared only with questions of similar length. With a cache file, a build
compares just the questions that are new since the last one with all the others; the pairs among
questions it had already seen are taken from the file. An unreadable cache is ignored.
"""

from __future__ import annotations

import bisect
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

RATIO = 92.0  # questions of two articles this similar (on normalised text) are a likely conflict
CACHE_FORMAT = 1
log = logging.getLogger("faqbot.validate")


def similar_pairs(
    groups: dict[str, list[str]], cache: Path | None = None
) -> dict[str, list[tuple[str, str]]]:
    """For each group of distinct keys, its pairs with a ratio >= RATIO, each pair (a, b) with `a`
    before `b` in the group sorted by length (stable), the pairs in that order."""
    previous = _read(cache) if cache is not None else {}
    found = {}
    for name, keys in groups.items():
        ordered = sorted(keys, key=len)
        seen = previous.get(name)
        if seen is None:
            pairs = _pairs(ordered, ordered)
        else:
            known, known_pairs = set(seen["keys"]), seen["pairs"]
            present = set(ordered)
            kept = [(a, b) for a, b in known_pairs if a in present and b in present]
            new = [k for k in ordered if k not in known]
            pairs = kept + _pairs(new, ordered)
        position = {key: i for i, key in enumerate(ordered)}
        oriented = {(a, b) if position[a] < position[b] else (b, a) for a, b in pairs if a != b}
        found[name] = sorted(oriented, key=lambda p: (position[p[0]], position[p[1]]))
    if cache is not None:
        _write(cache, {name: {"keys": keys, "pairs": found[name]} for name, keys in groups.items()})
    return found


def _pairs(rows: list[str], columns: list[str], block: int = 512) -> list[tuple[str, str]]:
    """Pairs (row, column) with a ratio >= RATIO; both lists sorted by length."""
    slack = 100.0 - RATIO
    factor = (100.0 - slack) / (100.0 + slack)
    lengths = [len(k) for k in columns]
    pairs: list[tuple[str, str]] = []
    for start in range(0, len(rows), block):
        chunk = rows[start : start + block]
        low = bisect.bisect_left(lengths, len(chunk[0]) * factor)
        high = bisect.bisect_right(lengths, len(chunk[-1]) / factor)
        window = columns[low:high]
        if not window:
            continue
        scores = process.cdist(
            chunk, window, scorer=fuzz.ratio, score_cutoff=RATIO, dtype=np.uint8, workers=-1
        )
        pairs.extend((chunk[r], window[c]) for r, c in zip(*scores.nonzero(), strict=True))
    return pairs


# The cache's groups: {name: {"keys": [key, ...], "pairs": [(a, b), ...]}}, as read from JSON.
def _read(cache: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
        if data.get("format") != CACHE_FORMAT or data.get("ratio") != RATIO:
            return {}
        return {
            name: {"keys": list(g["keys"]), "pairs": [tuple(p) for p in g["pairs"]]}
            for name, g in data["groups"].items()
        }
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("ignoring the near-duplicate cache %s: %s", cache, exc)
        return {}


def _write(cache: Path, groups: dict[str, dict[str, Any]]) -> None:
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        payload = {"format": CACHE_FORMAT, "ratio": RATIO, "groups": groups}
        partial.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        os.replace(partial, cache)
    except OSError as exc:  # a cache that cannot be written only makes the next build slower
        log.warning("could not write the near-duplicate cache %s: %s", cache, exc)

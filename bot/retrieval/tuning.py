"""Encoder tuning: adapt the sentence-transformers model to the knowledge base's own phrasings.

Each article's title and alternate questions are positives for one another. A multiple-negatives
ranking loss (the other pairs of a batch are the negatives; no article twice in a batch) pulls an
article's phrasings together and pushes other articles' apart, so customer questions land nearer
their article and questions no article covers stay further from all of them.

Tuned models are kept in `index/cache/models/<key>`, keyed by the base model, the recipe and the
training texts. A build reuses the newest tuned model that has seen most of today's texts (a few
new questions do not warrant a new model: the head and fusion, refitted every build, learn them);
`faqbot build --retune` always tunes afresh.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeGuard

from bot.retrieval.embedder import (
    Embedder,
    SentenceTransformerEmbedder,
    offline_and_quiet,
    resolve_model_path,
)

RECIPE_FORMAT = 1  # bump when the training loop changes: older tuned models are then not reused
TUNING_FILE = "faqbot_tuning.json"


@dataclass(frozen=True)
class Recipe:
    """How a model is tuned. `max_pairs` bounds one epoch, so a large KB tunes in bounded time."""

    epochs: int = 3
    learning_rate: float = 2e-5
    batch_size: int = 32
    max_pairs: int = 4000
    seed: int = 13
    refresh: float = 0.1  # tune afresh when more than this share of the texts is new to the model

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 2 or self.max_pairs < 1:
            raise ValueError(f"bad tuning recipe: {self}")
        if not 0 <= self.refresh < 1:
            raise ValueError(f"refresh must be in [0, 1), got {self.refresh}")

    def key_part(self) -> str:
        fields = asdict(self)
        fields.pop("refresh")  # when to retune, not how: it does not change the model
        return json.dumps({"format": RECIPE_FORMAT, **fields}, sort_keys=True)


@dataclass(frozen=True)
class Tuned:
    """A tuned model on disk: its id (the embedding cache and the manifest name it by this)."""

    model_id: str
    path: Path
    reused: bool
    seconds: float = 0.0


def text_hashes(examples: Sequence[tuple[str, str]]) -> set[str]:
    """Short hashes of (article id, text) pairs: what a tuned model was trained on."""
    return {hashlib.sha256(f"{a}\0{t}".encode()).hexdigest()[:16] for a, t in examples}


def tuned_key(base_id: str, recipe: Recipe, hashes: set[str]) -> str:
    """The cache key of a model tuned from `base_id` with `recipe` on texts with these `hashes`."""
    parts = [base_id, recipe.key_part(), *sorted(hashes)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]


def tuned_model_id(base_id: str, key: str) -> str:
    return f"{base_id}+tuned-{key}"


class ModelTuner:
    """Finds or trains the tuned model for a KB's (article id, text) examples under `cache_root`."""

    def __init__(self, cache_root: Path, recipe: Recipe | None = None, log: Callable[[str], None] = print):
        self.cache_root = cache_root
        self.recipe = recipe or Recipe()
        self.log = log

    def tuned(
        self, base: SentenceTransformerEmbedder, examples: list[tuple[str, str]], retune: bool = False
    ) -> Tuned:
        """The tuned model for `examples`: the exact one if cached, else (unless `retune`) the newest
        one that has seen all but `refresh` of them, else a new one."""
        hashes = text_hashes(examples)  # hashed once: the key, the reuse check and the record
        key = tuned_key(base.model_id, self.recipe, hashes)
        exact = self.cache_root / key
        if (exact / TUNING_FILE).is_file():
            return Tuned(tuned_model_id(base.model_id, key), exact, reused=True)
        if not retune:
            close = self._close_enough(base.model_id, hashes)
            if close is not None:
                return Tuned(tuned_model_id(base.model_id, close.name), close, reused=True)
        started = time.perf_counter()
        train(base, examples, self.recipe, exact, self.log)
        self._write_tuning(exact, base.model_id, hashes, examples, time.perf_counter() - started)
        self._prune(keep=exact)
        return Tuned(tuned_model_id(base.model_id, key), exact, False, time.perf_counter() - started)

    def _close_enough(self, base_id: str, wanted: set[str]) -> Path | None:
        for folder in sorted(self._models(), key=lambda p: p.stat().st_mtime, reverse=True):
            info = json.loads((folder / TUNING_FILE).read_text(encoding="utf-8"))
            if info.get("base") != base_id or info.get("recipe") != self.recipe.key_part():
                continue
            seen = set(info.get("texts", ()))
            if len(wanted - seen) <= self.recipe.refresh * len(wanted):
                return folder
        return None

    def _models(self) -> list[Path]:
        if not self.cache_root.is_dir():
            return []
        return [p for p in self.cache_root.iterdir() if (p / TUNING_FILE).is_file()]

    def _write_tuning(
        self, folder: Path, base_id: str, hashes: set[str], examples: list[tuple[str, str]], seconds: float
    ) -> None:
        info = {
            "base": base_id,
            "recipe": self.recipe.key_part(),
            "texts": sorted(hashes),
            "articles": len({a for a, _ in examples}),
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "seconds": round(seconds, 1),
        }
        tmp = folder / f".{TUNING_FILE}.tmp"
        tmp.write_text(json.dumps(info), encoding="utf-8")
        os.replace(tmp, folder / TUNING_FILE)  # written last: a folder without it is unfinished

    def _prune(self, keep: Path, newest: int = 3) -> None:
        """Keep the newest few tuned models (versions still served hold hard links to theirs)."""
        models = sorted(self._models(), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in [m for m in models if m != keep][newest - 1 :]:
            shutil.rmtree(old, ignore_errors=True)


def train(
    base: SentenceTransformerEmbedder,
    examples: list[tuple[str, str]],
    recipe: Recipe,
    out: Path,
    log: Callable[[str], None],
) -> None:
    """Tune a fresh copy of the base model on the examples and save it to `out`."""
    offline_and_quiet()
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    torch.manual_seed(recipe.seed)
    model = SentenceTransformer(str(resolve_model_path(base.model_name)), device="cpu")
    loss = MultipleNegativesRankingLoss(model)
    optimiser = torch.optim.AdamW(model.parameters(), lr=recipe.learning_rate)
    rng = random.Random(recipe.seed)
    model.train()
    for epoch in range(recipe.epochs):
        batches = pair_batches(examples, recipe.batch_size, recipe.max_pairs, rng)
        total = 0.0
        for batch in batches:
            anchors = model.preprocess([a for a, _ in batch])
            positives = model.preprocess([p for _, p in batch])
            value = loss([anchors, positives], None)
            optimiser.zero_grad()
            value.backward()
            optimiser.step()
            total += value.item()
        mean = total / max(1, len(batches))
        log(f"tuning epoch {epoch + 1}/{recipe.epochs}: {len(batches)} batches, loss {mean:.3f}")
    model.eval()
    staging = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    model.save(str(staging))
    shutil.rmtree(out, ignore_errors=True)
    os.replace(staging, out)


def pair_batches(
    examples: list[tuple[str, str]], batch_size: int, max_pairs: int, rng: random.Random
) -> list[list[tuple[str, str]]]:
    """(anchor, positive) pairs of one epoch, each text with another phrasing of its article, in
    batches where no article appears twice (its other pair would be a false negative)."""
    by_article: dict[str, list[str]] = {}
    for article, text in examples:
        by_article.setdefault(article, []).append(text)
    # One copy of each phrasing: an entry whose title is its only question has one, not two.
    by_article = {article: list(dict.fromkeys(texts)) for article, texts in by_article.items()}
    pairs = [
        (article, text, rng.choice([t for t in texts if t != text]))
        for article, texts in by_article.items()
        if len(texts) > 1
        for text in texts
    ]
    rng.shuffle(pairs)
    pairs = pairs[:max_pairs]
    batches: list[list[tuple[str, str]]] = []
    while pairs:
        batch: list[tuple[str, str]] = []
        used: set[str] = set()
        rest: list[tuple[str, str, str]] = []
        for article, anchor, positive in pairs:
            if article in used or len(batch) == batch_size:
                rest.append((article, anchor, positive))
            else:
                batch.append((anchor, positive))
                used.add(article)
        if len(batch) > 1:  # a lone pair has no negatives to learn from
            batches.append(batch)
        pairs = rest  # every round takes at least one pair
    return batches


def tunable(embedder: Embedder) -> TypeGuard[SentenceTransformerEmbedder]:
    """Only a real sentence-transformers model can be tuned (test fakes and wrappers are not)."""
    return isinstance(embedder, SentenceTransformerEmbedder)

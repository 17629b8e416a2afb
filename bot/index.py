"""Build, publish and load index versions: FAISS vectors, BM25, articles and a manifest."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import os
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from bot import __version__
from bot.articles import Article
from bot.durable import fsync_dir, fsync_file
from bot.fusion import CONF_FEATURES, RANK_FEATURES
from bot.head import fit_head
from bot.lexical import LexicalIndex

CURRENT = "current"
MANIFEST = "manifest.json"
FORMAT = 1
# Inner product on L2-normalised vectors equals cosine similarity.
METRIC = "inner_product_normalised"


class IndexError_(Exception):
    """An index version is missing, corrupt or incompatible; the message says which file and why."""


@dataclass(frozen=True)
class Unit:
    """One embedded text of an article: its title, one alternate question or one answer paragraph."""

    article: int
    kind: str  # "title" | "question" | "answer"
    text: str


@dataclass(frozen=True)
class Manifest:
    """How an index version was built; refuse to serve it with another model or dimension."""

    version: str
    created_at: str
    model: str
    dimension: int
    metric: str
    faiss_type: str
    counts: dict[str, Any]
    kb_hash: str
    files: dict[str, str]
    fusion: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    faqbot_version: str = __version__
    format: int = FORMAT
    fit_key: str = ""  # what the head and fusion models were learned from (see `fit_key`)
    base_model: str = ""  # set when `model` is a copy of this one tuned on the KB (in model/)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_file(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise IndexError_(f"{path}: unreadable manifest ({exc})") from exc


# Bump when the head, BM25 tokenizer, language detection, how a fusion feature is computed or how
# they are fitted change (the features' names are in the key).
FIT_FORMAT = 5


def fit_key(kb: str, model: str, dimension: int, languages: Sequence[str]) -> str:
    """The learned parts of a version (classification head, fusion models) and its BM25 index depend
    only on the indexed content, the model, the languages detected and the fitting code: equal keys,
    equal files."""
    features = ",".join((*RANK_FEATURES, *CONF_FEATURES))
    parts = [str(FIT_FORMAT), features, model, str(dimension), ",".join(languages), kb]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def fitted_version(root: Path, key: str) -> tuple[Path, Manifest] | None:
    """A version under `root` whose head and fusion were fitted for `key` (the live one first)."""
    live = current_version(root)
    names = sorted((p.name for p in root.glob("v-*") if p.is_dir()), reverse=True)
    for name in ([live] if live else []) + [n for n in names if n != live]:
        try:
            manifest = Manifest.from_file(root / name / MANIFEST)
            verify(root / name, manifest)
        except IndexError_:
            continue
        if manifest.fit_key == key:
            return root / name, manifest
    return None


def article_units(articles: list[Article]) -> list[Unit]:
    """Every text to embed: title, alternate questions and answer paragraphs of each article."""
    units = []
    for i, article in enumerate(articles):
        units.append(Unit(i, "title", article.title))
        units.extend(Unit(i, "question", q) for q in article.questions)
        units.extend(Unit(i, "answer", p) for p in article.paragraphs())
    return units


def article_record(article: Article) -> dict[str, Any]:
    """What the serving side needs of an article, as stored in articles.json."""
    return {
        "id": article.id,
        "lang": article.lang,
        "title": article.title,
        "questions": list(article.questions),
        "body": article.body,
        "summary": article.summary,
        "tags": list(article.tags),
        "translation_of": article.translation_of,
        "handoff": article.handoff,
        "follow_ups": list(article.follow_ups),
        "path": str(article.path),
    }


def kb_hash(articles: list[Article]) -> str:
    """A fingerprint of the indexed content, independent of file order."""
    digest = hashlib.sha256()
    for record in sorted(json.dumps(article_record(a), sort_keys=True) for a in articles):
        digest.update(record.encode())
    return digest.hexdigest()


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
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    sample = vectors[np.sort(rng.choice(n, size=min(n, 40 * nlist), replace=False))]
    index.train(sample)
    index.add(vectors)
    index.nprobe = choose_nprobe(index, vectors, rng)
    return index


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


@dataclass
class IndexWriter:
    """Writes one version folder, then publishes it by atomically re-pointing `current`."""

    root: Path
    keep: int = 3
    log: Callable[[str], None] = lambda message: None

    def new_version(self) -> tuple[str, Path]:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        version = f"v-{stamp}"
        staging = self.root / f".tmp-{version}"
        staging.mkdir(parents=True)
        return version, staging

    def finish(self, staging: Path, manifest: Manifest, publish: bool = True) -> Path:
        """Fsync everything and move the staging folder into place; with `publish`, also point
        `current` at it (else the version waits, complete, for a quality gate)."""
        (staging / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
        for path in staging.rglob("*"):
            if path.is_file():
                fsync_file(path)
        fsync_dir(staging)
        final = self.root / manifest.version
        os.replace(staging, final)
        fsync_dir(self.root)
        if publish:
            self.publish(manifest.version)
            self.prune()
        return final

    def publish(self, version: str) -> None:
        """Re-point `current` with a symlink made beside it and renamed over it (atomic)."""
        link = self.root / f".{CURRENT}.{version}.tmp"
        link.unlink(missing_ok=True)
        link.symlink_to(version, target_is_directory=True)
        os.replace(link, self.root / CURRENT)
        fsync_dir(self.root)
        self.log(f"published index {version}")

    def prune(self) -> None:
        """Keep the newest `keep` versions (always the live one); drop abandoned staging folders."""
        live = current_version(self.root)
        versions = sorted(p for p in self.root.glob("v-*") if p.is_dir())
        for old in versions[: max(0, len(versions) - self.keep)]:
            if old.name != live:
                shutil.rmtree(old, ignore_errors=True)
        for staging in self.root.glob(".tmp-v-*"):
            shutil.rmtree(staging, ignore_errors=True)


def write_version_files(
    staging: Path,
    articles: list[Article],
    units: list[Unit],
    vectors: np.ndarray,
    ann_threshold: int,
    fitted: Path | None = None,
) -> tuple[str, LexicalIndex]:
    """Write vectors.faiss, the classification head (copied from `fitted`, a version with the same
    fit key, if given), the lexical index (also copied from `fitted`) and articles.json; return the
    FAISS type."""
    index = make_faiss(vectors, ann_threshold)
    faiss.write_index(index, str(staging / "vectors.faiss"))
    if fitted is not None:
        if (fitted / "head.npz").is_file():
            shutil.copyfile(fitted / "head.npz", staging / "head.npz")
    else:
        head = train_head(articles, units, vectors)
        if head is not None:
            head.save(staging / "head.npz")
    if fitted is not None and (fitted / "lexical").is_dir():
        shutil.copytree(fitted / "lexical", staging / "lexical")
        lexical = LexicalIndex.load(staging / "lexical")
    else:
        lexical = LexicalIndex.build([u.text for u in units], [articles[u.article].lang for u in units])
        lexical.save(staging / "lexical")
    payload = {
        "articles": [article_record(a) for a in articles],
        "units": [[u.article, u.kind, u.text] for u in units],
    }
    (staging / "articles.json").write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return type(index).__name__, lexical


def head_examples(units: list[Unit]) -> np.ndarray:
    """Positions of the units the classification head learns from: titles and questions."""
    return np.array([i for i, u in enumerate(units) if u.kind != "answer"], dtype=np.int64)


def train_head(articles: list[Article], units: list[Unit], vectors: np.ndarray, max_articles: int = 5000):
    """The classification head over titles and questions (None for one article, or too many)."""
    if len(articles) > max_articles:
        return None
    rows = head_examples(units)
    labels = np.array([units[i].article for i in rows])
    return fit_head(vectors[rows], labels, len(articles))


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Replace a version's manifest atomically (e.g. to record its evaluation metrics)."""
    tmp = folder / f".{MANIFEST}.tmp"
    tmp.write_text(manifest.to_json(), encoding="utf-8")
    fsync_file(tmp)
    os.replace(tmp, folder / MANIFEST)
    fsync_dir(folder)


def checksums(folder: Path) -> dict[str, str]:
    """sha256 of every file in a version folder except the manifest, by relative path."""
    return {
        str(p.relative_to(folder)): _sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def current_version(root: Path) -> str | None:
    """The version `current` points at, or None when nothing is published."""
    link = root / CURRENT
    return os.readlink(link) if link.is_symlink() else None


def resolve(root: Path, version: str | None = None) -> Path:
    """The folder of `version`, or of the live version."""
    version = version or current_version(root)
    if version is None:
        raise IndexError_(f"no index published in {root}; run `faqbot build` first")
    folder = root / version
    if not (folder / MANIFEST).is_file():
        raise IndexError_(f"{folder}: index version has no {MANIFEST}")
    return folder


def verify(folder: Path, manifest: Manifest) -> None:
    """Refuse a version whose files do not match the checksums in its manifest."""
    for name, expected in manifest.files.items():
        path = folder / name
        if not path.is_file():
            raise IndexError_(f"{path}: listed in the manifest but missing")
        if _sha256(path) != expected:
            raise IndexError_(f"{path}: checksum mismatch (corrupt or half-written)")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

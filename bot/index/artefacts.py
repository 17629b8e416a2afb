"""An index version's artefacts on disk: manifest, units, article records, checksums, verification."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import __version__
from bot.fsync import fsync_dir, fsync_file

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
class ArticleRecord:
    """What the serving side needs of an article, as a version's articles.json holds it."""

    id: str
    lang: str
    title: str
    questions: tuple[str, ...] = ()
    body: str = ""
    summary: str = ""  # the first paragraph, in plain text
    tags: tuple[str, ...] = ()
    translation_of: str | None = None
    handoff: bool = False  # answer, then always offer a person
    follow_ups: tuple[str, ...] = ()
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The record as articles.json stores it (these keys in this order, lists for tuples)."""
        return {
            "id": self.id,
            "lang": self.lang,
            "title": self.title,
            "questions": list(self.questions),
            "body": self.body,
            "summary": self.summary,
            "tags": list(self.tags),
            "translation_of": self.translation_of,
            "handoff": self.handoff,
            "follow_ups": list(self.follow_ups),
            "path": self.path,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ArticleRecord:
        """A record read back from articles.json (every key written by `to_dict` is required)."""
        return cls(
            id=data["id"],
            lang=data["lang"],
            title=data["title"],
            questions=tuple(data["questions"]),
            body=data["body"],
            summary=data["summary"],
            tags=tuple(data["tags"]),
            translation_of=data["translation_of"],
            handoff=data["handoff"],
            follow_ups=tuple(data["follow_ups"]),
            path=data["path"],
        )


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

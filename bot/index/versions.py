"""Index versions under a root: written aside, published by atomically re-pointing `current`, pruned."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.fsync import fsync_dir, fsync_file
from bot.index.artefacts import (
    CURRENT,
    MANIFEST,
    IndexError_,
    Manifest,
    verify,
)


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


def current_version(root: Path) -> str | None:
    """The version `current` points at, or None when nothing is published."""
    link = root / CURRENT
    return os.readlink(link) if link.is_symlink() else None


def versions_newest_first(root: Path) -> list[str]:
    """Every published version folder under `root`, the newest first (names sort by build time)."""
    return sorted((p.name for p in root.glob("v-*") if p.is_dir()), reverse=True)


def resolve(root: Path, version: str | None = None) -> Path:
    """The folder of `version`, or of the live version."""
    version = version or current_version(root)
    if version is None:
        raise IndexError_(f"no index published in {root}; run `faqbot build` first")
    folder = root / version
    if not (folder / MANIFEST).is_file():
        raise IndexError_(f"{folder}: index version has no {MANIFEST}")
    return folder

#!/usr/bin/env python3
"""Compare methods without touching a test split: `faqbot bench` with each half of a data set's
dev split as "dev" and the other half as "test" (two-fold cross-validation on dev).

Use it to choose between variants of the method; report the chosen one on test once, with
scripts/bench_quality.py.

    python scripts/dev_cv.py [DATA_DIR ...] [--tune-epochs N]   # default: ../shared/data/*/
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from bench_quality import data_folders, faqbot  # the same `faqbot bench` run as the test-split table

METRICS = ("top1", "top3", "auroc", "correct", "wrong")


def halves(folder: Path, target: Path, fold: int) -> None:
    """A copy of `folder` whose dev split is half of the original dev, and whose test is the rest."""
    target.mkdir(parents=True, exist_ok=True)
    (target / "kb.jsonl").write_bytes((folder / "kb.jsonl").read_bytes())
    rows = []
    dev_seen = 0
    for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if row["split"] != "dev":
            continue
        row["split"] = "dev" if dev_seen % 2 == fold else "test"
        dev_seen += 1
        rows.append(json.dumps(row, ensure_ascii=False))
    (target / "queries.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path)
    parser.add_argument("--tune-epochs", type=int, default=3)
    args = parser.parse_args()
    for folder in data_folders(args.folders):
        scores = []
        with tempfile.TemporaryDirectory(prefix="faqbot-devcv-") as tmp:
            for fold in (0, 1):
                halves(folder, Path(tmp) / str(fold), fold)
                scores.append(faqbot(Path(tmp) / str(fold), head_on_dev=True, tune_epochs=args.tune_epochs))
        cells = "  ".join(
            f"{m} {scores[0][m]:.4f}/{scores[1][m]:.4f} (mean {(scores[0][m] + scores[1][m]) / 2:.4f})"
            for m in METRICS
        )
        print(f"{folder.name}: {cells}", flush=True)


if __name__ == "__main__":
    main()

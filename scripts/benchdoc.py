"""Write a benchmark script's results into docs/benchmarks.md, between its own markers."""

from __future__ import annotations

import re
from pathlib import Path


def write_block(doc: Path, start: str, end: str, heading: str, block: str) -> None:
    """Replace the text between `start` and `end` (markers included in `block`), or append it under
    `heading` the first time."""
    text = doc.read_text(encoding="utf-8")
    if start in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text += f"\n## {heading}\n\n{block}\n"
    doc.write_text(text, encoding="utf-8")

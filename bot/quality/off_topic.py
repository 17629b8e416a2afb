"""Questions staff marked "not for the bot" (the console's missed questions): kept in the
evaluation set as `article: none` items, so every rebuild's quality gate checks they are handed off."""

from __future__ import annotations

import json
from pathlib import Path

from bot.kb.articles import LANGUAGES
from bot.kb.writer import write_file
from bot.quality.evaluate import load_eval_set

OFF_TOPIC = "off-topic.yaml"  # in the evaluation set's folder: questions the bot must not answer


def add_off_topic(kb_root: Path, text: str, lang: str) -> Path:
    """Record `text` as a question that is not for the bot: an item of the evaluation set with
    `article: none`, so every rebuild's quality gate checks it is handed off, never answered."""
    text = " ".join(text.split())
    if not text:
        raise ValueError("the question is empty")
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}")
    path = kb_root / "eval" / OFF_TOPIC
    original = path.read_text(encoding="utf-8") if path.exists() else None
    if original is None:
        head = (
            '# Questions staff marked "not for the bot" in the console: the knowledge base must not\n'
            "# answer them (article: none), and every rebuild's quality gate checks it.\nitems:\n"
        )
    else:
        head = original if original.endswith("\n") else original + "\n"
    item = f"  - text: {json.dumps(text, ensure_ascii=False)}\n    lang: {lang}\n    article: none\n"
    write_file(path, head + item)
    try:
        load_eval_set(path.parent)
    except ValueError:
        if original is None:
            path.unlink()
        else:
            write_file(path, original)
        raise
    return path

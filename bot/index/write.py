"""A version's files written: FAISS vectors, classification head, BM25 index, articles.json."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import faiss
import numpy as np

from bot.index.artefacts import Unit
from bot.index.contents import article_record
from bot.index.dense import make_faiss
from bot.kb.articles import Article
from bot.retrieval.head import Head, fit_head
from bot.retrieval.lexical import LexicalIndex


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
        "articles": [article_record(a).to_dict() for a in articles],
        "units": [[u.article, u.kind, u.text] for u in units],
    }
    (staging / "articles.json").write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
    return type(index).__name__, lexical


def head_examples(units: list[Unit]) -> np.ndarray:
    """Positions of the units the classification head learns from: titles and questions."""
    return np.array([i for i, u in enumerate(units) if u.kind != "answer"], dtype=np.int64)


def train_head(
    articles: list[Article], units: list[Unit], vectors: np.ndarray, max_articles: int = 5000
) -> Head | None:
    """The classification head over titles and questions (None for one article, or too many)."""
    if len(articles) > max_articles:
        return None
    rows = head_examples(units)
    labels = np.array([units[i].article for i in rows])
    return fit_head(vectors[rows], labels, len(articles))

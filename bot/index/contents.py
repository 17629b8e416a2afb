"""What an index version holds of the knowledge base: its units, article records, content hash and fit key."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from bot.index.artefacts import ArticleRecord, Unit
from bot.kb.articles import Article
from bot.retrieval.features import CONF_FEATURES, RANK_FEATURES

# Bump when the head, BM25 tokenizer, language detection, how a fusion feature is computed or how
# they are fitted change (the features' names are in the key).
FIT_FORMAT = 6


def fit_key(kb: str, model: str, dimension: int, languages: Sequence[str]) -> str:
    """The learned parts of a version (classification head, fusion models) and its BM25 index depend
    only on the indexed content, the model, the languages detected and the fitting code: equal keys,
    equal files."""
    features = ",".join((*RANK_FEATURES, *CONF_FEATURES))
    parts = [str(FIT_FORMAT), features, model, str(dimension), ",".join(languages), kb]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def article_units(articles: list[Article]) -> list[Unit]:
    """Every text to embed: title, alternate questions and answer paragraphs of each article."""
    units = []
    for i, article in enumerate(articles):
        units.append(Unit(i, "title", article.title))
        units.extend(Unit(i, "question", q) for q in article.questions)
        units.extend(Unit(i, "answer", p) for p in article.paragraphs())
    return units


def article_record(article: Article) -> ArticleRecord:
    """What the serving side needs of an article, as stored in articles.json."""
    return ArticleRecord(
        id=article.id,
        lang=article.lang,
        title=article.title,
        questions=tuple(article.questions),
        body=article.body,
        summary=article.summary,
        tags=tuple(article.tags),
        translation_of=article.translation_of,
        handoff=article.handoff,
        follow_ups=tuple(article.follow_ups),
        path=str(article.path),
    )


def kb_hash(articles: list[Article]) -> str:
    """A fingerprint of the indexed content, independent of file order."""
    digest = hashlib.sha256()
    for record in sorted(json.dumps(article_record(a).to_dict(), sort_keys=True) for a in articles):
        digest.update(record.encode())
    return digest.hexdigest()

"""Staff own the knowledge base: articles listed with their figures, read, created, edited from the
version they were read at, unpublished, archived and deleted; each change recorded (who, when).
The admin API and the staff console both go through here. Article files change at once; a
publish (bot.service.publishing) makes them live."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.kb import editing
from bot.kb.articles import Article, Problem, load_kb
from bot.kb.editing import Fields, Saved
from bot.storage.editorial import ArticleFigures
from bot.storage.schema import ArticleEdit, aware
from bot.storage.store import Store
from bot.text.normalise import normalise

SORTS = ("id", "updated", "answered", "unhelpful")


@dataclass(frozen=True)
class Filters:
    q: str = ""
    lang: str | None = None
    status: str | None = None  # None: all but archived
    tag: str | None = None
    never_answered: bool = False
    sort: str = "id"


@dataclass(frozen=True)
class Listed:
    article: Article
    figures: ArticleFigures
    last_edit: ArticleEdit | None


@dataclass(frozen=True)
class Detail:
    article: Article
    version: str
    figures: ArticleFigures
    edits: list[ArticleEdit]
    translations: list[Article]  # the other language versions
    missed_near: list[Any] = field(default_factory=list)  # open missed questions it came close to


NO_FIGURES = ArticleFigures(0, 0, 0, None)


@dataclass(frozen=True)
class Listing:
    rows: list[Listed]  # the articles `filters` keeps, sorted
    tags: list[str]  # every tag of the articles not archived (what the tag filter offers)


def list_articles(kb_root: Path, store: Store, filters: Filters) -> Listing:
    kb = load_kb(kb_root)
    figures = store.article_figures()
    edits = store.last_edits()
    query = normalise(filters.q) if filters.q.strip() else ""
    rows = []
    for article in kb.articles:
        if filters.lang and article.lang != filters.lang:
            continue
        if filters.status and article.status != filters.status:
            continue
        if not filters.status and article.status == "archived":
            continue
        if filters.tag and filters.tag not in article.tags:
            continue
        numbers = figures.get(article.id, NO_FIGURES)
        if filters.never_answered and numbers.answered:
            continue
        if query and not _matches(article, query):
            continue
        rows.append(Listed(article, numbers, edits.get(article.id)))
    key = {
        "id": lambda r: (r.article.lang, r.article.id),
        "updated": lambda r: -(r.last_edit.created_at.timestamp() if r.last_edit else 0),
        "answered": lambda r: -r.figures.answered,
        "unhelpful": lambda r: -r.figures.unhelpful,
    }[filters.sort if filters.sort in SORTS else "id"]
    tags = sorted({t for a in kb.articles if a.status != "archived" for t in a.tags})
    return Listing(sorted(rows, key=key), tags)


def _matches(article: Article, query: str) -> bool:
    haystack = " ".join([article.id, article.title, *article.questions, *article.tags, article.body])
    return all(word in normalise(haystack) for word in query.split())


def detail(kb_root: Path, store: Store, article_id: str) -> Detail | None:
    found = editing.read(kb_root, article_id)
    if found is None:
        return None
    article, version = found
    kb = load_kb(kb_root)
    root = article.translation_of or article.id
    translations = [
        a for a in kb.articles if a.id != article.id and (a.id == root or a.translation_of == root)
    ]
    return Detail(
        article,
        version,
        store.article_figures(article.id).get(article.id, NO_FIGURES),
        store.edits(article.id),
        translations,
        store.missed_near(article.id),
    )


def create(kb_root: Path, store: Store, article_id: str, fields: Fields, who: str) -> Saved:
    saved = editing.create(kb_root, article_id, fields)
    store.record_edit(article_id, "create", who, saved.version)
    return saved


def update(kb_root: Path, store: Store, article_id: str, fields: Fields, version: str, who: str) -> Saved:
    saved = editing.update(kb_root, article_id, fields, version)
    store.record_edit(article_id, "update", who, saved.version)
    return saved


def set_status(kb_root: Path, store: Store, article_id: str, status: str, version: str, who: str) -> Saved:
    """Publish, unpublish (draft) or archive, from the version it was read at."""
    found = editing.read(kb_root, article_id)
    if found is None:
        raise KeyError(f"no article {article_id!r}")
    article, _ = found
    saved = editing.update(
        kb_root, article_id, dataclasses.replace(Fields.of(article), status=status), version
    )
    store.record_edit(article_id, status, who, saved.version)
    return saved


def delete(kb_root: Path, store: Store, article_id: str, version: str, who: str) -> None:
    editing.delete(kb_root, article_id, version)
    store.record_edit(article_id, "delete", who, None)


def check(kb_root: Path, article_id: str, fields: Fields) -> list[Problem]:
    """Errors and warnings (near-duplicate questions…) saving `fields` would meet, without saving."""
    return editing.check(kb_root, article_id, fields)


def relative(message: str, kb_root: Path) -> str:
    """A message naming files by their place in the knowledge base, not on the server's disk."""
    return message.replace(f"{kb_root}/", "")


def translation_draft(article: Article, lang: str) -> Fields:
    """A new article's starting point for translating `article` into `lang`: a draft that links back,
    with the original's text to translate over."""
    return Fields(
        lang=lang,
        title=article.title,
        questions=article.questions[:1],
        body=article.body,
        tags=article.tags,
        status="draft",
        translation_of=article.translation_of or article.id,
        handoff=article.handoff,
    )


def as_json(article: Article, version: str) -> dict[str, Any]:
    """The admin API's article: what `GET /api/v1/admin/articles/{id}` returns."""
    return {
        "id": article.id,
        "lang": article.lang,
        "title": article.title,
        "questions": list(article.questions),
        "tags": list(article.tags),
        "status": article.status,
        "follow_ups": list(article.follow_ups),
        "translation_of": article.translation_of,
        "handoff": article.handoff,
        "body": article.body,
        "version": version,
    }


def when(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return aware(value).isoformat()

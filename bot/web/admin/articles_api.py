"""The admin API for the knowledge base: articles listed, read, created, edited from the version
they were read at (409 if someone changed them since), deleted; and "publish now" with its job.
The staff console's article pages use the same service (bot.service.articles)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from bot.kb.articles import InvalidKnowledgeBase, Problem
from bot.kb.editing import Conflict, Fields
from bot.service import articles
from bot.service.articles import Filters
from bot.service.publishing import PublishBusy, start_publish
from bot.storage.fields import Text
from bot.web.admin.api import require_admin, staff
from bot.web.deps import ChatDep, SettingsDep, StoreDep, WatcherDep

router = APIRouter(prefix="/api/v1/admin", dependencies=[Depends(require_admin)])

ArticleId = Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=200)]
Line = Annotated[Text, Field(min_length=1, max_length=500)]


class ArticleFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lang: Literal["it", "en"]
    title: Annotated[Text, Field(min_length=1, max_length=300)]
    questions: Annotated[list[Line], Field(min_length=1, max_length=200)]
    body: Annotated[Text, Field(min_length=1, max_length=100_000)]
    tags: Annotated[list[Annotated[Text, Field(min_length=1, max_length=64)]], Field(max_length=50)] = []
    status: Literal["draft", "published", "archived"] = "published"
    follow_ups: Annotated[list[ArticleId], Field(max_length=20)] = []
    translation_of: ArticleId | None = None
    handoff: bool = False

    def fields(self) -> Fields:
        return Fields(
            self.lang, self.title, tuple(self.questions), self.body, tuple(self.tags), self.status,
            tuple(self.follow_ups), self.translation_of, self.handoff,
        )  # fmt: skip


class NewArticle(ArticleFields):
    id: ArticleId


class EditedArticle(ArticleFields):
    version: Annotated[str, Field(min_length=1, max_length=64)]


def invalid(exc: InvalidKnowledgeBase, kb_root: Path) -> JSONResponse:
    """422 naming each field that is wrong."""
    errors = [{"field": p.field, "message": articles.relative(p.message, kb_root)} for p in exc.problems]
    detail = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in errors)
    return JSONResponse({"detail": detail, "errors": errors}, status_code=422)


def _saved(saved, kb_root: Path, status: int = 200) -> JSONResponse:
    body = {**articles.as_json(saved.article, saved.version), "warnings": _problems(saved.warnings, kb_root)}
    return JSONResponse(body, status_code=status)


def _problems(problems: list[Problem], kb_root: Path) -> list[dict[str, str]]:
    return [
        {"field": p.field, "message": articles.relative(p.message, kb_root), "severity": p.severity}
        for p in problems
    ]


@router.get("/articles")
def list_articles(
    store: StoreDep,
    settings: SettingsDep,
    q: Annotated[Text, Query(max_length=200)] = "",
    lang: Literal["it", "en"] | None = None,
    status: Literal["draft", "published", "archived"] | None = None,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    never_answered: bool = False,
    sort: Literal["id", "updated", "answered", "unhelpful"] = "id",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """Articles with their figures; archived ones only with `status=archived`."""
    rows = articles.list_articles(
        settings.kb_path, store, Filters(q, lang, status, tag, never_answered, sort)
    ).rows
    return {
        "items": [
            {
                "id": r.article.id, "lang": r.article.lang, "title": r.article.title,
                "status": r.article.status, "tags": list(r.article.tags),
                "questions": len(r.article.questions), "translation_of": r.article.translation_of,
                "answered": r.figures.answered, "helpful": r.figures.helpful,
                "unhelpful": r.figures.unhelpful, "last_answered": articles.when(r.figures.last_answered),
                "updated_by": r.last_edit.who if r.last_edit else None,
                "updated_at": articles.when(r.last_edit.created_at) if r.last_edit else None,
            }
            for r in rows[offset : offset + limit]
        ],
        "total": len(rows),
    }  # fmt: skip


@router.get("/articles/{article_id}")
def get_article(article_id: ArticleId, store: StoreDep, settings: SettingsDep) -> dict[str, Any]:
    found = articles.detail(settings.kb_path, store, article_id)
    if found is None:
        raise HTTPException(404, f"no article {article_id!r}")
    return articles.as_json(found.article, found.version)


@router.post("/articles", status_code=201)
async def create_article(
    body: NewArticle, store: StoreDep, settings: SettingsDep, who: Annotated[str, Depends(staff)]
) -> Response:
    """A new article (201). 422 naming the field that is wrong, 409 if the id is taken."""
    try:
        saved = await run_in_threadpool(articles.create, settings.kb_path, store, body.id, body.fields(), who)
    except FileExistsError as exc:
        raise HTTPException(409, str(exc)) from exc
    except InvalidKnowledgeBase as exc:
        return invalid(exc, settings.kb_path)
    return _saved(saved, settings.kb_path, 201)


@router.put("/articles/{article_id}")
async def update_article(
    article_id: ArticleId,
    body: EditedArticle,
    store: StoreDep,
    settings: SettingsDep,
    who: Annotated[str, Depends(staff)],
) -> Response:
    """Change an article from the `version` it was read at: 409 if it changed since (someone else
    saved first: read it again), 404 if it is gone, 422 naming the field that is wrong."""
    try:
        saved = await run_in_threadpool(
            articles.update, settings.kb_path, store, article_id, body.fields(), body.version, who
        )
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0])) from exc
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from exc
    except InvalidKnowledgeBase as exc:
        return invalid(exc, settings.kb_path)
    return _saved(saved, settings.kb_path)


@router.delete("/articles/{article_id}", status_code=204)
async def delete_article(
    article_id: ArticleId,
    store: StoreDep,
    settings: SettingsDep,
    who: Annotated[str, Depends(staff)],
    version: Annotated[str, Query(min_length=1, max_length=64)],
) -> Response:
    """Delete an article from the `version` it was read at; 409 if it changed since or if other
    articles link to it (their follow-ups or translations name it)."""
    try:
        await run_in_threadpool(articles.delete, settings.kb_path, store, article_id, version, who)
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0])) from exc
    except Conflict as exc:
        raise HTTPException(409, str(exc)) from exc
    except InvalidKnowledgeBase as exc:
        raise HTTPException(409, articles.relative(str(exc), settings.kb_path)) from exc
    return Response(status_code=204)


@router.post("/publish", status_code=202)
def publish(
    chat: ChatDep,
    store: StoreDep,
    settings: SettingsDep,
    watcher: WatcherDep,
    who: Annotated[str, Depends(staff)],
) -> dict[str, str]:
    """Rebuild with the quality gate and publish, in the background: 202 with the job to follow."""
    if watcher is None:
        raise HTTPException(
            409, "hot reload is off (FAQBOT_RELOAD_INTERVAL=0): publish from the command line"
        )
    try:
        job = start_publish(settings, store, chat.bot.retriever.embedder, watcher.trigger, who)
    except PublishBusy as exc:
        raise HTTPException(409, str(exc)) from exc
    return {"job": job}


@router.get("/publish/{job}")
def publish_job(job: Annotated[str, Field(max_length=40)], store: StoreDep) -> dict[str, Any]:
    """A publish's status (running, published, refused, failed) and its report."""
    found = store.publish_job(job)
    if found is None:
        raise HTTPException(404, f"no publish job {job!r}")
    return {
        "job": found.id,
        "status": found.status,
        "who": found.who,
        "created_at": articles.when(found.created_at),
        "finished_at": articles.when(found.finished_at),
        "report": found.report,
    }

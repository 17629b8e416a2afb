"""The staff console's knowledge-base pages: the article list with search and filters, an article
with its figures, the editor (new, edit, translate) with a live preview and errors beside the field
they name, status changes and deletion, "publish now" with its report, and "try the bot".

Every change goes through bot.service.articles, as the admin API's do (bot.web.admin.articles_api).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.kb import editing
from bot.kb.articles import ID_PATTERN, LANGUAGES, STATUSES, InvalidKnowledgeBase, Problem
from bot.kb.editing import Conflict, Fields
from bot.service import articles
from bot.service.articles import SORTS, Filters
from bot.service.publishing import PublishBusy, start_publish
from bot.text.html import to_html
from bot.web.admin import i18n
from bot.web.admin.i18n import _
from bot.web.admin.pages import HEADERS, back, posted_form, render, session_of
from bot.web.deps import ChatDep, SettingsDep, StoreDep, WatcherDep, settings_of

router = APIRouter(prefix="/admin", include_in_schema=False)
MAX_BODY = 100_000


def _here(article_id: str) -> str:
    return f"/admin/articles/{quote(article_id, safe='')}"


# --- list, try the bot -----------------------------------------------------------------------


@router.get("/articles")
def article_list(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    q: Annotated[str, Query(max_length=500)] = "",
    lang: str = "",
    status: str = "",
    tag: Annotated[str, Query(max_length=64)] = "",
    never: str = "",
    sort: str = "id",
) -> Response:
    session = session_of(request)
    if isinstance(session, Response):
        return session
    filters = Filters(
        q.strip(),
        lang if lang in LANGUAGES else None,
        status if status in STATUSES else None,
        tag.strip() or None,
        never == "1",
        sort if sort in SORTS else "id",
    )
    listing = articles.list_articles(settings.kb_path, store, filters)
    return render(
        request, "articles.html", session=session, rows=listing.rows, filters=filters, tags=listing.tags,
        languages=LANGUAGES, statuses=STATUSES, sorts=SORTS, last=store.last_publish(),
    )  # fmt: skip


@router.get("/try")
def try_the_bot(request: Request, chat: ChatDep, q: Annotated[str, Query(max_length=500)] = "") -> Response:
    session = session_of(request)
    if isinstance(session, Response):
        return session
    from bot.dialogue.policy import decide

    bot = chat.bot
    retriever = bot.retriever  # one index version for the whole request
    q = q.strip()
    result = decision = None
    if q:
        result = retriever.search(q, k=5)
        decision = decide(result, bot.thresholds)
    return render(
        request, "try.html", session=session, q=q, result=result, decision=decision, version=retriever.version
    )


# --- one article ---------------------------------------------------------------------------------


@router.get("/articles/new")
def new_article(request: Request, settings: SettingsDep, translate: str = "", lang: str = "") -> Response:
    """The editor for a new article; with `translate`, a draft translating that article into `lang`."""
    session = session_of(request)
    if isinstance(session, Response):
        return session
    values = _values(Fields("it", "", (), ""), "")
    original = editing.read(settings.kb_path, translate) if ID_PATTERN.match(translate) else None
    if original is not None:
        target = lang if lang in LANGUAGES else next(x for x in LANGUAGES if x != original[0].lang)
        values = _values(articles.translation_draft(original[0], target), f"{translate}-{target}")
    return _form(request, session, values, new=True)


@router.get("/articles/{article_id}")
def article_page(article_id: str, request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    session = session_of(request)
    if isinstance(session, Response):
        return session
    found = articles.detail(settings.kb_path, store, article_id) if ID_PATTERN.match(article_id) else None
    if found is None:
        text = _("No article %(id)s.", id=repr(article_id))
        return render(request, "message.html", 404, session=session, title=_("Not found"), text=text)
    others = [x for x in LANGUAGES if x not in {found.article.lang, *(t.lang for t in found.translations)}]
    answer = to_html(found.article.body)
    return render(
        request,
        "article.html",
        session=session,
        a=found.article,
        d=found,
        answer=answer,
        missing_langs=others,
    )


@router.get("/articles/{article_id}/edit")
def edit_article(article_id: str, request: Request, settings: SettingsDep) -> Response:
    session = session_of(request)
    if isinstance(session, Response):
        return session
    found = editing.read(settings.kb_path, article_id) if ID_PATTERN.match(article_id) else None
    if found is None:
        text = _("No article %(id)s.", id=repr(article_id))
        return render(request, "message.html", 404, session=session, title=_("Not found"), text=text)
    article, version = found
    return _form(request, session, _values(Fields.of(article), article_id, version), new=False)


@router.post("/articles/new")
async def create_article(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    return await _save(request, store, settings, None)


@router.post("/articles/{article_id}/edit")
async def save_article(article_id: str, request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    return await _save(request, store, settings, article_id)


async def _save(request: Request, store, settings, article_id: str | None) -> Response:
    """Check, then save (new or edit): errors beside their fields; warnings (near-duplicate
    questions) shown first, saved only once staff confirm them."""
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, form = posted
    values = _from_form(form, article_id)
    new = article_id is None
    the_id = values["id"]
    if not ID_PATTERN.match(the_id):
        problems = [
            Problem(settings.kb_path, "id", _("lowercase letters, digits and dashes, e.g. gift-cards"))
        ]
        return _form(request, session, values, new, problems, status=422)
    fields = _fields(values)
    kb = settings.kb_path
    checked = await run_in_threadpool(articles.check, kb, the_id, fields)
    errors = [p for p in checked if p.severity == "error"]
    warnings = [p for p in checked if p.severity != "error"]
    if errors:
        return _form(request, session, values, new, errors, status=422)
    if (warnings and form.get("confirm") != "1") or form.get("action") == "check":
        return _form(request, session, values, new, warnings, confirm=bool(warnings))

    def save():
        if new:
            return articles.create(kb, store, the_id, fields, session.who)
        return articles.update(kb, store, the_id, fields, values["version"], session.who)

    try:
        await run_in_threadpool(save)
    except FileExistsError:
        problems = [Problem(kb, "id", _("%(id)s is taken: choose another id", id=repr(the_id)))]
        return _form(request, session, values, new, problems, status=409)
    except Conflict:
        problems = [
            Problem(
                kb,
                "",
                _(
                    "Someone saved this article after you opened it. Open it again to see their "
                    "changes, then redo yours."
                ),
            )
        ]
        return _form(request, session, values, new, problems, status=409)
    except KeyError:
        return back(
            request, "/admin/articles", error=_("Article %(article_id)s no longer exists.", article_id=the_id)
        )
    except InvalidKnowledgeBase as exc:
        return _form(request, session, values, new, exc.problems, status=422)
    ok = _("Saved %(id)s. It goes live when you publish.", id=the_id)
    return back(request, _here(the_id), ok=ok)


@router.post("/articles/{article_id}/status")
async def set_status(article_id: str, request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, form = posted
    status, version = form.get("status", ""), form.get("version", "")
    if status not in STATUSES or not ID_PATTERN.match(article_id):
        return back(request, "/admin/articles", error=_("Unknown status."))
    ok = _(
        "%(article_id)s is now %(status)s. It takes effect when you publish.",
        article_id=article_id,
        status=status,
    )
    change = partial(articles.set_status, settings.kb_path, store, article_id, status, version, session.who)
    return await _changed(request, article_id, change, _here(article_id), ok, "")


@router.post("/articles/{article_id}/delete")
async def delete_article(
    article_id: str, request: Request, store: StoreDep, settings: SettingsDep
) -> Response:
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, form = posted
    if not ID_PATTERN.match(article_id):
        return back(request, "/admin/articles", error=_("No such article."))
    if form.get("confirm") != article_id:
        return back(
            request,
            _here(article_id),
            error=_("To delete, type its id (%(article_id)s) to confirm.", article_id=article_id),
        )
    ok = _("Deleted %(article_id)s. The bot stops answering with it when you publish.", article_id=article_id)
    change = partial(
        articles.delete, settings.kb_path, store, article_id, form.get("version", ""), session.who
    )
    return await _changed(request, article_id, change, "/admin/articles", ok, _("Not deleted:") + " ")


async def _changed(
    request: Request, article_id: str, change: Callable[[], object], then: str, ok: str, refused: str
) -> Response:
    """Run a status change or a deletion; back to `then` with `ok`, or to the article with why not."""
    try:
        await run_in_threadpool(change)
    except KeyError:
        gone = _("Article %(article_id)s no longer exists.", article_id=article_id)
        return back(request, "/admin/articles", error=gone)
    except Conflict:
        stale = _("Someone changed this article meanwhile: look again, then retry.")
        return back(request, _here(article_id), error=stale)
    except InvalidKnowledgeBase as exc:
        return back(request, _here(article_id), error=refused + _sentence(exc.problems))
    return back(request, then, ok=ok)


@router.post("/preview")
async def preview(request: Request) -> Response:
    """The editor's live preview: the Markdown as customers will see it (sanitised)."""
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    _session, form = posted
    body = form.get("body", "")[:MAX_BODY]
    return HTMLResponse(to_html(body), headers=HEADERS)


# --- publish now --------------------------------------------------------------------------------


@router.post("/publish")
async def publish(
    request: Request, chat: ChatDep, store: StoreDep, settings: SettingsDep, watcher: WatcherDep
) -> Response:
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, _form = posted
    if watcher is None:
        return back(
            request,
            "/admin/articles",
            error=_("Hot reload is off (FAQBOT_RELOAD_INTERVAL=0): publish with faqbot rebuild."),
        )
    embedder = chat.bot.retriever.embedder
    try:
        job = await run_in_threadpool(start_publish, settings, store, embedder, watcher.trigger, session.who)
    except PublishBusy:
        return back(
            request, "/admin/articles", error=_("A rebuild is already running: try again in a minute.")
        )
    return RedirectResponse(f"/admin/publish/{quote(job, safe='')}", 303)


@router.get("/publish/{job}")
def publish_page(job: str, request: Request, store: StoreDep) -> Response:
    session = session_of(request)
    if isinstance(session, Response):
        return session
    found = store.publish_job(job[:40])
    if found is None:
        return render(
            request,
            "message.html",
            404,
            session=session,
            title=_("Not found"),
            text=_("No publish %(job)s.", job=repr(job)),
        )
    return render(request, "publish.html", session=session, job=found, report=found.report or {})


# --- the form -------------------------------------------------------------------------------------


def _values(fields: Fields, article_id: str, version: str = "") -> dict[str, Any]:
    """The editor's fields as they are shown (lists as lines or comma-separated)."""
    return {
        "id": article_id, "version": version, "lang": fields.lang, "title": fields.title,
        "questions": "\n".join(fields.questions), "tags": ", ".join(fields.tags), "status": fields.status,
        "follow_ups": ", ".join(fields.follow_ups), "translation_of": fields.translation_of or "",
        "handoff": fields.handoff, "body": fields.body,
    }  # fmt: skip


def _from_form(form: dict[str, str], article_id: str | None) -> dict[str, Any]:
    return {
        "id": article_id or form.get("id", "").strip().lower(),
        "version": form.get("version", ""),
        "lang": form.get("lang", "it"),
        "title": form.get("title", "").strip()[:300],
        "questions": form.get("questions", "")[:20_000],
        "tags": form.get("tags", "")[:2000],
        "status": form.get("status", "published"),
        "follow_ups": form.get("follow_ups", "")[:2000],
        "translation_of": form.get("translation_of", "").strip()[:200],
        "handoff": form.get("handoff") == "1",
        "body": form.get("body", "")[:MAX_BODY],
    }


def _fields(values: dict[str, Any]) -> Fields:
    def items(text: str, sep: str) -> tuple[str, ...]:
        return tuple(x.strip() for x in text.replace("\r", "").split(sep) if x.strip())

    return Fields(
        lang=values["lang"], title=values["title"], questions=items(values["questions"], "\n"),
        body=values["body"], tags=items(values["tags"], ","), status=values["status"],
        follow_ups=items(values["follow_ups"], ","), translation_of=values["translation_of"] or None,
        handoff=values["handoff"],
    )  # fmt: skip


def _form(
    request: Request,
    session,
    values: dict[str, Any],
    new: bool,
    problems: list[Problem] | None = None,
    status: int = 200,
    confirm: bool = False,
) -> HTMLResponse:
    """The editor, each problem shown beside the field it names (questions[2] → questions)."""
    by_field: dict[str, list[str]] = {}
    kb = settings_of(request).kb_path
    for p in problems or []:
        name = p.field.split("[")[0] if p.field else "general"
        name = name if name in values or name == "body" else "general"
        message = articles.relative(i18n.translated(p), kb)
        by_field.setdefault(name, []).append(message)
    errors = any(p.severity == "error" for p in problems or [])
    return render(
        request, "article_form.html", status, session=session, v=values, new=new, problems=by_field,
        has_errors=errors, confirm=confirm, languages=LANGUAGES, statuses=STATUSES,
    )  # fmt: skip


def _sentence(problems: list[Problem]) -> str:
    return "; ".join(f"{p.path.stem}: {p.field}: {i18n.translated(p)}" for p in problems[:5])

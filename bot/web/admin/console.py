"""The staff console: server-rendered pages under /admin (Jinja2, plain HTML forms, no build step).

Sign-in takes the admin token (FAQBOT_ADMIN_TOKEN) and the staff member's name; the session is kept
in the store (so that signing out revokes it on every replica) and named by a signed cookie
(HttpOnly, SameSite=Strict, 12 hours) keyed by the token itself, so changing the token signs
everybody out. Every POST form carries a CSRF token derived from the session cookie.
Customer text is untrusted: every template is autoescaped, and a strict Content-Security-Policy
allows only the console's own stylesheet and script.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bot.dialogue.vocabulary import DecisionKind
from bot.storage.fields import DbInt, is_id, text_problem
from bot.storage.schema import aware
from bot.storage.statuses import MissedStatus, Role
from bot.web.admin import i18n
from bot.web.admin.i18n import _
from bot.web.admin.pages import (
    COOKIE,
    HERE,
    MAX_AGE,
    back,
    disabled,
    form_of,
    language,
    posted_form,
    render,
    same,
    secure,
    session_of,
    signer,
    token_of,
)
from bot.web.deps import ChatDep, SettingsDep, StoreDep

if TYPE_CHECKING:
    from bot.retrieval.search import Retriever

router = APIRouter(prefix="/admin", include_in_schema=False)

LOGIN_COOKIE = "faqbot_console_login"
MAX_NAME = 64
MAX_REPLY = 4000
STATIC = {"console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8"}
PERIODS = (7, 30, 90)
DECISIONS = tuple(DecisionKind)

# --- sign in and out ---------------------------------------------------------------------------


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in STATIC:
        return Response("not found", 404)
    body = (HERE / "static" / name).read_bytes()
    return Response(body, media_type=STATIC[name], headers={"Cache-Control": "max-age=300"})


def _login_page(request: Request, status: int = 200, error: str | None = None, name: str = "") -> Response:
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "login.html", status, csrf=nonce, error=error, name=name)
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=3600,
        path="/admin",
        httponly=True,
        samesite="strict",
        secure=secure(request),
    )
    return response


@router.get("/lang/{code}")
def switch_language(code: str, request: Request, next: str = "/admin") -> Response:  # noqa: A002
    """The console's language switch: remembered in a cookie (a year), back to the page it was on."""
    if code not in i18n.LANGS:
        raise HTTPException(422, f"code: one of {', '.join(i18n.LANGS)}")
    here = next if next.startswith("/admin") and "//" not in next and "\\" not in next else "/admin"
    response = RedirectResponse(here, 303)
    response.set_cookie(
        i18n.COOKIE, code, max_age=365 * 24 * 3600, path="/admin", samesite="strict", secure=secure(request)
    )
    return response


@router.get("/login")
def loginform_of(request: Request) -> Response:
    if token_of(request) is None:
        return disabled(request)
    return _login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    language(request)  # its messages are said before a page is rendered
    token = token_of(request)
    if token is None:
        return disabled(request)
    form = await form_of(request)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not same(form.get("csrf", ""), nonce):
        return render(
            request, "message.html", 403, title=_("Forbidden"), text=_("Missing or wrong CSRF token.")
        )
    name = " ".join(form.get("name", "").split())[:MAX_NAME] or "admin"
    chat = getattr(request.app.state, "chat", None)
    if chat is None:  # no index loads yet: the service (and its store) is not up
        return render(request, "message.html", 503, title=_("Not ready"), text=_("The service is starting."))
    from bot.service.agents import authenticate

    secret = form.get("token", "")
    # An agent signs in with their own password; anyone may still use the admin token (scripts, the
    # first sign-in), under the name they give.
    agent = await run_in_threadpool(authenticate, chat.store, name, secret)
    if agent is None and not same(secret, token):
        return _login_page(request, 401, _("Wrong name and password, or wrong token."), name)
    sid = await run_in_threadpool(chat.store.open_console_session, name, MAX_AGE)
    response = RedirectResponse("/admin", 303)
    if agent is not None and i18n.COOKIE not in request.cookies:  # the agent's own language
        response.set_cookie(
            i18n.COOKIE, agent.lang, max_age=365 * 24 * 3600, path="/admin", samesite="strict",
            secure=secure(request),
        )  # fmt: skip
    response.set_cookie(
        COOKIE,
        signer(token).dumps({"who": name, "sid": sid}),
        max_age=MAX_AGE,
        path="/admin",
        httponly=True,
        samesite="strict",
        secure=secure(request),
    )
    response.delete_cookie(LOGIN_COOKIE, path="/admin")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, _form = posted
    chat = request.app.state.chat  # a session exists: the service is up (pages.session_of)
    await run_in_threadpool(chat.store.revoke_console_session, session.sid)
    response = RedirectResponse("/admin/login", 303)
    response.delete_cookie(COOKIE, path="/admin", httponly=True, samesite="strict")
    return response


# --- dashboard ---------------------------------------------------------------------------------


@router.get("")
def dashboard(request: Request, chat: ChatDep, days: int = 30) -> Response:
    session = session_of(request)
    if isinstance(session, Response):
        return session
    if days not in PERIODS:
        raise HTTPException(422, f"days: one of {', '.join(map(str, PERIODS))}")
    now = dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(days=days)
    stats = chat.store.stats(since)
    retriever = chat.bot.retriever
    top = [{**row, "title": _title(retriever, row["article_id"])} for row in stats["top_articles"]]
    chart = bar_chart(stats["by_day"], since.date(), now.date())
    rates = rate_chart(stats["answer_rate_by_day"], since.date(), now.date())
    from bot.service.missed_topics import MissedItem, cluster

    rows, _total = chat.store.missed(status=MissedStatus.OPEN, since=since, limit=300)
    items = [MissedItem(m.id, m.text, m.lang, m.created_at) for m in rows]
    topics = cluster(items, retriever.embedder)[:5]
    return render(
        request, "dashboard.html", session=session, days=days, stats=stats, top=top, chart=chart, rates=rates,
        topics=topics, publish=chat.store.last_publish(), rebuild=_last_rebuild(request),
    )  # fmt: skip


def _last_rebuild(request: Request) -> dict[str, Any] | None:
    """The last rebuild's report (index/reports/latest.json: nightly, publish or API), if any."""
    import json

    from bot.web.deps import settings_of

    path = settings_of(request).index_path / "reports" / "latest.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) else None


def _title(retriever: Retriever, article_id: str) -> str:
    """An article's title, or "" for one the live index no longer holds (answered before a rebuild)."""
    record = retriever.article(article_id)
    return record.title if record is not None else ""


def nice_step(peak: float, ticks: int = 4) -> float:
    """A round step (1, 2 or 5 times a power of ten) that covers `peak` in about `ticks` steps."""
    raw = max(peak, 1) / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def bar_chart(by_day: dict[str, dict[str, int]], first: dt.date, last: dt.date) -> dict[str, Any]:
    """Stacked bars (bot replies per decision) for every day from `first` to `last`, as SVG geometry:
    sized to be read unscaled (about 1000 px wide for 90 days), a round scale on the y axis, a
    date label every few days, and each bar titled with its day and count."""
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    kinds = list(DECISIONS) + sorted({k for d in by_day.values() for k in d} - set(DECISIONS))
    totals = [sum(by_day.get(day.isoformat(), {}).values()) for day in days]
    step_y = nice_step(max(totals, default=0))
    peak = int(step_y * math.ceil(max(max(totals, default=0), 1) / step_y))
    step, height, top, left = max(8, min(24, 980 // max(1, len(days)))), 160, 14, 44
    bars = []
    for i, day in enumerate(days):
        counts = by_day.get(day.isoformat(), {})
        y = top + height
        for kind in kinds:
            n = counts.get(kind, 0)
            if not n:
                continue
            h = height * n / peak
            y -= h
            label = f"{day.isoformat()}: {n} {kind}"
            bar = {"x": left + i * step + 1, "y": round(y, 2), "w": max(2, step - 3), "h": round(h, 2)}
            bars.append({**bar, "kind": kind, "label": label})
    every = max(1, math.ceil(len(days) / 10))
    ticks = [
        {"x": left + i * step + step / 2, "label": days[i].strftime("%d/%m")}
        for i in sorted({*range(0, len(days), every), len(days) - 1})
    ]
    levels = [
        {"y": round(top + height - height * v / peak, 2), "label": str(int(v))}
        for v in [step_y * k for k in range(int(peak / step_y) + 1)]
    ]
    return {
        "width": left + len(days) * step + 8,
        "height": top + height + 28,
        "base": top + height,
        "top": top,
        "left": left,
        "peak": peak,
        "bars": bars,
        "ticks": ticks,
        "levels": levels,
        "kinds": [k for k in kinds if any(b["kind"] == k for b in bars)] or list(DECISIONS),
        "total": sum(totals),
    }


def rate_chart(rates: dict[str, float], first: dt.date, last: dt.date) -> dict[str, Any]:
    """The answer rate per day (of the replies to questions, the share answered) as an SVG line,
    with the same x axis as `bar_chart`."""
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    step, height, top, left = max(8, min(24, 980 // max(1, len(days)))), 100, 10, 44
    points = [
        (
            round(left + i * step + step / 2, 2),
            round(top + height - height * rates[d.isoformat()], 2),
            d,
            rates[d.isoformat()],
        )
        for i, d in enumerate(days)
        if d.isoformat() in rates
    ]
    every = max(1, math.ceil(len(days) / 10))
    return {
        "width": left + len(days) * step + 8,
        "height": top + height + 28,
        "base": top + height,
        "top": top,
        "left": left,
        "line": " ".join(f"{x},{y}" for x, y, _, _ in points),
        "points": [{"x": x, "y": y, "label": f"{d.isoformat()}: {r:.0%} answered"} for x, y, d, r in points],
        "levels": [{"y": round(top + height - height * v, 2), "label": f"{v:.0%}"} for v in (0, 0.5, 1)],
        "ticks": [
            {"x": left + i * step + step / 2, "label": days[i].strftime("%d/%m")}
            for i in sorted({*range(0, len(days), every), len(days) - 1})
        ],
    }


# --- hand-offs and conversations -------------------------------------------------------------


@router.get("/handoffs")
def handoffs(request: Request, chat: ChatDep) -> Response:
    """The live inbox: open hand-offs oldest first, with who has each, unread counts, the last
    message and the wait so far; updated live (console.js listens to /admin/events)."""
    session = session_of(request)
    if isinstance(session, Response):
        return session
    rows = chat.store.queue()
    return render(request, "handoffs.html", session=session, rows=rows, online=chat.store.online_staff())


def _open_ticket(store, conversation_id: str):
    """The conversation's open ticket and the conversation, if a hand-off is open."""
    ticket = store.open_ticket_of(conversation_id)
    return store.open_ticket_by_id(ticket.id) if ticket is not None else None


def _on_open_ticket(store, conversation_id: str, action: Callable[[str], str | None]) -> str | None:
    """Run a staff action on the conversation's open ticket; the error to show, or None."""
    open_ = _open_ticket(store, conversation_id)
    if open_ is None:
        return _("This conversation has no open hand-off.")
    try:
        return action(open_[0].id)
    except LookupError as exc:
        return str(exc)


@router.get("/conversations/{conversation_id}")
def conversation(conversation_id: str, request: Request, chat: ChatDep) -> Response:
    session = session_of(request)
    if isinstance(session, Response):
        return session
    store = chat.store
    known = is_id(conversation_id)
    messages = [m for m in store.messages(conversation_id) if m.text or m.role != Role.BOT] if known else []
    if not messages:
        text = _("No conversation %(id)s.", id=repr(conversation_id))
        return render(request, "message.html", 404, session=session, title=_("Not found"), text=text)
    ticket = _open_ticket(store, conversation_id)
    if ticket is not None:
        chat.inbox.read(ticket[0].id, session.who)
    lang = ticket[1].lang if ticket else None
    return render(
        request,
        "conversation.html",
        session=session,
        conversation_id=conversation_id,
        messages=messages,
        ticket=ticket,
        canned=store.canned_replies(lang) if ticket else [],
        agents=[a.name for a in store.agents() if a.disabled_at is None] if ticket else [],
        articles=_answers(chat, lang) if ticket else [],
    )


def _answers(chat, lang: str | None) -> list[dict[str, str]]:
    """The served articles of the conversation's language, for "insert an article's answer"."""
    retriever = chat.bot.retriever
    return [
        {"id": a.id, "title": a.title, "text": a.body}
        for a in sorted(retriever.corpus.articles, key=lambda a: a.title.lower())
        if lang is None or a.lang == lang
    ]


def _here(conversation_id: str) -> str:
    return f"/admin/conversations/{quote(conversation_id, safe='')}"


def _text_of(request: Request, form: dict[str, str], here: str) -> str | Response:
    text = form.get("text", "").strip()
    if not text or len(text) > MAX_REPLY:
        return back(request, here, error=_("The reply must be 1 to %(limit)s characters.", limit=MAX_REPLY))
    if text_problem(text):
        return back(request, here, error=_("The reply was not sent: %(why)s.", why=text_problem(text)))
    return text


async def _act(
    request: Request, chat, conversation_id: str, action: Callable[[str], str | None], ok: str
) -> Response:
    """Run a staff action on the conversation's open ticket, back to its page with `ok` or the error."""
    here = _here(conversation_id)
    if not is_id(conversation_id):
        return back(request, here, error=_("No such conversation."))
    error = await run_in_threadpool(_on_open_ticket, chat.store, conversation_id, action)
    return back(request, here, error=error) if error else back(request, here, ok=ok)


@router.post("/conversations/{conversation_id}/reply")
async def reply(conversation_id: str, request: Request, chat: ChatDep) -> Response:
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, form = posted
    here = _here(conversation_id)
    text = _text_of(request, form, here)
    if isinstance(text, Response):
        return text
    close = form.get("close") == "1"

    def send(ticket_id: str) -> str | None:
        _message, delivery = chat.inbox.reply(ticket_id, text, close, session.who)
        if delivery is not None and not delivery.delivered:
            return _("Reply saved, but the customer did not get it: %(detail)s", detail=delivery.detail)
        return None

    return await _act(request, chat, conversation_id, send, _("Reply sent."))


@router.post("/conversations/{conversation_id}/note")
async def note(conversation_id: str, request: Request, chat: ChatDep) -> Response:
    """A private note: staff see it in the transcript, the customer never does."""
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, form = posted
    text = _text_of(request, form, _here(conversation_id))
    if isinstance(text, Response):
        return text

    def add(ticket_id: str) -> None:
        chat.inbox.note(ticket_id, text, session.who)

    return await _act(request, chat, conversation_id, add, _("Note added."))


@router.post("/conversations/{conversation_id}/claim")
async def claim(conversation_id: str, request: Request, chat: ChatDep) -> Response:
    """Take the hand-off, or assign it to another agent; the customer is told who answers."""
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, form = posted
    agent = " ".join(form.get("agent", "").split())[:MAX_NAME] or session.who

    def take(ticket_id: str) -> None:
        chat.inbox.claim(ticket_id, agent)

    return await _act(request, chat, conversation_id, take, _("Assigned to %(agent)s.", agent=agent))


@router.post("/conversations/{conversation_id}/typing")
async def agent_typing(conversation_id: str, request: Request, chat: ChatDep) -> Response:
    """The agent is typing in the reply box (console.js posts this): the customer sees it."""
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, form = posted
    if not is_id(conversation_id):
        return Response(status_code=404)
    on = form.get("typing") == "1"
    await run_in_threadpool(chat.inbox.typing, conversation_id, "agent", session.who, on)
    return Response(status_code=204)


@router.post("/conversations/{conversation_id}/read")
async def read(conversation_id: str, request: Request, chat: ChatDep) -> Response:
    """The agent saw the new messages on the open page (console.js posts this)."""
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, _form = posted
    if not is_id(conversation_id):
        return Response(status_code=404)

    def mark(ticket_id: str) -> None:
        chat.inbox.read(ticket_id, session.who)

    error = await run_in_threadpool(_on_open_ticket, chat.store, conversation_id, mark)
    return Response(status_code=409 if error else 204)


@router.post("/conversations/{conversation_id}/close")
async def return_to_bot(conversation_id: str, request: Request, chat: ChatDep) -> Response:
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, _form = posted

    def close(ticket_id: str) -> None:
        chat.inbox.close(ticket_id, session.who)

    return await _act(request, chat, conversation_id, close, _("The conversation is back with the bot."))


# --- canned replies --------------------------------------------------------------------------


@router.get("/canned")
def canned(request: Request, chat: ChatDep) -> Response:
    session = session_of(request)
    if isinstance(session, Response):
        return session
    return render(request, "canned.html", session=session, rows=chat.store.canned_replies(None))


@router.post("/canned")
async def add_canned(request: Request, chat: ChatDep) -> Response:
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, form = posted
    title, text, lang = form.get("title", "").strip(), form.get("text", "").strip(), form.get("lang", "")
    if lang not in i18n.LANGS or not 1 <= len(title) <= 120 or not 1 <= len(text) <= MAX_REPLY:
        return back(request, "/admin/canned", error=_("A canned reply needs a language, a title and a text."))
    if text_problem(text) or text_problem(title):
        return back(request, "/admin/canned", error=str(text_problem(text) or text_problem(title)))
    await run_in_threadpool(chat.store.add_canned_reply, lang, title, text, session.who)
    return back(request, "/admin/canned", ok=_("Canned reply added."))


@router.post("/canned/{canned_id}/delete")
async def delete_canned(
    canned_id: Annotated[DbInt, PathParam()], request: Request, chat: ChatDep
) -> Response:
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    await run_in_threadpool(chat.store.delete_canned_reply, canned_id)
    return back(request, "/admin/canned", ok=_("Canned reply deleted."))


# --- missed questions ----------------------------------------------------------------------------


@router.get("/missed")
def missed(request: Request, chat: ChatDep) -> Response:
    session = session_of(request)
    if isinstance(session, Response):
        return session
    from bot.service.missed_topics import MissedItem, cluster

    rows, total = chat.store.missed(status=MissedStatus.OPEN, limit=500)
    retriever = chat.bot.retriever
    topics = cluster(
        [MissedItem(m.id, m.text, m.lang, m.created_at) for m in rows], retriever.embedder, retriever
    )
    articles = sorted(retriever.corpus.articles, key=lambda a: (a.lang, a.id))
    by_lang: dict[str, list] = {}
    for article in articles:
        by_lang.setdefault(article.lang, []).append(article)
    answer = chat.bot.thresholds.answer
    # A topic's article is filled in only when it is a confident match: a wrong default taught one
    # click of a damaged-item question to the order-status article.
    confident = {
        t.ids[0]: t.articles[0]["article_id"]
        for t in topics
        if t.articles and t.articles[0]["score"] >= answer
    }
    return render(
        request,
        "missed.html",
        session=session,
        topics=topics,
        by_id={m.id: m for m in rows},
        total=total,
        shown=len(rows),
        by_lang=by_lang,
        confident=confident,
        curated=_curated(chat),
    )


def _curated(chat) -> list[dict[str, Any]]:
    """Questions added to articles in the last week, and whether the live bot now answers each
    with its article: "now answered ✓", "not yet" (curated after the last publish) or not."""
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
    rows, _total = chat.store.missed(since=since, status=MissedStatus.RESOLVED, limit=50)
    published = chat.store.last_publish("published")
    live_since = aware(published.created_at) if published is not None else None
    out = []
    for m in rows:
        article_id = (m.resolution or {}).get("article_id")
        if not article_id:
            continue
        resolved = aware(m.resolved_at) if m.resolved_at is not None else None
        reply, _state = chat.bot.reply(m.text)
        answered = reply.article is not None and reply.article.article_id == article_id
        pending = not answered and (live_since is None or resolved is None or resolved > live_since)
        out.append({"text": m.text, "article_id": article_id, "answered": answered, "pending": pending})
    return out


@router.post("/missed/{missed_id}/resolve")
async def resolve(
    missed_id: Annotated[DbInt, PathParam()], request: Request, store: StoreDep, settings: SettingsDep
) -> Response:
    """Add a missed question to an article's questions, or dismiss it (as the admin API's resolve)."""
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, form = posted
    action, article_id = form.get("action"), (form.get("article_id") or "").strip() or None
    if action not in ("add_question", "dismiss", "not_for_bot"):
        return back(request, "/admin/missed", error=_("Unknown action."))
    kb = settings.kb_path

    def apply() -> tuple[str | None, str | None]:
        from bot.kb.articles import InvalidKnowledgeBase
        from bot.service.curation import Resolution, resolve_missed

        if store.get_missed(missed_id) is None:
            return None, _("No missed question %(missed_id)s.", missed_id=missed_id)
        if action == "add_question" and not article_id:
            return None, _("Choose an article.")
        try:
            done = resolve_missed(store, kb, missed_id, Resolution(action, article_id), session.who)
        except LookupError as exc:
            return None, str(exc.args[0]).rstrip(".") + "."
        except (ValueError, FileExistsError, InvalidKnowledgeBase) as exc:
            return None, str(exc)
        text = done.resolution["question"]
        if action == "dismiss":
            return _("Dismissed: “%(text)s”.", text=text), None
        if action == "not_for_bot":
            return _(
                "“%(text)s” is not for the bot: the quality gate now checks it is handed off.", text=text
            ), None
        return _(
            "Added “%(text)s” to %(article_id)s; it goes live with the next rebuild.",
            text=text,
            article_id=article_id,
        ), None

    ok, error = await run_in_threadpool(apply)
    return back(request, "/admin/missed", ok=ok, error=error)


@router.post("/missed/topic")
async def resolve_topic(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """A topic at once: "add all to article", "dismiss all" or "not for the bot"."""
    posted = await posted_form(request)
    if isinstance(posted, Response):
        return posted
    session, form = posted
    action, article_id = form.get("action"), (form.get("article_id") or "").strip() or None
    ids = [int(x) for x in form.get("ids", "").split(",") if x.strip().isdigit() and len(x.strip()) < 10]
    if action not in ("add_question", "dismiss", "not_for_bot") or not ids:
        return back(request, "/admin/missed", error=_("Unknown action."))
    if action == "add_question" and not article_id:
        return back(request, "/admin/missed", error=_("Choose an article."))

    def apply():
        from bot.service.curation import Resolution, resolve_many

        return resolve_many(store, settings.kb_path, ids, Resolution(action, article_id), session.who)

    done, skipped = await run_in_threadpool(apply)
    verb = {
        "add_question": _("Added to %(id)s", id=article_id),
        "dismiss": _("Dismissed"),
        "not_for_bot": _("Marked not for the bot"),
    }
    count = i18n.ngettext("%(n)d question", "%(n)d questions", len(done)) % {"n": len(done)}
    ok = f"{verb[action]}: {count}." if done else None
    error = _("Skipped: %(why)s", why="; ".join(s.reason for s in skipped[:3])) if skipped else None
    return back(request, "/admin/missed", ok=ok, error=error)

"""The staff console: server-rendered pages under /admin (Jinja2, plain HTML forms, no build step).

Sign-in takes the admin token (FAQBOT_ADMIN_TOKEN) and the staff member's name; the session is a
signed cookie (HttpOnly, SameSite=Strict, 12 hours) keyed by the token itself, so changing the
token signs everybody out. Every POST form carries a CSRF token derived from the session cookie.
Customer text is untrusted: every template is autoescaped, and a strict Content-Security-Policy
allows only the console's own stylesheet and script.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.concurrency import run_in_threadpool

from bot.fields import DbInt, is_id, text_problem

router = APIRouter(prefix="/admin", include_in_schema=False)

HERE = Path(__file__).resolve().parent
COOKIE = "faqbot_console"
LOGIN_COOKIE = "faqbot_console_login"
MAX_AGE = 12 * 60 * 60
MAX_NAME = 64
MAX_REPLY = 4000
STATIC = {"console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8"}
PERIODS = (7, 30, 90)
DECISIONS = ("answer", "clarify", "handoff")
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_env = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined, trim_blocks=True
)
_env.filters["pct"] = lambda value: f"{100 * (value or 0):.1f}%"
_env.filters["when"] = lambda value: value.strftime("%Y-%m-%d %H:%M") if value else ""
_env.filters["num"] = lambda value: "" if value is None else f"{value:.3f}"
_env.filters["path"] = lambda value: quote(str(value), safe="")


@dataclass(frozen=True)
class Session:
    who: str
    csrf: str


# --- sessions, CSRF, rendering ---------------------------------------------------------------


def _token(request: Request) -> str | None:
    secret = request.app.state.settings.admin_token
    value = secret.get_secret_value() if secret is not None else ""
    return value or None


def _signer(token: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(token, salt="faqbot-console-session")


def _csrf_for(token: str, cookie: str) -> str:
    return hmac.new(token.encode(), b"csrf:" + cookie.encode(), hashlib.sha256).hexdigest()


def _same(a: str, b: str) -> bool:
    return secrets.compare_digest(a.encode(), b.encode())


def _render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    params = request.query_params
    context.setdefault("session", None)
    html = _env.get_template(template).render(
        request=request, flash_ok=params.get("ok"), flash_error=params.get("error"), **context
    )
    return HTMLResponse(html, status, headers=HEADERS)


def _disabled(request: Request) -> HTMLResponse:
    return _render(request, "message.html", 403, title="Console disabled", text=DISABLED)


DISABLED = "Console disabled: set FAQBOT_ADMIN_TOKEN"


def _session(request: Request) -> Session | Response:
    """The signed-in staff member, or the response to send instead (disabled, or go sign in)."""
    token = _token(request)
    if token is None:
        return _disabled(request)
    cookie = request.cookies.get(COOKIE)
    if cookie:
        try:
            data = _signer(token).loads(cookie, max_age=MAX_AGE)
        except BadSignature:  # also SignatureExpired
            data = None
        if isinstance(data, dict) and isinstance(data.get("who"), str):
            return Session(data["who"], _csrf_for(token, cookie))
    return RedirectResponse("/admin/login", 303)


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form body (what an HTML form posts); the first value of each field."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    fields: dict[str, str] = {}
    for key, value in parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True):
        fields.setdefault(key, value)
    return fields


async def _posted(request: Request) -> tuple[Session, dict[str, str]] | Response:
    """A signed-in POST with a valid CSRF token, and its form; otherwise the response to send."""
    session = _session(request)
    if isinstance(session, Response):
        return session
    form = await _form(request)
    if not _same(form.get("csrf", ""), session.csrf):
        return _render(request, "message.html", 403, title="Forbidden", text="Missing or wrong CSRF token.")
    return session, form


def _back(path: str, ok: str | None = None, error: str | None = None) -> RedirectResponse:
    flash = {k: v for k, v in (("ok", ok), ("error", error)) if v}
    return RedirectResponse(f"{path}?{urlencode(flash)}" if flash else path, 303)


def _secure(request: Request) -> bool:
    """The Secure cookie flag: FAQBOT_SECURE_COOKIES, or "auto": when the request came over https
    (behind a TLS-terminating proxy, as X-Forwarded-Proto says when FAQBOT_TRUSTED_PROXIES trusts it)."""
    mode = request.app.state.settings.secure_cookies
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")


# --- sign in and out ---------------------------------------------------------------------------


@router.get("/static/{name}")
def static(name: str) -> Response:
    if name not in STATIC:
        return Response("not found", 404)
    body = (HERE / "static" / name).read_bytes()
    return Response(body, media_type=STATIC[name], headers={"Cache-Control": "max-age=300"})


def _login_page(request: Request, status: int = 200, error: str | None = None, name: str = "") -> Response:
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)
    response = _render(request, "login.html", status, csrf=nonce, error=error, name=name)
    response.set_cookie(
        LOGIN_COOKIE,
        nonce,
        max_age=3600,
        path="/admin",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    if _token(request) is None:
        return _disabled(request)
    return _login_page(request)


@router.post("/login")
async def login(request: Request) -> Response:
    token = _token(request)
    if token is None:
        return _disabled(request)
    form = await _form(request)
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not nonce or not _same(form.get("csrf", ""), nonce):
        return _render(request, "message.html", 403, title="Forbidden", text="Missing or wrong CSRF token.")
    name = " ".join(form.get("name", "").split())[:MAX_NAME] or "admin"
    if not _same(form.get("token", ""), token):
        return _login_page(request, 401, "Wrong token.", name)
    response = RedirectResponse("/admin", 303)
    response.set_cookie(
        COOKIE,
        _signer(token).dumps({"who": name}),
        max_age=MAX_AGE,
        path="/admin",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    response.delete_cookie(LOGIN_COOKIE, path="/admin")
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    response = RedirectResponse("/admin/login", 303)
    response.delete_cookie(COOKIE, path="/admin", httponly=True, samesite="strict")
    return response


# --- dashboard ---------------------------------------------------------------------------------


@router.get("")
def dashboard(request: Request, days: int = 30) -> Response:
    session = _session(request)
    if isinstance(session, Response):
        return session
    if days not in PERIODS:
        raise HTTPException(422, f"days: one of {', '.join(map(str, PERIODS))}")
    now = dt.datetime.now(dt.UTC)
    since = now - dt.timedelta(days=days)
    stats = request.app.state.chat.store.stats(since)
    retriever = request.app.state.chat.bot.retriever
    top = [
        {**row, "title": (retriever.article(row["article_id"]) or {}).get("title", "")}
        for row in stats["top_articles"]
    ]
    chart = bar_chart(stats["by_day"], since.date(), now.date())
    return _render(request, "dashboard.html", session=session, days=days, stats=stats, top=top, chart=chart)


def bar_chart(by_day: dict[str, dict[str, int]], first: dt.date, last: dt.date) -> dict[str, Any]:
    """Stacked bars (bot replies per decision) for every day from `first` to `last`, as SVG geometry."""
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    kinds = list(DECISIONS) + sorted({k for d in by_day.values() for k in d} - set(DECISIONS))
    totals = [sum(by_day.get(day.isoformat(), {}).values()) for day in days]
    peak = max(totals, default=0) or 1
    step, height, top, left = 16, 120, 14, 34
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
            bars.append(
                {"x": left + i * step + 2, "y": round(y, 2), "w": step - 4, "h": round(h, 2), "kind": kind,
                 "label": f"{day.isoformat()}: {n} {kind}"}
            )  # fmt: skip
    ticks = [
        {"x": left + i * step + step / 2, "label": days[i].strftime("%d/%m")}
        for i in sorted({0, len(days) // 2, len(days) - 1})
    ]
    return {
        "width": left + len(days) * step + 8,
        "height": top + height + 24,
        "base": top + height,
        "top": top,
        "left": left,
        "peak": peak,
        "bars": bars,
        "ticks": ticks,
        "kinds": [k for k in kinds if any(b["kind"] == k for b in bars)] or list(DECISIONS),
        "total": sum(totals),
    }


# --- hand-offs and conversations -------------------------------------------------------------


@router.get("/handoffs")
def handoffs(request: Request) -> Response:
    session = _session(request)
    if isinstance(session, Response):
        return session
    rows = request.app.state.chat.store.open_tickets()
    return _render(request, "handoffs.html", session=session, rows=rows)


def _open_ticket(store, conversation_id: str):
    return next(((t, c) for t, c in store.open_tickets() if c.id == conversation_id), None)


def _on_open_ticket(store, conversation_id: str, action: Callable[[str], str | None]) -> str | None:
    """Run a staff action on the conversation's open ticket; the error to show, or None."""
    open_ = _open_ticket(store, conversation_id)
    if open_ is None:
        return "This conversation has no open hand-off."
    try:
        return action(open_[0].id)
    except LookupError as exc:
        return str(exc)


@router.get("/conversations/{conversation_id}")
def conversation(conversation_id: str, request: Request) -> Response:
    session = _session(request)
    if isinstance(session, Response):
        return session
    store = request.app.state.chat.store
    known = is_id(conversation_id)
    messages = [m for m in store.messages(conversation_id) if m.text or m.role != "bot"] if known else []
    if not messages:
        text = f"No conversation {conversation_id!r}."
        return _render(request, "message.html", 404, session=session, title="Not found", text=text)
    return _render(
        request,
        "conversation.html",
        session=session,
        conversation_id=conversation_id,
        messages=messages,
        ticket=_open_ticket(store, conversation_id),
    )


@router.post("/conversations/{conversation_id}/reply")
async def reply(conversation_id: str, request: Request) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    _, form = posted
    here = f"/admin/conversations/{quote(conversation_id, safe='')}"
    text = form.get("text", "").strip()
    if not text or len(text) > MAX_REPLY:
        return _back(here, error=f"The reply must be 1 to {MAX_REPLY} characters.")
    if text_problem(text) or not is_id(conversation_id):
        return _back(here, error=f"The reply {text_problem(text) or 'is for an unknown conversation'}.")
    store = request.app.state.chat.store

    def send(ticket_id: str) -> str | None:
        from bot.curation import agent_reply

        _, delivery = agent_reply(store, ticket_id, text, False, request.app.state.outbound)
        if delivery is not None and not delivery.delivered:
            return f"Reply saved, but the customer did not get it: {delivery.detail}"
        return None

    error = await run_in_threadpool(_on_open_ticket, store, conversation_id, send)
    return _back(here, error=error) if error else _back(here, ok="Reply sent.")


@router.post("/conversations/{conversation_id}/close")
async def return_to_bot(conversation_id: str, request: Request) -> Response:
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted

    here = f"/admin/conversations/{quote(conversation_id, safe='')}"
    if not is_id(conversation_id):
        return _back(here, error="No such conversation.")
    store = request.app.state.chat.store

    def close(ticket_id: str) -> None:
        from bot.curation import return_to_bot

        return_to_bot(store, ticket_id, request.app.state.outbound)

    error = await run_in_threadpool(_on_open_ticket, store, conversation_id, close)
    return _back(here, error=error) if error else _back(here, ok="The conversation is back with the bot.")


# --- missed questions ----------------------------------------------------------------------------


@router.get("/missed")
def missed(request: Request) -> Response:
    session = _session(request)
    if isinstance(session, Response):
        return session
    from bot.cluster import MissedItem, cluster

    chat = request.app.state.chat
    rows, total = chat.store.missed(status="open", limit=500)
    retriever = chat.bot.retriever
    topics = cluster(
        [MissedItem(m.id, m.text, m.lang, m.created_at) for m in rows], retriever.embedder, retriever
    )
    articles = sorted(retriever.corpus.articles, key=lambda a: (a["lang"], a["id"]))
    return _render(
        request,
        "missed.html",
        session=session,
        topics=topics,
        by_id={m.id: m for m in rows},
        total=total,
        shown=len(rows),
        articles=articles,
    )


@router.post("/missed/{missed_id}/resolve")
async def resolve(missed_id: Annotated[DbInt, PathParam()], request: Request) -> Response:
    """Add a missed question to an article's questions, or dismiss it (as the admin API's resolve)."""
    posted = await _posted(request)
    if isinstance(posted, Response):
        return posted
    session, form = posted
    action, article_id = form.get("action"), form.get("article_id") or None
    if action not in ("add_question", "dismiss"):
        return _back("/admin/missed", error="Unknown action.")
    kb = request.app.state.settings.kb_path
    store = request.app.state.chat.store

    def apply() -> tuple[str | None, str | None]:
        from bot.articles import InvalidKnowledgeBase
        from bot.curation import Resolution, resolve_missed

        if store.get_missed(missed_id) is None:
            return None, f"No missed question {missed_id}."
        if action == "add_question" and not article_id:
            return None, "Choose an article."
        try:
            done = resolve_missed(store, kb, missed_id, Resolution(action, article_id), session.who)
        except LookupError as exc:
            return None, str(exc.args[0]).rstrip(".") + "."
        except (ValueError, FileExistsError, InvalidKnowledgeBase) as exc:
            return None, str(exc)
        text = done.resolution["question"]
        if action == "dismiss":
            return f"Dismissed: “{text}”.", None
        return f"Added “{text}” to {article_id}; it goes live with the next rebuild.", None

    ok, error = await run_in_threadpool(apply)
    return _back("/admin/missed", ok=ok, error=error)


# --- articles and "try the bot" ------------------------------------------------------------------


@router.get("/articles")
def articles(request: Request, q: Annotated[str, Query(max_length=500)] = "") -> Response:
    session = _session(request)
    if isinstance(session, Response):
        return session
    from bot.policy import decide

    bot = request.app.state.chat.bot
    retriever = bot.retriever  # one index version for the whole request
    q = q.strip()
    result = decision = None
    if q:
        result = retriever.search(q, k=5)
        decision = decide(result, bot.thresholds)
    listed = sorted(retriever.corpus.articles, key=lambda a: (a["lang"], a["id"]))
    return _render(
        request,
        "articles.html",
        session=session,
        q=q,
        result=result,
        decision=decision,
        articles=listed,
        version=retriever.version,
    )

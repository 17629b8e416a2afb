"""What every staff-console page shares: rendering (autoescaped Jinja2, security headers), the
signed session cookie, CSRF tokens and urlencoded forms (see bot.web.admin.console)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.storage.schema import aware
from bot.web.admin import i18n
from bot.web.admin.i18n import _
from bot.web.deps import settings_of

HERE = Path(__file__).resolve().parent
COOKIE = "faqbot_console"
MAX_AGE = 12 * 60 * 60
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

_env = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
_env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
_env.filters["pct"] = lambda value: f"{100 * (value or 0):.1f}%"
_env.filters["when"] = i18n.when
_env.filters["translated"] = i18n.translated
_env.filters["num"] = lambda value: "" if value is None else f"{value:.3f}"
_env.filters["iso"] = lambda value: aware(value).isoformat() if value is not None else ""
_env.filters["path"] = lambda value: quote(str(value), safe="")


@dataclass(frozen=True)
class Session:
    who: str
    csrf: str
    sid: str = ""  # the server-side session (the store's console_sessions) that logout revokes


def token_of(request: Request) -> str | None:
    secret = settings_of(request).admin_token
    value = secret.get_secret_value() if secret is not None else ""
    return value or None


def signer(token: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(token, salt="faqbot-console-session")


def csrf_for(token: str, cookie: str) -> str:
    return hmac.new(token.encode(), b"csrf:" + cookie.encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return secrets.compare_digest(a.encode(), b.encode())


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page; the flash message of the redirect before it (`back`) only if the console wrote it."""
    params = request.query_params
    ok, error = params.get("ok"), params.get("error")
    token = token_of(request)
    if not (token and same(params.get("sig", ""), _flash_sig(token, ok or "", error or ""))):
        ok = error = None  # a link with text of someone else's choosing shows nothing
    context.setdefault("session", None)
    language(request)
    html = _env.get_template(template).render(
        request=request, flash_ok=ok, flash_error=error, lang=i18n.current(), **context
    )
    return HTMLResponse(html, status, headers=HEADERS)


def language(request: Request) -> str:
    """The staff member's language (the switch's cookie, else FAQBOT_CONSOLE_LANG), made current
    with the configured time zone for everything this request renders and says."""
    settings = settings_of(request)
    chosen = request.cookies.get(i18n.COOKIE, "")
    lang = chosen if chosen in i18n.LANGS else settings.console_lang
    i18n.use(lang, settings.timezone)
    return lang


def _flash_sig(token: str, ok: str, error: str) -> str:
    message = b"flash:" + ok.encode() + b"\0" + error.encode()
    return hmac.new(token.encode(), message, hashlib.sha256).hexdigest()[:32]


def disabled(request: Request) -> HTMLResponse:
    return render(request, "message.html", 403, title=_("Console disabled"), text=DISABLED)


DISABLED = "Console disabled: set FAQBOT_ADMIN_TOKEN"


def session_of(request: Request) -> Session | Response:
    """The signed-in staff member, or the response to send instead (disabled, or go sign in)."""
    language(request)
    token = token_of(request)
    if token is None:
        return disabled(request)
    cookie = request.cookies.get(COOKIE)
    if cookie:
        try:
            data = signer(token).loads(cookie, max_age=MAX_AGE)
        except BadSignature:  # also SignatureExpired
            data = None
        if isinstance(data, dict) and isinstance(data.get("who"), str) and isinstance(data.get("sid"), str):
            chat = getattr(request.app.state, "chat", None)
            # signed is not enough: the session must still be open (signing out closes it everywhere)
            if chat is not None and chat.store.console_session(data["sid"]) is not None:
                return Session(data["who"], csrf_for(token, cookie), data["sid"])
    return RedirectResponse("/admin/login", 303)


async def form_of(request: Request) -> dict[str, str]:
    """An urlencoded form body (what an HTML form posts); the first value of each field."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    fields: dict[str, str] = {}
    for key, value in parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True):
        fields.setdefault(key, value)
    return fields


async def posted_form(request: Request) -> tuple[Session, dict[str, str]] | Response:
    """A signed-in POST with a valid CSRF token, and its form; otherwise the response to send."""
    session = session_of(request)
    if isinstance(session, Response):
        return session
    form = await form_of(request)
    if not same(form.get("csrf", ""), session.csrf):
        return render(
            request, "message.html", 403, title=_("Forbidden"), text=_("Missing or wrong CSRF token.")
        )
    return session, form


def back(request: Request, path: str, ok: str | None = None, error: str | None = None) -> RedirectResponse:
    """Redirect to `path` (after a POST), with a flash message signed so that only the console's
    own messages are ever shown (`render`)."""
    flash = {k: v for k, v in (("ok", ok), ("error", error)) if v}
    if flash:
        flash["sig"] = _flash_sig(token_of(request) or "", ok or "", error or "")
    return RedirectResponse(f"{path}?{urlencode(flash)}" if flash else path, 303)


def secure(request: Request) -> bool:
    """The Secure cookie flag: FAQBOT_SECURE_COOKIES, or "auto": when the request came over https
    (behind a TLS-terminating proxy, as X-Forwarded-Proto says when FAQBOT_TRUSTED_PROXIES trusts it)."""
    mode = settings_of(request).secure_cookies
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")

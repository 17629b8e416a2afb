"""Security headers on every kind of response, the demo page's strict CSP, Secure cookies."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.web.app import create_app
from bot.web.chat_api import DEMO_CSP, STATIC

TOKEN = "staff-token"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture
def make_client(quick_service, monkeypatch):
    monkeypatch.setenv("FAQBOT_ADMIN_TOKEN", TOKEN)
    opened = []

    def make(base_url: str = "http://testserver", address: str = "203.0.113.9", **settings) -> TestClient:
        app = create_app(Settings(**settings), quick_service())
        client = TestClient(app, base_url=base_url, client=(address, 1), follow_redirects=False)
        opened.append(client.__enter__())
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)


def test_api_responses_carry_the_security_headers(make_client):
    client = make_client()
    for r in (
        client.post("/api/v1/chat", json={"text": "spese di spedizione"}),
        client.post("/api/v1/chat", json={"text": ""}),
        client.get("/api/v1/articles/nope"),
        client.get("/no/such/route"),
    ):
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert client.post("/api/v1/chat", json={"text": "ciao"}).headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in client.get("/healthz").headers


def test_hsts_only_over_https(make_client):
    assert make_client("https://testserver").get("/healthz").headers["strict-transport-security"]


def test_the_demo_page_is_served_under_a_strict_csp(make_client):
    r = make_client().get("/")
    assert r.headers["content-security-policy"] == DEMO_CSP
    policy = dict(part.strip().split(" ", 1) for part in DEMO_CSP.split(";"))
    assert policy["default-src"] == "'none'" and policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in DEMO_CSP
    css = make_client().get("/demo.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


class InlineFinder(HTMLParser):
    """Whatever a strict CSP would block in a page: inline scripts, styles, handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.inline: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "style":
            self.inline.append("<style>")
        if tag == "script" and "src" not in names:
            self.inline.append("<script> without src")
        self.inline += [f"{tag} {name}=" for name in names if name == "style" or name.startswith("on")]


def test_the_demo_page_has_nothing_inline_a_strict_csp_would_block():
    finder = InlineFinder()
    finder.feed((STATIC / "demo.html").read_text(encoding="utf-8"))
    assert finder.inline == []
    finder.feed("<div style='x'><script>1</script>")  # the finder does find them
    assert len(finder.inline) == 2


def test_swagger_ui_is_off_but_the_openapi_document_is_there(make_client):
    client = make_client()
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").json()["paths"]["/api/v1/chat"]


def login_cookie(client: TestClient) -> str:
    """The Set-Cookie of the sign-in form (its CSRF nonce), lower-cased."""
    page = client.get("/admin/login")
    assert page.status_code == 200
    return page.headers["set-cookie"].lower()


def sign_in(client: TestClient) -> str:
    """Sign in; the session's Set-Cookie, lower-cased."""
    page = client.get("/admin/login")
    r = client.post("/admin/login", data={"csrf": CSRF.search(page.text).group(1), "token": TOKEN})
    assert r.status_code == 303, r.text
    return r.headers["set-cookie"].lower()


def flags_ok(cookie: str, secure: bool) -> bool:
    return (
        "httponly" in cookie and "samesite=strict" in cookie and "path=/admin" in cookie
        and ("; secure" in cookie) is secure
    )  # fmt: skip


@pytest.mark.parametrize(
    ("base_url", "mode", "secure"),
    [
        ("http://testserver", "auto", False),
        ("https://testserver", "auto", True),
        ("http://testserver", "always", True),
        ("https://testserver", "never", False),
    ],
)
def test_console_cookies_are_secure_over_https_or_when_configured(make_client, base_url, mode, secure):
    client = make_client(base_url, secure_cookies=mode)
    assert flags_ok(login_cookie(client), secure)
    if base_url.startswith("https") or not secure:  # a client sends Secure cookies over https only
        assert flags_ok(sign_in(client), secure)


def test_https_behind_a_trusted_proxy_makes_cookies_secure(make_client):
    client = make_client(address="10.1.2.3", trusted_proxies=["10.0.0.0/8"])
    client.headers["X-Forwarded-Proto"] = "https"
    assert flags_ok(login_cookie(client), secure=True)
    untrusted = make_client(address="192.0.2.50", trusted_proxies=["10.0.0.0/8"])
    untrusted.headers["X-Forwarded-Proto"] = "https"
    assert flags_ok(login_cookie(untrusted), secure=False)
    assert flags_ok(sign_in(untrusted), secure=False)


def test_console_pages_keep_their_own_stricter_headers(make_client):
    client = make_client()
    sign_in(client)
    page = client.get("/admin")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert csp.startswith("default-src 'none'") and "frame-ancestors 'none'" in csp
    assert "form-action 'self'" in csp
    assert page.headers["referrer-policy"] == "same-origin" and page.headers["cache-control"] == "no-store"


def test_an_empty_admin_token_disables_the_admin_api(quick_service, monkeypatch):
    """Before: FAQBOT_ADMIN_TOKEN="" let `Authorization: Bearer ` (an empty token) in."""
    monkeypatch.setenv("FAQBOT_ADMIN_TOKEN", "")
    assert Settings().admin_token is None
    with TestClient(create_app(Settings(), quick_service())) as client:
        r = client.get("/api/v1/admin/handoffs", headers={"Authorization": "Bearer "})
        assert r.status_code == 403 and "disabled" in r.json()["detail"]
        assert client.get("/admin/login").status_code == 403

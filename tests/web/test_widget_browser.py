"""The widget in a real browser (Debian's Chromium, headless) against a real `faqbot serve`."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from tests.serve_kit import serving

pytestmark = pytest.mark.model
ADMIN_TOKEN = "browser-test-token"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def browser_kb(tmp_path_factory) -> Path:
    """A copy of the sample KB, so console tests may edit articles without touching the repository."""
    kb = tmp_path_factory.mktemp("browser") / "kb_articles"
    shutil.copytree(REPO / "kb_articles", kb)
    return kb


@pytest.fixture(scope="module")
def server(sample_home, browser_kb, tmp_path_factory):
    """`faqbot serve` as a user starts it, on a free port, until the module's tests are done."""
    env = {
        **os.environ,
        "FAQBOT_HOME": str(sample_home),
        "FAQBOT_KB_DIR": str(browser_kb),
        "FAQBOT_BUSINESS_HOURS": '["mon-sun 00:00-24:00"]',  # staffed now, whatever the clock says
        "FAQBOT_ADMIN_TOKEN": ADMIN_TOKEN,
        "FAQBOT_CONSOLE_LANG": "en",  # the console browser test reads it in English
    }
    with serving(env, tmp_path_factory.mktemp("server") / "server.log") as (base, _port):
        yield base


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("FAQBOT_REQUIRE_BROWSER"):
            pytest.fail("Chromium is required (apt-get install chromium)")
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def ask(page, text: str) -> None:
    page.fill(".fb-input", text)
    page.click(".fb-send")


def bot_messages(page, decision: str):
    return page.locator(f'.fb-msg[data-role="bot"][data-decision="{decision}"]')


def test_customer_journey_in_the_widget(server, browser, sample_home, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(f"{server}/")
    launcher = page.locator(".fb-launcher")
    assert launcher.get_attribute("aria-expanded") == "false"
    launcher.click()
    assert launcher.get_attribute("aria-expanded") == "true"
    assert page.locator(".fb-panel").is_visible()

    ask(page, "dove è il mio ordine?")
    answers = bot_messages(page, "answer")
    answers.first.wait_for()
    assert "ordine" in answers.first.inner_text().lower()

    ask(page, "spedizione")
    bot_messages(page, "clarify").first.wait_for()
    suggestions = page.locator(".fb-suggestion")
    assert suggestions.count() >= 2
    picked = suggestions.first.inner_text()
    suggestions.first.click()
    page.wait_for_function(
        "() => document.getElementById('faqbot-widget').shadowRoot"
        ".querySelectorAll('.fb-msg[data-role=bot][data-decision=answer]').length === 2"
    )
    assert picked.split()[0].lower() in answers.last.inner_text().lower()

    with page.expect_response(lambda r: r.url.endswith("/api/v1/feedback")) as sent:
        page.locator(".fb-feedback-up").last.click()
    assert sent.value.status == 200
    page.locator(".fb-thanks").last.wait_for()
    with sqlite3.connect(sample_home / "var" / "faqbot.db") as db:
        assert db.execute("SELECT count(*) FROM feedback WHERE helpful").fetchone()[0] >= 1

    ask(page, "grazie mille!")
    thanks = bot_messages(page, "smalltalk")
    thanks.first.wait_for()
    assert thanks.first.inner_text().startswith("Prego!") and page.locator(".fb-handoff").count() == 0

    ask(page, "voglio parlare con un operatore")
    notice = page.locator(".fb-handoff")
    notice.first.wait_for()
    assert "minuti" in notice.first.inner_text()
    page.screenshot(path=str(tmp_path / "widget.png"))

    messages = page.locator(".fb-msg").count()
    page.reload()
    page.locator(".fb-msg").first.wait_for()
    assert page.locator(".fb-msg").count() == messages, "the conversation survives a page load"


def test_customer_text_is_shown_as_text_not_markup(server, browser):
    page = browser.new_page()
    page.goto(f"{server}/")
    page.click(".fb-launcher")
    ask(page, '<img src=x onerror="window.hacked=1"> dove si trova Giove?')
    page.locator('.fb-msg[data-role="bot"]').first.wait_for()
    user = page.locator('.fb-msg[data-role="user"]').first
    assert "<img" in user.inner_text()
    assert page.evaluate("() => window.hacked") is None


def test_escape_closes_the_panel_and_returns_focus(server, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    page.goto(f"{server}/")
    page.click(".fb-launcher")
    page.keyboard.press("Escape")
    assert page.locator(".fb-launcher").get_attribute("aria-expanded") == "false"
    focused = page.evaluate(
        "() => document.getElementById('faqbot-widget').shadowRoot.activeElement.className"
    )
    assert "fb-launcher" in focused


def test_an_agents_reply_reaches_the_customer_in_the_widget(server, browser):
    page = browser.new_page()
    page.goto(f"{server}/")
    page.click(".fb-launcher")
    ask(page, "vorrei parlare con una persona")
    page.locator(".fb-handoff").first.wait_for()
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    queue = httpx.get(f"{server}/api/v1/admin/handoffs", headers=auth).json()["items"]
    ticket = queue[-1]["ticket_id"]
    reply = {"text": "Buongiorno, sono Giulia del servizio clienti.", "close": True}
    assert (
        httpx.post(f"{server}/api/v1/admin/handoffs/{ticket}/reply", json=reply, headers=auth).status_code
        == 200
    )
    agent = page.locator('.fb-msg[data-role="agent"]')
    agent.first.wait_for(timeout=15_000)
    assert "Giulia" in agent.first.inner_text()


# --- under a strict Content-Security-Policy ----------------------------------------------------------

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI || "inline"}`);
}, true);
"""


def strict_page(browser):
    """A page that records every CSP violation, from DOM events and from the console."""
    page = browser.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    page.console_messages_csp = []
    page.on(
        "console",
        lambda m: page.console_messages_csp.append(m.text) if "Content Security Policy" in m.text else None,
    )
    return page


def violations(page) -> list[str]:
    return page.evaluate("() => window.__violations") + page.console_messages_csp


def chat_in_widget(page) -> None:
    page.click(".fb-launcher")
    ask(page, "dove è il mio ordine?")
    bot_messages(page, "answer").first.wait_for()
    assert page.locator(".fb-answer").first.inner_html().strip(), "answer HTML rendered"
    ask(page, "voglio parlare con un operatore")
    page.locator(".fb-handoff").first.wait_for()
    # The widget's own stylesheet applies (a blocked <style> would leave the launcher unstyled).
    background = page.evaluate(
        "() => getComputedStyle(document.getElementById('faqbot-widget').shadowRoot"
        ".querySelector('.fb-launcher')).backgroundColor"
    )
    assert background == "rgb(47, 111, 94)"


def test_the_widget_works_under_the_demo_pages_strict_csp(server, browser):
    page = strict_page(browser)
    response = page.goto(f"{server}/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "unsafe" not in policy
    chat_in_widget(page)
    assert (
        page.evaluate("() => getComputedStyle(document.querySelector('.logo')).color") == "rgb(47, 111, 94)"
    )
    assert violations(page) == []
    # The detector does see a violation: an inline <style> is blocked under this policy.
    page.evaluate("() => document.head.appendChild(document.createElement('style')).textContent = 'p{}'")
    page.wait_for_function("() => window.__violations.length > 0")
    assert any("style-src" in v for v in violations(page))


@pytest.fixture
def shop_site(server):
    """A shop at another origin (its own local HTTP server) that embeds the widget under a strict
    policy: only its own styles, and the bot's origin for the script and the API calls."""
    import http.server
    import threading

    page = (
        '<!doctype html><html lang="it"><head><meta charset="utf-8"><title>Shop</title></head>'
        f'<body><h1>Shop</h1><script async src="{server}/widget.js" data-color="#2f6f5e"></script>'
        "</body></html>"
    ).encode()
    policy = (
        f"default-src 'none'; script-src {server}; connect-src {server}; style-src 'self'; "
        "img-src 'self'; base-uri 'none'; frame-ancestors 'none'"
    )

    class Shop(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Security-Policy", policy)
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


def test_the_widget_on_another_sites_page_with_a_strict_csp(shop_site, server, browser):
    page = strict_page(browser)
    response = page.goto(shop_site)
    assert "style-src 'self'" in response.headers["content-security-policy"]
    assert not shop_site.startswith(server), "another origin"
    chat_in_widget(page)
    assert violations(page) == []

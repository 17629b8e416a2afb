"""The widget in a real browser (Debian's Chromium, headless) against a real `faqbot serve`."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
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
        "FAQBOT_RATE_LIMIT_IP": "0",  # every test browses from 127.0.0.1
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


@pytest.fixture
def page(browser):
    """A fresh page in its own context (own storage), closed after the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    yield context.new_page()
    context.close()


def ask(page, text: str) -> None:
    page.fill(".fb-input", text)
    page.click(".fb-send")


def bot_messages(page, decision: str):
    return page.locator(f'.fb-msg[data-role="bot"][data-decision="{decision}"]')


def conversation_of(page) -> str | None:
    """The conversation id the widget keeps in the page's storage."""
    return page.evaluate(
        "() => { const k = Object.keys(localStorage).find((k) => k.startsWith('faqbot:'));"
        " return k ? JSON.parse(localStorage.getItem(k)).conversation_id : null; }"
    )


def open_tickets(server: str) -> list[dict]:
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    return httpx.get(f"{server}/api/v1/admin/handoffs", headers=auth).json()["items"]


def handoff_here(page, server: str, text: str = "voglio parlare con un operatore") -> str:
    """Ask for a person in the open widget; the ticket of this page's conversation."""
    ask(page, text)
    page.locator(".fb-handoff").first.wait_for()
    conversation = conversation_of(page)
    return next(t["ticket_id"] for t in open_tickets(server) if t["conversation_id"] == conversation)


def agent_says(server: str, ticket: str, text: str, close: bool = False) -> None:
    """Agent Giulia replies through the admin API (with `close`, hands back to the bot)."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}", "X-Faqbot-User": "Giulia"}
    reply = httpx.post(
        f"{server}/api/v1/admin/handoffs/{ticket}/reply", json={"text": text, "close": close}, headers=headers
    )
    assert reply.status_code == 200, reply.text


def needs_route(server: str, method: str, path: str) -> None:
    """Skip while the server does not have this route yet (the widget is written against its contract)."""
    paths = httpx.get(f"{server}/openapi.json").json()["paths"]
    if method.lower() not in paths.get(path, {}):
        pytest.skip(f"route not there yet: {method} {path}")


def shadow_text(page) -> str:
    return page.evaluate(
        "() => document.getElementById('faqbot-widget').shadowRoot.querySelector('.fb-root').innerText"
    )


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
    assert picked.startswith("1. "), "numbered, so 'reply with the number' makes sense"
    suggestions.first.click()
    page.wait_for_function(
        "() => document.getElementById('faqbot-widget').shadowRoot"
        ".querySelectorAll('.fb-msg[data-role=bot][data-decision=answer]').length === 2"
    )
    assert picked.split()[1].lower() in answers.last.inner_text().lower()

    with page.expect_response(lambda r: r.url.endswith("/api/v1/feedback")) as sent:
        page.locator(".fb-feedback-up").last.click()
    assert sent.value.status == 200
    page.locator(".fb-thanks").last.wait_for()
    with sqlite3.connect(sample_home / "var" / "faqbot.db") as db:
        assert db.execute("SELECT count(*) FROM feedback WHERE helpful").fetchone()[0] >= 1

    ask(page, "grazie mille!")
    thanks = bot_messages(page, "smalltalk")
    thanks.first.wait_for()
    assert thanks.first.locator(".fb-text").inner_text().startswith("Prego!")
    assert page.locator(".fb-handoff").count() == 0

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


# --- a hand-off that feels like a person is there ------------------------------------------------------

SHADOW = "document.getElementById('faqbot-widget').shadowRoot"


def test_did_you_mean_buttons_are_numbered_with_none_and_a_person(server, page):
    page.goto(f"{server}/")
    page.click(".fb-launcher")
    ask(page, "spedizione")
    bot_messages(page, "clarify").first.wait_for()
    options = page.locator(".fb-suggestion").all_inner_texts()
    assert len(options) >= 2
    assert [o.split(". ", 1)[0] for o in options] == [str(i) for i in range(1, len(options) + 1)]
    assert page.locator(".fb-none").inner_text() == "Nessuna di queste"
    assert page.locator(".fb-person").inner_text() == "Parla con una persona"

    with page.expect_request(lambda r: r.url.endswith("/api/v1/chat")) as sent:
        page.click(".fb-none")
    assert sent.value.post_data_json["text"] == "Nessuna di queste"
    page.locator('.fb-msg[data-role="bot"]').nth(1).wait_for()

    ask(page, "spedizione")
    bot_messages(page, "clarify").nth(1).wait_for()
    with page.expect_request(lambda r: r.url.endswith("/api/v1/chat")) as sent:
        page.locator(".fb-person").last.click()
    assert sent.value.post_data_json["text"] == "Voglio parlare con una persona"
    page.locator(".fb-handoff").first.wait_for()


def test_a_handoff_shows_its_short_reference_and_the_servers_wait(server, page):
    page.goto(f"{server}/")
    page.click(".fb-launcher")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/chat")) as replied:
        ask(page, "voglio parlare con un operatore")
    handoff = replied.value.json()["handoff"]
    notice = page.locator(".fb-handoff").first
    notice.wait_for()
    shown = handoff.get("reference") or handoff["ticket_id"]
    assert page.locator(".fb-ticket").inner_text() == f"Numero di riferimento: {shown}"
    assert handoff["message"] in notice.inner_text()


def test_new_conversation_asks_first_and_ends_an_open_handoff(server, page):
    page.goto(f"{server}/")
    page.click(".fb-launcher")
    ask(page, "dove è il mio ordine?")
    bot_messages(page, "answer").first.wait_for()
    page.click(".fb-reset")
    confirm = page.locator(".fb-confirm")
    assert confirm.is_visible() and "nuova conversazione" in confirm.inner_text().lower()
    page.keyboard.press("Escape")  # no: the question goes, the conversation stays
    assert not confirm.is_visible() and page.locator(".fb-panel").is_visible()
    assert page.locator(".fb-msg").count() == 2

    ticket = handoff_here(page, server)
    old = conversation_of(page)
    page.click(".fb-reset")
    assert "servizio clienti" in confirm.inner_text()
    page.click(".fb-confirm-no")
    assert page.locator(".fb-msg").count() == 4

    after_reset: list[str] = []
    page.click(".fb-reset")
    with page.expect_request(lambda r: r.url.endswith(f"/api/v1/conversations/{old}/end")) as ended:
        page.click(".fb-confirm-yes")
    assert ended.value.method == "POST" and ended.value.post_data_json == {}
    page.locator(".fb-welcome").wait_for()
    page.wait_for_function(f"() => {SHADOW}.querySelectorAll('.fb-msg').length === 0")
    page.on("request", lambda r: after_reset.append(r.url) if old in r.url else None)
    assert conversation_of(page) is None and not confirm.is_visible()
    assert "fb-input" in page.evaluate(f"() => {SHADOW}.activeElement.className")
    if ended.value.response().ok:
        assert ticket not in {t["ticket_id"] for t in open_tickets(server)}, "no orphaned hand-off"
    page.wait_for_timeout(4500)  # longer than one poll
    assert after_reset == [], "nothing listens to the old conversation any more"


def test_agent_replies_while_closed_badge_the_launcher_and_the_title(server, page):
    page.goto(f"{server}/")
    page.click(".fb-launcher")
    ticket = handoff_here(page, server)
    assert page.locator('.fb-msg[data-decision="handoff"] .fb-contact-input').is_visible(), "under the notice"
    page.click(".fb-close")
    nudge = page.locator(".fb-nudge")
    nudge.wait_for()
    assert "Lasciaci la tua e-mail" in nudge.inner_text(), "offered again when the customer may leave"
    assert page.locator(".fb-nudge input[type=email]").is_visible()
    assert not page.locator(".fb-badge").is_visible()
    title = page.title()

    agent_says(server, ticket, "Buongiorno, sono Giulia: guardo subito il suo ordine.")
    page.locator('.fb-msg[data-role="agent"]').wait_for(state="attached", timeout=15_000)
    page.wait_for_timeout(200)  # the notice that Giulia joined may come just before or after
    badge = page.locator(".fb-badge")
    unread, shown = page.evaluate(
        f"() => [{SHADOW}.querySelectorAll('.fb-msg[data-role=agent], .fb-msg[data-role=system]').length,"
        f" {SHADOW}.querySelector('.fb-badge').textContent]"
    )
    assert badge.is_visible() and shown == str(unread) and unread >= 1
    assert page.title() == f"({unread}) {title}"
    assert f"{unread}" in page.get_attribute(".fb-launcher", "aria-label")
    assert not nudge.is_visible(), "an agent answered: no need for the e-mail any more"

    page.click(".fb-launcher")
    assert not badge.is_visible() and page.title() == title
    agent = page.locator('.fb-msg[data-role="agent"]').first
    assert agent.locator(".fb-author").inner_text().startswith("Giulia")
    bubble = (
        "(n) => { const s = getComputedStyle(n);"
        " return [s.backgroundColor, s.textAlign, s.fontSize, s.borderStyle]; }"
    )
    bot = page.locator('.fb-msg[data-role="bot"]').first.evaluate(bubble)
    assert agent.evaluate(bubble)[0] != bot[0], "an agent's bubble is not the bot's"
    notices = page.locator('.fb-msg[data-role="system"]')
    if notices.count():  # the server says who joined ("Ti risponde Giulia ...")
        background, align, size, border = notices.first.evaluate(bubble)
        assert align == "center" and float(size[:-2]) < float(bot[2][:-2]) and border == "none"
        assert background in ("rgba(0, 0, 0, 0)", "transparent")


def test_the_email_fallback(server, page):
    needs_route(server, "post", "/api/v1/conversations/{conversation_id}/contact")
    page.goto(f"{server}/")
    page.click(".fb-launcher")
    ticket = handoff_here(page, server)
    form = page.locator(".fb-msg .fb-contact")
    form.locator("input").fill("non-una-email")
    with page.expect_response(lambda r: r.url.endswith("/contact")) as answered:
        form.locator("button").click()
    assert answered.value.status == 422
    error = form.locator(".fb-contact-error")
    assert error.inner_text() == "Questo indirizzo e-mail non sembra valido: controllalo e riprova."
    assert "fb-contact-input" in page.evaluate(f"() => {SHADOW}.activeElement.className")

    form.locator("input").fill("mario.rossi@example.com")
    with page.expect_response(lambda r: r.url.endswith("/contact")) as answered:
        form.locator("button").click()
    assert answered.value.ok
    notice = page.locator('.fb-msg[data-role="system"]').last
    notice.wait_for()
    assert answered.value.json()["message"] in notice.inner_text()
    assert page.locator(".fb-contact").count() == 0, "asked once"
    assert "fb-input" in page.evaluate(f"() => {SHADOW}.activeElement.className")
    contact = next(t["contact"] for t in open_tickets(server) if t["ticket_id"] == ticket)
    assert "mario.rossi@example.com" in str(contact)
    page.click(".fb-close")
    assert not page.locator(".fb-nudge").is_visible()


def test_live_messages_and_typing_over_the_event_stream(server, page):
    needs_route(server, "get", "/api/v1/conversations/{conversation_id}/events")
    needs_route(server, "post", "/api/v1/conversations/{conversation_id}/typing")
    typing: list[dict] = []
    page.on("request", lambda r: typing.append(r.post_data_json) if r.url.endswith("/typing") else None)
    polls: list[str] = []
    page.on("request", lambda r: polls.append(r.url) if "/messages" in r.url else None)
    page.goto(f"{server}/")
    page.click(".fb-launcher")
    with page.expect_request(lambda r: "/events" in r.url, timeout=10_000) as stream:
        ticket = handoff_here(page, server)
    assert stream.value.resource_type == "eventsource"

    # The customer types: "typing" at most every 3 s, then "stopped" on send.
    started = time.monotonic()
    page.locator(".fb-input").press_sequentially("un momento, cerco il numero", delay=60)
    most = 1 + int((time.monotonic() - started) / 3)
    assert 1 <= len(typing) <= most and all(t == {"typing": True} for t in typing)
    with page.expect_request(lambda r: r.url.endswith("/typing") and r.post_data_json == {"typing": False}):
        page.keyboard.press("Enter")

    # The agent types, then writes: both arrive over the stream, once each.
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}", "X-Faqbot-User": "Giulia"}
    url = f"{server}/api/v1/admin/handoffs/{ticket}/typing"
    assert httpx.post(url, json={"typing": True}, headers=auth).status_code == 204
    page.wait_for_function(
        f"() => {SHADOW}.querySelector('.fb-agent-typing').textContent === 'Giulia sta scrivendo…'"
    )
    agent_says(server, ticket, "Eccomi, sono Giulia.")
    agent = page.locator('.fb-msg[data-role="agent"]')
    agent.first.wait_for(timeout=10_000)
    assert page.locator(".fb-agent-typing").inner_text() == ""
    page.wait_for_timeout(1000)
    assert agent.count() == 1, "shown once"
    assert len(polls) <= 1, "pushed, not polled (one catch-up when the stream opened)"

    agent_says(server, ticket, "Ho chiuso la richiesta, buona giornata.", close=True)
    page.wait_for_function(
        "() => { const k = Object.keys(localStorage).find((k) => k.startsWith('faqbot:'));"
        " return JSON.parse(localStorage.getItem(k)).agent === false; }",
        timeout=5_000,
    )
    assert agent.count() == 2


def test_without_an_event_stream_the_widget_polls(server, page):
    page.route("**/events", lambda route: route.fulfill(status=404, body="{}"))
    page.goto(f"{server}/")
    page.click(".fb-launcher")
    with page.expect_request(lambda r: "/messages" in r.url, timeout=10_000):
        ticket = handoff_here(page, server)
    agent_says(server, ticket, "Buongiorno, la aiuto io.")
    agent = page.locator('.fb-msg[data-role="agent"]')
    agent.first.wait_for(timeout=10_000)
    page.wait_for_timeout(4500)  # another poll: the same message is not shown twice
    assert agent.count() == 1
    page.reload()
    agent.first.wait_for()
    assert agent.count() == 1, "a reload resumes the conversation"


def test_an_agent_decision_shows_no_bot_message(server, page):
    page.goto(f"{server}/")
    page.click(".fb-launcher")
    handoff_here(page, server)
    notices = page.locator('.fb-msg[data-role="system"]')
    before = notices.count()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/chat")) as replied:
        ask(page, "ci siete?")
    reply = replied.value.json()
    if reply["decision"] != "agent":
        pytest.skip(f"the server answers {reply['decision']!r} during a hand-off, not 'agent' yet")
    page.wait_for_function(f"() => !{SHADOW}.querySelector('.fb-typing')")
    assert page.locator('.fb-msg[data-role="bot"]').count() == 1, "only the hand-off notice"
    assert page.locator(".fb-handoff").count() == 1
    assert notices.count() == before + (1 if reply["text"].strip() else 0)


def test_suggested_topics_in_the_empty_state(server, page):
    needs_route(server, "get", "/api/v1/suggestions")
    page.goto(f"{server}/")
    with page.expect_request(lambda r: "/api/v1/suggestions?lang=it" in r.url):
        page.click(".fb-launcher")
    topics = page.locator(".fb-topic")
    topics.first.wait_for()
    title = topics.first.inner_text()
    with page.expect_request(lambda r: r.url.endswith("/api/v1/chat")) as sent:
        topics.first.click()
    assert sent.value.post_data_json["text"] == title
    page.locator('.fb-msg[data-role="bot"]').first.wait_for()
    assert topics.count() == 0, "only while the conversation is empty"


def test_no_topics_when_the_server_has_none(server, page):
    page.route(
        "**/api/v1/suggestions*", lambda route: route.fulfill(status=404, body='{"detail":"Not Found"}')
    )
    page.goto(f"{server}/")
    with page.expect_response(lambda r: "/api/v1/suggestions" in r.url):
        page.click(".fb-launcher")
    page.wait_for_timeout(200)
    assert page.locator(".fb-topics").inner_text() == "" and page.locator(".fb-msg").count() == 0


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        (422, "Mi dispiace, non riesco a elaborare questo messaggio. Prova a riformularlo."),
        (503, "Qualcosa non ha funzionato da parte nostra. Riprova tra poco."),
    ],
)
def test_a_refused_message_is_explained_in_the_widgets_words(server, page, status, shown):
    detail = '{"detail": "text: at most 2000 characters, got 2001"}'
    page.route("**/api/v1/chat", lambda route: route.fulfill(status=status, body=detail))
    page.goto(f"{server}/")
    page.click(".fb-launcher")
    ask(page, "dove è il mio ordine?")
    error = bot_messages(page, "error").first
    error.wait_for()
    assert error.locator(".fb-text").inner_text() == shown
    assert "characters" not in shadow_text(page), "never the server's raw English detail"


# --- one language per conversation; too many messages -----------------------------------------------------


@pytest.fixture(scope="module")
def limited_server(sample_home, tmp_path_factory):
    """A server whose conversations may send one message every 10 s (after their first)."""
    home = tmp_path_factory.mktemp("limited-home")
    shutil.copytree(sample_home / "index", home / "index", symlinks=True)
    env = {
        **os.environ,
        "FAQBOT_HOME": str(home),
        "FAQBOT_BUSINESS_HOURS": '["mon-sun 00:00-24:00"]',
        "FAQBOT_RATE_LIMIT_IP": "0",
        "FAQBOT_RATE_LIMIT_CONVERSATION": "6",
        "FAQBOT_RATE_LIMIT_CONVERSATION_BURST": "1",
    }
    with serving(env, tmp_path_factory.mktemp("limited") / "server.log") as (base, _port):
        yield base


def test_an_english_conversation_on_an_italian_page_is_english_throughout(limited_server, page):
    page.goto(f"{limited_server}/")
    page.click(".fb-launcher")
    assert page.get_attribute(".fb-input", "placeholder") == "Scrivi la tua domanda…", (
        "the page's language first"
    )
    ask(page, "Hello, where is my order?")
    bot_messages(page, "answer").first.wait_for()
    ask(page, "I want to talk to a person")
    page.locator(".fb-handoff").first.wait_for()
    assert page.get_attribute(".fb-input", "placeholder") == "Type your question…"
    assert page.get_attribute(".fb-launcher", "aria-label") == "Open chat"
    assert page.locator(".fb-reset").inner_text() == "New conversation"
    assert page.locator(".fb-send").inner_text() == "Send"
    assert page.locator(".fb-ticket").inner_text().startswith("Reference number: ")
    assert page.locator(".fb-contact label").inner_text() == "Leave us your e-mail and we'll reply there"
    assert page.get_attribute(".fb-root", "lang") == "en"

    with page.expect_response(lambda r: r.url.endswith("/api/v1/chat")) as limited:
        ask(page, "Are you there?")
    assert limited.value.status == 429
    seconds = int(limited.value.headers["retry-after"])
    error = bot_messages(page, "error").last
    error.wait_for()
    assert error.locator(".fb-text").inner_text() == f"You're typing too fast: try again in {seconds} s"
    assert page.input_value(".fb-input") == "Are you there?", "one keystroke to try again"
    text = shadow_text(page)
    assert "too many messages" not in text, "never the server's raw detail"
    for italian in ("Numero di riferimento", "Lasciaci", "Nuova conversazione", "Invia", "Tu:", "Intendevi"):
        assert italian not in text


def test_too_fast_in_italian(limited_server, page):
    page.goto(f"{limited_server}/")
    page.click(".fb-launcher")
    ask(page, "dove è il mio ordine?")
    bot_messages(page, "answer").first.wait_for()
    ask(page, "quanto costa la spedizione?")
    page.locator('.fb-msg[data-role="bot"]').nth(1).wait_for()
    with page.expect_response(lambda r: r.url.endswith("/api/v1/chat")) as limited:
        ask(page, "e i resi?")
    assert limited.value.status == 429
    seconds = int(limited.value.headers["retry-after"])
    error = bot_messages(page, "error").last
    error.wait_for()
    assert (
        error.locator(".fb-text").inner_text() == f"Stai scrivendo troppo in fretta: riprova tra {seconds} s"
    )
    assert page.input_value(".fb-input") == "e i resi?", "one keystroke to try again"

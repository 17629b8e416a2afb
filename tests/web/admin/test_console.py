"""The staff console (/admin): sign-in, CSRF, dashboard, hand-offs, missed questions, try the bot."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.web.app import create_app
from tests.web.test_app import service_factory  # noqa: F401 - fixture
from tests.web.test_widget_browser import ADMIN_TOKEN, browser, browser_kb, server  # noqa: F401 - fixtures

TOKEN = "staff-token"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PAGES = [
    "/admin",
    "/admin/handoffs",
    "/admin/missed",
    "/admin/articles",
    "/admin/articles/new",
    "/admin/articles/returns-how",
    "/admin/articles/returns-how/edit",
    "/admin/try",
    "/admin/import",
    "/admin/conversations/c_x",
]


@pytest.fixture
def console(service_factory, monkeypatch):  # noqa: F811
    """A TestClient over the small KB with an admin token configured; not signed in."""
    monkeypatch.setenv("FAQBOT_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("FAQBOT_WEB_CHANNELS", '["web", "app"]')  # a second channel for the reports
    service = service_factory()
    with TestClient(create_app(Settings(), service), follow_redirects=False) as client:
        client.service = service
        yield client


def sign_in(client, token: str = TOKEN, name: str = "giulia"):
    page = client.get("/admin/login")
    assert page.status_code == 200
    return client.post(
        "/admin/login", data={"csrf": CSRF.search(page.text).group(1), "token": token, "name": name}
    )


@pytest.fixture
def staff(console):
    """The console client, signed in as giulia."""
    r = sign_in(console)
    assert r.status_code == 303 and r.headers["location"] == "/admin"
    return console


def csrf_of(client, path: str = "/admin") -> str:
    page = client.get(path)
    assert page.status_code == 200, page.text
    return CSRF.search(page.text).group(1)


def chat(client, text: str, **extra) -> dict:
    r = client.post("/api/v1/chat", json={"text": text, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def missed_item(client, text: str):
    rows, _ = client.service.store.missed(status=None, limit=500)
    return next(m for m in rows if m.text == text)


def flash(page) -> str:
    found = re.search(r'<p class="flash (?:ok|error)"[^>]*>(.*?)</p>', page.text, re.S)
    return found.group(1) if found else ""


# --- sign-in, sessions, CSRF ------------------------------------------------------------------


def test_wrong_token_is_refused_and_right_token_signs_in(console):
    wrong = sign_in(console, token="guess")
    assert wrong.status_code == 401 and "wrong token" in wrong.text
    assert "faqbot_console=" not in wrong.headers.get("set-cookie", "")
    assert console.get("/admin").status_code == 303

    right = sign_in(console, name="  Giulia   Rossi ")
    assert right.status_code == 303 and right.headers["location"] == "/admin"
    cookie = right.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=43200" in cookie
    page = console.get("/admin")
    assert page.status_code == 200 and "Giulia Rossi" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_the_name_defaults_to_admin(console):
    assert sign_in(console, name="").status_code == 303
    assert '<span class="who">admin</span>' in console.get("/admin").text


@pytest.mark.parametrize("path", PAGES)
def test_pages_redirect_to_the_login_without_a_session(console, path):
    r = console.get(path)
    assert r.status_code == 303 and r.headers["location"] == "/admin/login"


def test_a_forged_or_foreign_cookie_is_not_a_session(console):
    from itsdangerous import URLSafeTimedSerializer

    console.cookies.set("faqbot_console", "not-signed", path="/admin")
    assert console.get("/admin").status_code == 303
    forged = URLSafeTimedSerializer("another-token", salt="faqbot-console-session").dumps({"who": "eve"})
    console.cookies.set("faqbot_console", forged, path="/admin")
    assert console.get("/admin").status_code == 303


def test_login_needs_its_csrf_token(console):
    console.get("/admin/login")
    r = console.post("/admin/login", data={"token": TOKEN})
    assert r.status_code == 403 and "faqbot_console=" not in r.headers.get("set-cookie", "")


def test_posts_need_the_csrf_token(staff):
    ticket_chat = chat(staff, "voglio parlare con un operatore")
    cid = ticket_chat["conversation_id"]
    chat(staff, "qual è la distanza da Giove?")
    item = missed_item(staff, "qual è la distanza da Giove?")
    targets = [
        ("/admin/logout", {}),
        (f"/admin/missed/{item.id}/resolve", {"action": "dismiss"}),
        (f"/admin/conversations/{cid}/reply", {"text": "ciao"}),
        (f"/admin/conversations/{cid}/close", {}),
    ]
    for path, data in targets:
        assert staff.post(path, data=data).status_code == 403, path
        assert staff.post(path, data={**data, "csrf": "0" * 64}).status_code == 403, path
    assert missed_item(staff, "qual è la distanza da Giove?").status == "open"
    assert cid in [c.id for _, c in staff.service.store.open_tickets()]
    assert [m.role for m in staff.service.store.messages(cid)] == ["user", "bot"]
    assert staff.get("/admin").status_code == 200  # still signed in


def test_logout_ends_the_session(staff):
    r = staff.post("/admin/logout", data={"csrf": csrf_of(staff)})
    assert r.status_code == 303 and r.headers["location"] == "/admin/login"
    assert staff.get("/admin").status_code == 303


def test_logout_revokes_the_session_even_for_a_copied_cookie(staff):
    """Found by a red-team pass: a cookie copied before logout stayed valid for 12 hours."""
    from bot.web.admin.pages import COOKIE

    copied = staff.cookies.get(COOKIE)
    assert staff.get("/admin").status_code == 200
    staff.post("/admin/logout", data={"csrf": csrf_of(staff)})
    staff.cookies.set(COOKIE, copied, path="/admin")
    assert staff.get("/admin").status_code == 303  # back to the sign-in page
    sign_in(staff)  # a new sign-in is a new session
    assert staff.get("/admin").status_code == 200


def test_without_a_token_the_console_is_disabled(service_factory, monkeypatch):  # noqa: F811
    monkeypatch.delenv("FAQBOT_ADMIN_TOKEN", raising=False)
    with TestClient(create_app(Settings(), service_factory()), follow_redirects=False) as client:
        for path in ("/admin/login", "/admin", "/admin/missed"):
            r = client.get(path)
            assert r.status_code == 403 and "Console disabled: set FAQBOT_ADMIN_TOKEN" in r.text
        assert client.post("/admin/login", data={"token": ""}).status_code == 403


# --- pages -------------------------------------------------------------------------------------


def test_dashboard_shows_counts_rates_and_a_chart(staff):
    answered = chat(staff, "Ho dimenticato la password")
    chat(staff, "voglio parlare con un operatore")
    chat(staff, "spese di spedizione", channel="app")
    staff.post("/api/v1/feedback", json={"conversation_id": answered["conversation_id"], "helpful": True})
    page = staff.get("/admin", params={"days": 7})
    assert page.status_code == 200
    assert '<span class="value" id="conversations">3</span>' in page.text
    assert '<span class="value" id="handoff-rate">33.3%</span>' in page.text
    assert '<span class="value" id="deflection">66.7%</span>' in page.text
    assert '<span class="value" id="helpful">1</span>' in page.text
    assert "<code>reset-password</code>" in page.text and "Come reimpostare la password" in page.text
    assert "<td>app</td>" in page.text
    app_row = re.search(r"<tr><td>app</td>.*?</tr>", page.text).group(0)
    assert '<td class="n">100.0%</td><td class="n">0.0%</td><td class="n">–</td>' in app_row  # self-served
    svg = re.search(r"<svg class=\"chart\".*?</svg>", page.text, re.S).group(0)
    assert svg.count('<rect class="bar answer"') == 1 and svg.count('<rect class="bar handoff"') == 1
    assert staff.get("/admin", params={"days": 5}).status_code == 422


def test_bar_chart_stacks_decisions_per_day():
    import datetime as dt

    from bot.web.admin.console import bar_chart

    first = dt.date(2025, 3, 1)
    chart = bar_chart({"2025-03-02": {"answer": 3, "handoff": 1}}, first, first + dt.timedelta(days=6))
    assert [b["kind"] for b in chart["bars"]] == ["answer", "handoff"]
    answer, handoff = chart["bars"]
    assert answer["h"] == 3 * handoff["h"] and handoff["y"] + handoff["h"] == answer["y"]
    assert answer["y"] + answer["h"] == chart["base"] and chart["peak"] == 4
    assert [level["label"] for level in chart["levels"]] == ["0", "1", "2", "3", "4"]
    assert len(chart["ticks"]) == 7  # a label for every day of a week


def test_a_90_day_chart_is_readable_unscaled():
    import datetime as dt

    from bot.web.admin.console import bar_chart

    first = dt.date(2025, 1, 1)
    chart = bar_chart({"2025-02-01": {"answer": 37}}, first, first + dt.timedelta(days=89))
    assert chart["width"] <= 1100  # the page's width: drawn at 1:1, its 12 px labels stay 12 px
    assert 8 <= len(chart["ticks"]) <= 11 and chart["peak"] == 40
    assert [level["label"] for level in chart["levels"]] == ["0", "10", "20", "30", "40"]


def test_deflection_counts_only_conversations_that_asked_and_were_not_handed_off(staff):
    chat(staff, "ciao")  # small talk only: not counted
    chat(staff, "Ho dimenticato la password")  # answered: self-served
    chat(staff, "voglio parlare con un operatore")  # handed off
    page = staff.get("/admin", params={"days": 7}).text
    assert '<span class="value" id="conversations">3</span>' in page
    assert '<span class="value" id="asked">2</span>' in page
    assert '<span class="value" id="deflection">50.0%</span>' in page
    assert '<span class="value" id="handoff-rate">50.0%</span>' in page
    assert "<td>it</td>" in page and "Answer rate per day" in page
    stats = staff.get("/api/v1/admin/stats", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert stats["by_lang"]["it"]["asked"] == 2 and stats["abandoned_rate"] == 0.0


def test_handoff_queue_agent_reply_and_return_to_bot(staff):
    first = chat(staff, "voglio parlare con un operatore")
    cid = first["conversation_id"]
    queue = staff.get("/admin/handoffs")
    assert f'href="/admin/conversations/{cid}"' in queue.text
    page = staff.get(f"/admin/conversations/{cid}")
    assert "voglio parlare con un operatore" in page.text and "Return to bot" in page.text
    csrf = CSRF.search(page.text).group(1)

    r = staff.post(f"/admin/conversations/{cid}/reply", data={"csrf": csrf, "text": "Ciao, sono Giulia."})
    assert r.status_code == 303 and r.headers["location"].startswith(f"/admin/conversations/{cid}?ok=")
    assert "Reply sent." in flash(staff.get(r.headers["location"]))
    assert (
        staff.post(f"/admin/conversations/{cid}/reply", data={"csrf": csrf, "text": "  "}).status_code == 303
    )

    r = staff.post(f"/admin/conversations/{cid}/close", data={"csrf": csrf})
    assert r.status_code == 303
    transcript = staff.get(r.headers["location"])
    assert "back with the bot" in flash(transcript) and "Return to bot" not in transcript.text
    said = [(m.role, m.text) for m in staff.service.store.messages(cid) if m.role in ("agent", "system")]
    assert said[1] == ("agent", "Ciao, sono Giulia.") and said[0][0] == said[2][0] == "system"
    assert said[2][1].startswith("L'operatore ha chiuso")  # said[0]: who answers (the reply claimed it)
    assert staff.service.store.open_tickets() == []
    assert "Nobody is waiting" in staff.get("/admin/handoffs").text
    again = staff.post(f"/admin/conversations/{cid}/close", data={"csrf": csrf})
    assert "no open hand-off" in flash(staff.get(again.headers["location"]))
    back = chat(staff, "Ho dimenticato la password", conversation_id=cid)
    assert back["decision"] == "answer"


def test_unknown_conversation_is_404(staff):
    assert staff.get("/admin/conversations/c_nope").status_code == 404


def test_missed_question_added_to_an_article(staff, small_kb):
    question = "qual è la distanza da Giove?"
    chat(staff, question)
    page = staff.get("/admin/missed")
    assert page.status_code == 200 and question in page.text
    item = missed_item(staff, question)
    assert f'action="/admin/missed/{item.id}/resolve"' in page.text
    assert '<option value="returns-how">' in page.text  # every published article is offered
    csrf = CSRF.search(page.text).group(1)

    r = staff.post(
        f"/admin/missed/{item.id}/resolve",
        data={"csrf": csrf, "action": "add_question", "article_id": "returns-how"},
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/admin/missed?ok=")
    assert question in (small_kb / "it" / "returns-how.md").read_text(encoding="utf-8")
    done = missed_item(staff, question)
    assert done.status == "resolved" and done.resolved_by == "giulia"
    assert done.resolution["action"] == "add_question" and done.resolution["article_id"] == "returns-how"
    after = staff.get(r.headers["location"])
    assert "returns-how" in flash(after) and "No open missed questions" in after.text

    twice = staff.post(
        f"/admin/missed/{item.id}/resolve",
        data={"csrf": csrf, "action": "add_question", "article_id": "returns-how"},
    )
    assert "already resolved" in flash(staff.get(twice.headers["location"]))
    assert (small_kb / "it" / "returns-how.md").read_text(encoding="utf-8").count(question) == 1


def test_resolve_errors_are_shown_as_a_flash(staff, small_kb):
    chat(staff, "assumete commessi?")
    item = missed_item(staff, "assumete commessi?")
    csrf = csrf_of(staff, "/admin/missed")
    r = staff.post(
        f"/admin/missed/{item.id}/resolve",
        data={"csrf": csrf, "action": "add_question", "article_id": "no-such-article"},
    )
    assert r.status_code == 303 and "?error=" in r.headers["location"]
    assert "no article &#39;no-such-article&#39;" in flash(staff.get(r.headers["location"]))
    r = staff.post("/admin/missed/99999/resolve", data={"csrf": csrf, "action": "dismiss"})
    assert "No missed question 99999" in flash(staff.get(r.headers["location"]))
    assert missed_item(staff, "assumete commessi?").status == "open"


def test_an_edit_that_breaks_the_kb_is_reported_and_the_file_restored(staff, small_kb):
    answered = chat(staff, "quanto costa spedire")  # shipping-costs' own question, rated unhelpful
    feedback = {"conversation_id": answered["conversation_id"], "helpful": False}
    assert staff.post("/api/v1/feedback", json=feedback).status_code == 200
    item = missed_item(staff, "quanto costa spedire")
    before = (small_kb / "it" / "returns-how.md").read_text(encoding="utf-8")
    r = staff.post(
        f"/admin/missed/{item.id}/resolve",
        data={"csrf": csrf_of(staff), "action": "add_question", "article_id": "returns-how"},
    )
    assert "?error=" in r.headers["location"] and "identical" in flash(staff.get(r.headers["location"]))
    assert (small_kb / "it" / "returns-how.md").read_text(encoding="utf-8") == before
    assert missed_item(staff, "quanto costa spedire").status == "open"


def test_dismiss(staff):
    chat(staff, "fate confezioni regalo?")
    item = missed_item(staff, "fate confezioni regalo?")
    r = staff.post(f"/admin/missed/{item.id}/resolve", data={"csrf": csrf_of(staff), "action": "dismiss"})
    assert r.status_code == 303 and "Dismissed" in flash(staff.get(r.headers["location"]))
    done = missed_item(staff, "fate confezioni regalo?")
    assert done.status == "dismissed" and done.resolved_by == "giulia"
    assert "fate confezioni regalo?" not in staff.get("/admin/missed").text


def test_try_the_bot_shows_scores_and_signals(staff):
    page = staff.get("/admin/try", params={"q": "Ho dimenticato la password"})
    assert page.status_code == 200
    assert (
        '<strong id="decision">answer</strong>' in page.text and '<strong id="lang">it</strong>' in page.text
    )
    first = re.search(r'<tr class="hit">(.*?)</tr>', page.text, re.S).group(1)
    assert "<code>reset-password</code>" in first and "Ho dimenticato la password" in first
    assert re.search(r'class="n score">0\.\d{3}<', first) or re.search(r'class="n score">1\.000<', first)
    for signal in ("dense", "lexical", "fuzzy", "lang"):
        assert f"<span>{signal} " in first
    listing = staff.get("/admin/try")
    assert 'class="hit"' not in listing.text
    assert "<code>shipping-costs-en</code>" in staff.get("/admin/articles").text


def test_customer_text_is_escaped_everywhere(staff):
    evil = '<script>alert("x")</script> qual è la distanza da Giove?'
    cid = chat(staff, evil)["conversation_id"]
    chat(staff, "voglio parlare con un operatore", conversation_id=cid)
    for path in (
        f"/admin/conversations/{cid}",
        "/admin/missed",
        "/admin/try?q=" + evil,
        "/admin/articles?q=" + evil,
    ):
        page = staff.get(path)
        assert page.status_code == 200, path
        assert "<script>alert" not in page.text, path
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text, path
    page = staff.get("/admin/missed?ok=<b>hi</b>")
    assert "<b>hi</b>" not in page.text and "hi</b>" not in page.text and "&lt;b&gt;hi" not in page.text


def test_a_link_with_a_message_of_someone_elses_choosing_shows_nothing(console):
    """Found by a red-team pass: the login page showed attacker-chosen text from `?error=`."""
    lure = "Session expired: call +39 02 1234 5678 and read out your token"
    for path in ("/admin/login", "/admin/login?error=" + lure, "/admin/login?ok=" + lure + "&sig=00"):
        assert "call +39" not in console.get(path).text
    sign_in(console)
    assert "call +39" not in console.get("/admin/missed?error=" + lure).text


def test_static_assets(console):
    assert console.get("/admin/static/console.css").headers["content-type"].startswith("text/css")
    assert console.get("/admin/static/console.js").status_code == 200
    assert console.get("/admin/static/..%2Fconsole.py").status_code == 404


# --- in a real browser -----------------------------------------------------------------------


@pytest.mark.model
def test_console_in_a_browser_sign_in_dismiss_add_and_chart(server, browser, browser_kb):  # noqa: F811
    question = "qual è la distanza tra la Terra e Giove?"
    r = httpx.post(f"{server}/api/v1/chat", json={"text": question})
    assert r.status_code == 200 and r.json()["decision"] != "answer"

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(f"{server}/admin/missed")
    assert page.url.endswith("/admin/login")
    page.fill("input[name=name]", "Giulia")
    page.fill("input[name=token]", "wrong")
    page.click("form.login button")
    page.locator(".flash.error").wait_for()
    page.fill("input[name=token]", ADMIN_TOKEN)
    page.click("form.login button")
    page.wait_for_url(f"{server}/admin")
    assert page.locator(".who").inner_text() == "Giulia"

    page.goto(f"{server}/admin/missed")
    row = page.locator("li.missed", has_text=question)
    assert row.count() >= 1
    with page.expect_navigation():
        row.first.locator("button.dismiss").click()
    assert "Dismissed" in page.locator(".flash.ok").inner_text()
    assert page.locator("li.missed", has_text=question).count() == 0

    # the key path: a missed question becomes an alternate question of an article in two clicks
    other = "si possono portare i cani nei vostri negozi?"
    assert httpx.post(f"{server}/api/v1/chat", json={"text": other}).json()["decision"] != "answer"
    page.goto(f"{server}/admin/missed")
    row = page.locator("li.missed", has_text=other).first
    row.locator("input[name=article_id]").fill("store-locations")  # a searchable picker
    with page.expect_navigation():
        row.locator("form.add button").click()
    assert page.locator(".flash.ok").count() == 1
    assert other in (browser_kb / "it" / "store-locations.md").read_text(encoding="utf-8")

    page.goto(f"{server}/admin")
    chart = page.locator("svg.chart").first
    assert chart.is_visible() and page.locator("svg.chart rect.bar").count() >= 1
    assert errors == [], errors  # no CSP violations or script errors
    page.close()


# --- missed topics: add all, not for the bot, no wrong default --------------------------------


def test_a_topic_is_added_to_an_article_at_once(staff, small_kb):
    questions = ["si può fare il reso in negozio?", "posso fare il reso in un vostro negozio?"]
    for text in questions:
        chat(staff, text)
    ids = [missed_item(staff, text).id for text in questions]
    page = staff.get("/admin/missed").text
    assert 'list="articles-it"' in page and '<datalist id="articles-it">' in page
    assert (
        '<option value="shipping-costs-en">'
        not in page.split('<datalist id="articles-it">')[1].split("</datalist>")[0]
    )
    r = staff.post(
        "/admin/missed/topic",
        data={
            "csrf": csrf_of(staff),
            "action": "add_question",
            "article_id": "returns-how",
            "ids": ",".join(map(str, ids)),
        },
    )
    assert "Added to returns-how: 2 questions" in flash(staff.get(r.headers["location"]))
    text = (small_kb / "it" / "returns-how.md").read_text(encoding="utf-8")
    assert all(q in text for q in questions)
    assert {missed_item(staff, q).status for q in questions} == {"resolved"}


def test_nothing_is_filled_in_unless_the_match_is_confident(staff):
    chat(staff, "fate consegne il sabato mattina in montagna?")
    page = staff.get("/admin/missed").text
    form = page.split('class="missed"')[1]
    assert re.search(r'name="article_id" list="articles-it" value=""', form)


def test_not_for_the_bot_keeps_it_for_the_quality_gate(staff, small_kb):
    from bot.quality.evaluate import load_eval_set

    chat(staff, "qual è la distanza da Giove?")
    item = missed_item(staff, "qual è la distanza da Giove?")
    r = staff.post(f"/admin/missed/{item.id}/resolve", data={"csrf": csrf_of(staff), "action": "not_for_bot"})
    assert "not for the bot" in flash(staff.get(r.headers["location"]))
    assert missed_item(staff, "qual è la distanza da Giove?").status == "dismissed"
    kept = [i for i in load_eval_set(small_kb / "eval") if i.text == "qual è la distanza da Giove?"]
    assert len(kept) == 1 and kept[0].gold == () and kept[0].lang == "it"


def test_the_api_resolves_many_and_says_what_it_skipped(staff, small_kb):
    for text in ("si può fare il reso in negozio?", "assumete commessi?"):
        chat(staff, text)
    ids = [missed_item(staff, t).id for t in ("si può fare il reso in negozio?", "assumete commessi?")]
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Faqbot-User": "giulia"}
    body = {"ids": [*ids, 99999], "action": "add_question", "article_id": "returns-how"}
    answer = staff.post("/api/v1/admin/missed/resolve", json=body, headers=headers).json()
    assert answer["resolved"] == ids and [s["id"] for s in answer["skipped"]] == [99999]
    again = staff.post("/api/v1/admin/missed/resolve", json={**body, "ids": ids}, headers=headers).json()
    assert again["resolved"] == [] and all("already" in s["reason"] for s in again["skipped"])

"""The console's knowledge-base pages over HTTP: list and filters, an article with its figures, the
editor (errors beside their field, warnings confirmed before saving, a stale edit caught), status
changes, deletion with confirmation, the live preview, and publish now with its report."""

from __future__ import annotations

import html
import re
import time

import pytest
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.web.app import create_app
from tests.web.admin.test_console import CSRF, TOKEN, flash, sign_in
from tests.web.test_app import service_factory  # noqa: F401 - fixture

NEW = {
    "id": "gift-cards",
    "lang": "it",
    "title": "Buoni regalo",
    "questions": "come uso un buono regalo\ndove inserisco il codice del buono",
    "body": "Inserisci il **codice** del buono nel carrello, prima di pagare.",
    "tags": "pagamenti",
    "status": "published",
}


@pytest.fixture
def staff(service_factory, monkeypatch):  # noqa: F811
    monkeypatch.setenv("FAQBOT_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("FAQBOT_RELOAD_INTERVAL", "0.2")
    service = service_factory()
    with TestClient(create_app(Settings(), service), follow_redirects=False) as client:
        assert sign_in(client).status_code == 303
        client.service = service
        yield client


def csrf(client, path: str = "/admin/articles") -> str:
    return CSRF.search(client.get(path).text).group(1)


def post(client, path: str, **data):
    return client.post(path, data={"csrf": csrf(client), **data})


def field_problems(page, name: str) -> list[str]:
    """The problems shown right after the field `name`."""
    problem = r'<span class="field-problem[^"]*"[^>]*>[^<]*</span>'
    found = re.search(rf'name="{name}"[^>]*>(?:[^<]*</textarea>)?</label>((?:{problem})*)', page.text)
    return [html.unescape(m) for m in re.findall(r">([^<]+)</span>", found.group(1))] if found else []


def test_the_list_filters_and_links_every_article(staff):
    page = staff.get("/admin/articles")
    assert page.status_code == 200 and 'href="/admin/articles/returns-how"' in page.text
    english = staff.get("/admin/articles", params={"lang": "en"}).text
    assert "shipping-costs-en" in english and "<code>returns-how</code>" not in english
    found = staff.get("/admin/articles", params={"q": "reso"}).text
    assert "<code>returns-how</code>" in found and "<code>shipping-costs</code>" not in found
    never = staff.get("/admin/articles", params={"never": "1"}).text
    assert "<code>returns-how</code>" in never  # nobody asked yet


def test_create_shows_errors_beside_their_field_then_saves(staff, small_kb):
    bad = post(staff, "/admin/articles/new", **{**NEW, "questions": ""})
    assert bad.status_code == 422 and "Not saved" in bad.text
    assert field_problems(bad, "questions") == ["required field is missing or empty"]
    assert 'value="Buoni regalo"' in bad.text  # what was typed is kept
    bad = post(staff, "/admin/articles/new", **{**NEW, "follow_ups": "no-such-article"})
    assert bad.status_code == 422 and field_problems(bad, "follow_ups") == [
        "unknown article 'no-such-article'"
    ]
    assert field_problems(bad, "questions") == []
    assert not (small_kb / "it" / "gift-cards.md").exists()
    saved = post(staff, "/admin/articles/new", **NEW)
    assert saved.status_code == 303 and saved.headers["location"].startswith("/admin/articles/gift-cards")
    page = staff.get(saved.headers["location"])
    assert "Saved gift-cards" in flash(page) and "<strong>codice</strong>" in page.text
    assert "giulia · create" in page.text  # who and when
    assert (small_kb / "it" / "gift-cards.md").exists()
    taken = post(staff, "/admin/articles/new", **NEW)
    assert taken.status_code == 409 and "is taken" in taken.text


def test_a_near_duplicate_is_shown_before_saving_and_saved_once_confirmed(staff, small_kb):
    near = {**NEW, "questions": "le spese di spedizione"}
    first = post(staff, "/admin/articles/new", **near)
    assert first.status_code == 200 and "Save anyway" in first.text
    assert any("very similar" in m for m in field_problems(first, "questions"))
    assert not (small_kb / "it" / "gift-cards.md").exists()
    confirmed = post(staff, "/admin/articles/new", **near, confirm="1")
    assert confirmed.status_code == 303 and (small_kb / "it" / "gift-cards.md").exists()


def test_an_edit_from_a_stale_page_is_caught(staff):
    form = staff.get("/admin/articles/returns-how/edit").text
    version = re.search(r'name="version" value="([^"]+)"', form).group(1)
    values = {
        "lang": "it",
        "title": "Resi",
        "questions": "come restituisco un prodotto",
        "body": "Testo.",
        "version": version,
    }
    assert post(staff, "/admin/articles/returns-how/edit", **values).status_code == 303
    stale = post(staff, "/admin/articles/returns-how/edit", **{**values, "title": "Altro"})
    assert stale.status_code == 409 and "Someone saved this article after you opened it" in stale.text
    assert "<h1>Resi</h1>" in staff.get("/admin/articles/returns-how").text


def test_unpublish_and_delete_with_confirmation(staff, small_kb):
    post(staff, "/admin/articles/new", **NEW)
    page = staff.get("/admin/articles/gift-cards").text
    version = re.search(r'name="version" value="([^"]+)"', page).group(1)
    done = post(staff, "/admin/articles/gift-cards/status", status="draft", version=version)
    assert "now draft" in flash(staff.get(done.headers["location"]))
    assert "status: draft" in (small_kb / "it" / "gift-cards.md").read_text()
    page = staff.get("/admin/articles/gift-cards").text
    version = re.search(r'name="version" value="([^"]+)"', page).group(1)
    unconfirmed = post(staff, "/admin/articles/gift-cards/delete", version=version, confirm="")
    assert "type its id" in flash(staff.get(unconfirmed.headers["location"]))
    assert (small_kb / "it" / "gift-cards.md").exists()
    gone = post(staff, "/admin/articles/gift-cards/delete", version=version, confirm="gift-cards")
    assert "Deleted gift-cards" in flash(staff.get(gone.headers["location"]))
    assert not (small_kb / "it" / "gift-cards.md").exists()


def test_a_translation_starts_from_the_original(staff):
    page = staff.get("/admin/articles/returns-how")
    assert 'href="/admin/articles/new?translate=returns-how&amp;lang=en"' in page.text
    form = staff.get("/admin/articles/new", params={"translate": "returns-how", "lang": "en"}).text
    assert 'value="returns-how-en"' in form and 'name="translation_of" value="returns-how"' in form
    assert "<option selected>en</option>" in form and "<option selected>draft</option>" in form


def test_the_preview_renders_markdown_sanitised(staff):
    answer = post(staff, "/admin/preview", body="**Ciao** <script>alert(1)</script> [x](javascript:alert(2))")
    assert answer.status_code == 200 and "<strong>Ciao</strong>" in answer.text
    assert "<script" not in answer.text and "javascript:" not in answer.text
    assert staff.post("/admin/preview", data={"csrf": "wrong", "body": "x"}).status_code == 403


def test_publish_now_shows_progress_then_the_report_and_the_bot_answers(staff):
    question = "come uso un buono regalo"
    post(staff, "/admin/articles/new", **NEW)
    before = staff.get("/readyz").json()["index_version"]
    started = post(staff, "/admin/publish")
    assert started.status_code == 303 and started.headers["location"].startswith("/admin/publish/pub_")
    deadline = time.monotonic() + 60
    while 'id="status">running' in (page := staff.get(started.headers["location"])).text:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert 'id="status">published' in page.text and "Published" in page.text
    while staff.get("/readyz").json()["index_version"] == before:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    answer = staff.post("/api/v1/chat", json={"text": question}).json()
    assert answer["decision"] == "answer" and answer["answer"]["article_id"] == "gift-cards"
    assert "Last publish" in staff.get("/admin/articles").text


def test_curated_questions_show_now_answered_after_a_publish(staff):
    question = "posso restituire una cosa comprata in saldo dopo due mesi?"
    staff.post("/api/v1/chat", json={"text": question})
    rows, _ = staff.service.store.missed(limit=50)
    item = next(m for m in rows if m.text == question)
    post(staff, f"/admin/missed/{item.id}/resolve", action="add_question", article_id="returns-how")
    assert "goes live when you publish" in staff.get("/admin/missed").text
    before = staff.get("/readyz").json()["index_version"]
    job = post(staff, "/admin/publish").headers["location"]
    deadline = time.monotonic() + 60
    while (
        'id="status">running' in staff.get(job).text or staff.get("/readyz").json()["index_version"] == before
    ):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    page = staff.get("/admin/missed").text
    assert "now answered ✓" in page and question in page.split("Curated this week")[1]

"""The staff console in Italian by default and in English on request, every message translated, dates
in the configured time zone."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.web.admin import i18n
from bot.web.app import create_app
from scripts.console_messages import KEYWORDS
from tests.conftest import REPO
from tests.web.admin.test_console import TOKEN, sign_in
from tests.web.test_app import service_factory  # noqa: F401 - fixture

PO = REPO / "bot" / "web" / "admin" / "locale" / "it" / "LC_MESSAGES" / "console.po"


@pytest.fixture
def console(service_factory, monkeypatch):  # noqa: F811
    monkeypatch.setenv("FAQBOT_ADMIN_TOKEN", TOKEN)
    monkeypatch.delenv("FAQBOT_CONSOLE_LANG")  # the shipped default
    with TestClient(create_app(Settings(), service_factory()), follow_redirects=False) as client:
        yield client


def test_every_message_of_the_console_has_an_italian_translation():
    with PO.open("rb") as source:
        catalog = read_po(source, locale="it")
    untranslated = [
        m.id for m in catalog if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]
    assert untranslated == [] and len(catalog) > 200


def test_the_catalog_holds_every_message_the_code_has(tmp_path):
    """A message added to a template or the console's code without `make messages` fails here."""
    pot = tmp_path / "console.pot"
    pybabel = str(Path(sys.executable).with_name("pybabel"))
    subprocess.run(
        [pybabel, "-q", "extract", "-F", "babel.cfg", *KEYWORDS, "-o", str(pot), "."],
        cwd=REPO, check=True,
    )  # fmt: skip
    with pot.open("rb") as source:
        wanted = {m.id for m in read_po(source) if m.id}
    with PO.open("rb") as source:
        have = {m.id for m in read_po(source, locale="it") if m.id}
    assert wanted - have == set(), "run `make messages` and translate the new messages"


def test_the_console_is_italian_by_default_and_english_on_request(console):
    page = console.get("/admin/login")
    assert (
        '<html lang="it">' in page.text and "Accedi" in page.text and "token di amministrazione" in page.text
    )
    switched = console.get("/admin/lang/en", params={"next": "/admin/login"})
    assert switched.status_code == 303 and switched.headers["location"] == "/admin/login"
    assert '<html lang="en">' in console.get("/admin/login").text
    assert console.get("/admin/lang/fr").status_code == 422
    elsewhere = console.get("/admin/lang/it", params={"next": "https://evil.example/admin"})
    assert elsewhere.headers["location"] == "/admin"  # never a redirect off the console


def test_pages_and_messages_after_an_action_are_in_the_staff_members_language(console):
    assert sign_in(console).status_code == 303
    page = console.get("/admin").text
    assert "Cruscotto" in page and "Risolte da sé (deflection)" in page and "Passaggi a un operatore" in page
    form = console.get("/admin/articles/new").text
    assert "Nuovo articolo" in form and "Domande, una per riga" in form
    csrf = form.split('name="csrf" value="')[1].split('"')[0]
    answer = console.post("/admin/articles/new", data={"csrf": csrf, "id": "Not An Id", "lang": "it"})
    assert answer.status_code == 422 and "Non salvato: correggi i campi segnati qui sotto." in answer.text
    assert "lettere minuscole, cifre e trattini" in answer.text
    fields = {"csrf": csrf, "id": "buoni", "lang": "it", "title": "Buoni", "questions": "come uso un buono",
              "body": "Testo.", "follow_ups": "nope"}  # fmt: skip
    answer = console.post("/admin/articles/new", data=fields)
    assert (
        answer.status_code == 422 and "articolo sconosciuto &#39;nope&#39;" in answer.text
    )  # the KB's own check


def test_dates_are_shown_in_the_configured_time_zone():
    i18n.use("it", "Europe/Rome")
    assert i18n.when(dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC)) == "2026-07-01 12:00"  # summer: UTC+2
    assert i18n.when(dt.datetime(2026, 1, 1, 10, 0)) == "2026-01-01 11:00"  # naive from SQLite: UTC
    i18n.use("en", "UTC")
    assert i18n.when(dt.datetime(2026, 1, 1, 10, 0, tzinfo=dt.UTC)) == "2026-01-01 10:00"


def test_import_findings_are_in_the_staff_members_language(console):
    assert sign_in(console).status_code == 303
    page = console.get("/admin/import").text
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    body = b"domanda,risposta\nCome pago con il bonifico?,\nDove siete?,In via Roma 1.\n"
    answer = console.post(
        "/admin/import/preview", data={"csrf": csrf}, files={"file": ("faq.csv", body, "text/csv")}
    )
    assert answer.status_code == 200 and "risposta vuota: importato come bozza" in answer.text

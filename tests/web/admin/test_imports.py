"""The console's import page: upload, the dry run's report, then the import (over the real app)."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import Settings
from bot.kb.articles import load_kb
from tests.web.admin.test_console import console, csrf_of, flash, sign_in, staff  # noqa: F401 - fixtures
from tests.web.test_app import service_factory  # noqa: F401 - fixture

DATA = Path(__file__).resolve().parents[2] / "exchange" / "data"
TOKEN_FIELD = re.compile(r'name="token" value="([^"]+)"')


def upload(client, path: Path, **options: str):
    return client.post(
        "/admin/import/preview",
        data={"csrf": csrf_of(client, "/admin/import"), **options},
        files={"file": (path.name, path.read_bytes(), "text/csv")},
    )


def count(page, name: str) -> int:
    return int(re.search(rf'id="{name}">(\d+)<', page.text).group(1))


def test_upload_preview_then_import(staff):  # noqa: F811
    kb = Settings().kb_path
    before = {a.id for a in load_kb(kb).articles}
    page = upload(staff, DATA / "faq_it_excel.csv", lang="it")
    assert page.status_code == 200, page.text
    assert count(page, "created") == 5 and count(page, "skipped") == 1
    assert "faq_it_excel.csv:5" in page.text and "no question: skipped" in page.text
    assert {a.id for a in load_kb(kb).articles} == before  # a preview writes nothing
    staged = list((Settings().var_path / "imports").glob("*/*"))
    assert len(staged) == 1 and staged[0].stat().st_mode & 0o777 == 0o600
    token = TOKEN_FIELD.search(page.text).group(1)
    done = staff.post(
        "/admin/import/apply",
        data={"csrf": csrf_of(staff), "token": token, "format": "auto", "lang": "it", "status": ""},
    )
    assert done.status_code == 200 and "Imported faq_it_excel.csv: 5 created" in done.text
    after = {a.id: a for a in load_kb(kb).articles}
    assert "come-faccio-un-reso" in after and after["come-faccio-un-reso"].lang == "it"
    assert not list((Settings().var_path / "imports").glob("*/*"))  # the upload is gone
    again = staff.post(
        "/admin/import/apply",
        data={"csrf": csrf_of(staff), "token": token, "format": "auto", "lang": "it", "status": ""},
    )
    assert again.status_code == 303 and "upload+is+gone" in again.headers["location"]


def test_bad_uploads_get_a_reason_and_change_nothing(staff, tmp_path):  # noqa: F811
    kb = Settings().kb_path
    before = sorted(p.read_bytes() for p in kb.rglob("*.md"))
    exe = tmp_path / "faq.exe"
    exe.write_bytes(b"MZ")
    assert upload(staff, exe).status_code == 400
    broken = tmp_path / "faq.json"
    broken.write_text("{not json", encoding="utf-8")
    page = upload(staff, broken)
    assert page.status_code == 400 and "not JSON" in page.text and str(tmp_path) not in page.text
    assert upload(staff, DATA / "two_columns.csv", format="docx").status_code == 400
    assert sorted(p.read_bytes() for p in kb.rglob("*.md")) == before


def test_the_import_page_needs_a_session_and_a_csrf_token(console):  # noqa: F811
    assert console.get("/admin/import").status_code == 303
    sign_in(console)
    forged = console.post(
        "/admin/import/preview",
        data={"csrf": "forged"},
        files={"file": ("faq.csv", b"question,answer\nq,a\n", "text/csv")},
    )
    assert forged.status_code == 403
    assert console.post("/admin/import/apply", data={"csrf": "forged", "token": "x" * 22}).status_code == 403


def test_an_upload_over_the_limit_is_refused_before_it_is_read(staff, monkeypatch):  # noqa: F811
    big = b"question,answer\n" + b"q,a\n" * (3 * 1024 * 1024)  # 12 MiB, over the 10 MiB default
    page = staff.post(
        "/admin/import/preview",
        data={"csrf": csrf_of(staff, "/admin/import")},
        files={"file": ("big.csv", big, "text/csv")},
    )
    assert page.status_code == 413

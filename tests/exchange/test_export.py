"""`export_kb`: every article out as CSV, XLSX or JSON, and back in as the same articles."""

from __future__ import annotations

import csv
import dataclasses
import shutil
from pathlib import Path

import pytest

from bot.exchange.apply import import_faq
from bot.exchange.export import export_kb
from bot.kb.articles import InvalidKnowledgeBase, load_kb
from tests.conftest import write_article

REPO = Path(__file__).resolve().parents[2]


def comparable(root: Path) -> dict:
    """Every article as loaded, its file's place aside."""
    return {a.id: dataclasses.replace(a, path=Path(a.path.parent.name)) for a in load_kb(root).articles}


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_the_sample_kb_exported_and_imported_into_an_empty_kb_is_the_same(tmp_path, fmt):
    source = tmp_path / "kb"
    shutil.copytree(REPO / "kb_articles", source, ignore=shutil.ignore_patterns("eval"))
    original = comparable(source)
    out = tmp_path / f"faq.{fmt}"
    assert export_kb(source, fmt, out) == len(original)
    report = import_faq(out, tmp_path / "empty")
    assert len(report.created) == len(original) and not report.findings and not report.skipped
    assert comparable(tmp_path / "empty") == original
    again = import_faq(out, tmp_path / "empty")
    assert again.unchanged == len(original)


def test_a_csv_export_opens_in_excel_with_one_row_per_article(tmp_path):
    root = tmp_path / "kb"
    write_article(
        root,
        "it",
        "resi",
        'title: "Resi"\nquestions: ["=HYPERLINK(1)", "come faccio un reso"]',
        "- Entro 30 giorni;\n- gratis.",
    )
    out = tmp_path / "faq.csv"
    export_kb(root, "csv", out)
    data = out.read_bytes()
    assert data.startswith("\ufeff".encode())  # Excel reads it as UTF-8
    rows = list(csv.reader(data.decode("utf-8-sig").splitlines(keepends=True), delimiter=";"))
    header, row = rows[0], rows[1]
    assert header[:5] == ["id", "lang", "title", "questions", "answer"]
    assert row[3] == "'=HYPERLINK(1)\ncome faccio un reso"  # no formula runs when staff open the file
    assert row[4] == "'- Entro 30 giorni;\n- gratis."
    import_faq(out, tmp_path / "back")
    back = load_kb(tmp_path / "back").articles[0]
    assert (
        back.questions == ("=HYPERLINK(1)", "come faccio un reso")
        and back.body == "- Entro 30 giorni;\n- gratis."
    )


def test_an_xlsx_export_holds_text_never_formulas(tmp_path):
    from openpyxl import load_workbook

    root = tmp_path / "kb"
    write_article(root, "en", "sums", 'title: "=1+1"\nquestions: ["=SUM(A1:A3)"]', "Adds up.")
    export_kb(root, "xlsx", tmp_path / "faq.xlsx")
    sheet = load_workbook(tmp_path / "faq.xlsx").active
    assert all(c.data_type in ("s", "inlineStr") for c in sheet[2]) and sheet["C2"].value == "=1+1"


def test_a_kb_with_errors_is_not_exported(tmp_path):
    root = tmp_path / "kb"
    write_article(root, "it", "resi", "title: Resi\nquestions: []", "Testo.")
    with pytest.raises(InvalidKnowledgeBase):
        export_kb(root, "json", tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()

"""`faqbot import` and `faqbot export`, driven through typer's runner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bot.cli.main import app
from bot.kb.articles import load_kb

runner = CliRunner()
DATA = Path(__file__).resolve().parents[1] / "exchange" / "data"


def invoke(*args: str):
    return runner.invoke(app, list(args))


def test_import_dry_run_then_import_then_export(isolated_home, tmp_path):
    kb = isolated_home / "kb_articles"
    dry = invoke("import", str(DATA / "faq_it_excel.csv"), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "5 would be created, 0 would be updated, 0 unchanged, 1 skipped" in dry.output
    assert "faq_it_excel.csv:5: no question: skipped" in dry.output and not kb.exists()
    done = invoke("import", str(DATA / "faq_it_excel.csv"), "--json")
    report = json.loads(done.output)
    assert done.exit_code == 0 and len(report["created"]) == 5 and report["format"] == "csv"
    assert {"where": "faq_it_excel.csv:5", "message": "no question: skipped"} in report["findings"]
    assert len(load_kb(kb).articles) == 5
    out = tmp_path / "faq.json"
    exported = invoke("export", "--format", "json", "--out", str(out))
    assert exported.exit_code == 0 and "5 articles written" in exported.output
    assert len(json.loads(out.read_text(encoding="utf-8"))["articles"]) == 5


def test_import_refuses_bad_options_and_unreadable_sources_with_a_reason(isolated_home, tmp_path):
    assert invoke("import", str(DATA / "two_columns.csv"), "--status", "live").exit_code == 2
    assert invoke("import", str(DATA / "two_columns.csv"), "--lang", "de").exit_code == 2
    missing = invoke("import", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and "import failed" in missing.output and "no such file" in missing.output
    wrong = invoke("import", str(DATA / "two_columns.csv"), "--format", "intercom")
    assert wrong.exit_code == 2 and "not JSON" in wrong.output
    assert invoke("export", "--format", "pdf", "--out", str(tmp_path / "x.pdf")).exit_code == 2

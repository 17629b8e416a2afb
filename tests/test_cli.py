"""The faqbot command line, driven through typer's runner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from bot.cli import app
from tests.conftest import write_article

runner = CliRunner()


def invoke(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def test_validate_reports_ok_kb(small_kb):
    result = invoke("validate")
    assert result.exit_code == 0, result.output
    assert "6 articles checked" in result.output and "0 errors" in result.output


def test_validate_names_file_and_field_and_fails(small_kb):
    write_article(small_kb, "it", "bad", "title: X\nquestions: [q]\ncolour: red")
    result = invoke("validate", "--kb", str(small_kb))
    assert result.exit_code == 1
    assert "bad.md: colour: unknown field" in result.output


def test_build_then_ask_json(small_kb, fake_embedder):
    built = invoke("build")
    assert built.exit_code == 0, built.output
    assert "6 articles" in built.output
    result = invoke("ask", "Ho dimenticato la password", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["decision"] == "answer" and data["article_id"] == "reset-password"
    assert data["lang"] == "it" and 0.0 <= data["confidence"] <= 1.0
    assert isinstance(data["suggestions"], list)
    assert data["index_version"].startswith("v-")


def test_ask_json_for_unrelated_question_is_a_handoff_without_article(small_kb, fake_embedder):
    invoke("build")
    data = json.loads(invoke("ask", "qual è la distanza tra la Terra e Giove?", "--json").output)
    assert data["decision"] == "handoff" and data["article_id"] is None


def test_ask_json_clarification_lists_suggestions(small_kb, fake_embedder, monkeypatch):
    invoke("build")
    monkeypatch.setenv("FAQBOT_ANSWER_THRESHOLD", "1.0")
    monkeypatch.setenv("FAQBOT_CLARIFY_THRESHOLD", "0.0")
    data = json.loads(invoke("ask", "spedizione", "--lang", "it", "--json").output)
    assert data["decision"] == "clarify" and data["article_id"] is None
    assert data["suggestions"][0]["article_id"] == "shipping-costs"
    assert set(data["suggestions"][0]) == {"article_id", "title", "score"}


def test_ask_without_index_explains_how_to_build(small_kb, fake_embedder):
    result = invoke("ask", "ciao")
    assert result.exit_code == 2 and "faqbot build" in result.output


@pytest.mark.parametrize("args", [["ask", "ciao", "--lang", "fr"], ["ask", "   "]])
def test_ask_rejects_bad_input(small_kb, fake_embedder, args):
    invoke("build")
    assert invoke(*args).exit_code == 2


def test_build_with_broken_kb_fails_naming_the_file(small_kb, fake_embedder):
    (small_kb / "it" / "returns-how.md").write_text("---\nid: [oops\n---\nbody\n")
    result = invoke("build")
    assert result.exit_code == 1 and "returns-how.md" in result.output


def test_chat_session_clarifies_then_answers_the_pick(small_kb, fake_embedder, monkeypatch):
    invoke("build")
    monkeypatch.setenv("FAQBOT_ANSWER_THRESHOLD", "0.999")
    result = invoke("chat", "--lang", "it", input="spedizione costi\n1\n\n")
    assert result.exit_code == 0, result.output
    assert "[clarify" in result.output and "[answer: shipping-costs" in result.output


def test_eval_reports_metrics_per_language(small_kb, fake_embedder):
    (small_kb / "eval").mkdir()
    (small_kb / "eval" / "it.yaml").write_text(
        'lang: it\nitems:\n  - text: "password persa"\n    article: reset-password\n'
        '  - text: "che tempo fa a Roma"\n    article: none\n',
        encoding="utf-8",
    )
    invoke("build")
    result = invoke("eval", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)["languages"]
    assert report["it"]["n_queries"] == 2 and report["it"]["n_answerable"] == 1
    assert report["it"]["top1"] == 1.0
    table = invoke("eval")
    assert "top1" in table.output and "handoff_precision" in table.output

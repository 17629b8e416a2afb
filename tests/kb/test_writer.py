"""Writing curation results into article files: in place, otherwise byte for byte identical."""

from __future__ import annotations

import pytest

from bot.kb.articles import InvalidKnowledgeBase, load_kb
from bot.kb.writer import add_question, new_draft
from tests.conftest import REPO, write_article

BLOCK = """---
id: reset-password   # stable forever
lang: it
title: Come reimpostare la password
questions:
  - Ho dimenticato la password
  - "non riesco: entrare"   # quoted on purpose
tags: [account]
updated: 2026-11-20
---
Clicca su **Password dimenticata?**.

- controlla lo spam
"""


def test_block_list_gets_one_line_and_nothing_else_changes(tmp_path):
    path = tmp_path / "it" / "reset-password.md"
    path.parent.mkdir()
    path.write_text(BLOCK, encoding="utf-8")
    add_question(tmp_path, "reset-password", "password persa: e ora?")
    expected = BLOCK.replace(
        '  - "non riesco: entrare"   # quoted on purpose\n',
        '  - "non riesco: entrare"   # quoted on purpose\n  - "password persa: e ora?"\n',
    )
    assert path.read_text(encoding="utf-8") == expected
    assert load_kb(tmp_path).articles[0].questions[-1] == "password persa: e ora?"


def test_flow_list_is_extended_in_place(tmp_path):
    path = write_article(tmp_path, "it", "a", "title: A\nquestions: [uno, due]\ntags: [x]")
    before = path.read_text(encoding="utf-8")
    add_question(tmp_path, "a", "tre")
    assert path.read_text(encoding="utf-8") == before.replace(
        "questions: [uno, due]", 'questions: [uno, due, "tre"]'
    )


def test_every_sample_article_round_trips(tmp_path):
    """On real files: only the new line appears, the article still validates, in both languages."""
    import shutil

    shutil.copytree(REPO / "kb_articles", tmp_path / "kb", ignore=shutil.ignore_patterns("eval"))
    for article in load_kb(tmp_path / "kb").articles[::11]:
        before = article.path.read_text(encoding="utf-8").splitlines()
        add_question(tmp_path / "kb", article.id, f"domanda nuova per {article.id}")
        after = article.path.read_text(encoding="utf-8").splitlines()
        assert len(after) == len(before) + 1
        assert [x for x in after if x not in before] == [f'  - "domanda nuova per {article.id}"']
    assert load_kb(tmp_path / "kb").errors == []


def test_a_question_owned_by_another_article_is_refused_and_the_file_restored(tmp_path):
    write_article(tmp_path, "it", "a", "title: A\nquestions: [come faccio un reso]")
    b = write_article(tmp_path, "it", "b", "title: B\nquestions: [spedizione]")
    before = b.read_text(encoding="utf-8")
    with pytest.raises(InvalidKnowledgeBase, match="identical"):
        add_question(tmp_path, "b", "Come faccio un reso?")
    assert b.read_text(encoding="utf-8") == before


def test_unknown_article_and_empty_question(tmp_path):
    write_article(tmp_path, "it", "a", "title: A\nquestions: [q]")
    with pytest.raises(KeyError):
        add_question(tmp_path, "nope", "x")
    with pytest.raises(ValueError):
        add_question(tmp_path, "a", "   ")


def test_new_draft_is_valid_and_not_published(tmp_path):
    path = new_draft(
        tmp_path, "gift-wrapping", "it", "Confezione regalo", ["fate pacchi regalo?"], "Sì, 2 euro."
    )
    kb = load_kb(tmp_path)
    assert kb.errors == [] and kb.published == [] and kb.articles[0].path == path
    with pytest.raises(FileExistsError):
        new_draft(tmp_path, "gift-wrapping", "it", "X", ["y"], "")
    with pytest.raises(ValueError):
        new_draft(tmp_path, "Bad Id", "it", "X", ["y"], "")

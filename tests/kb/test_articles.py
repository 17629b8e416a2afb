"""Article loading and validation: every error names the file and the field."""

from __future__ import annotations

import pytest

from bot.kb.articles import InvalidKnowledgeBase, load_kb, load_valid_kb
from tests.conftest import write_article

VALID = """
title: Come reimpostare la password
questions: [Ho dimenticato la password, non riesco ad entrare]
tags: [account]
status: published
handoff: false
updated: 2026-11-20
"""


def only_error(kb):
    assert len(kb.errors) == 1, [str(p) for p in kb.problems]
    return kb.errors[0]


def test_valid_article_loads_with_all_fields(tmp_path):
    path = write_article(tmp_path, "it", "reset-password", VALID, "Clicca **qui**.\n\nPoi controlla lo spam.")
    kb = load_kb(tmp_path)
    assert kb.problems == []
    article = kb.articles[0]
    assert article.id == "reset-password" and article.lang == "it" and article.path == path
    assert article.questions == ("Ho dimenticato la password", "non riesco ad entrare")
    assert article.paragraphs() == ["Clicca qui.", "Poi controlla lo spam."]
    assert article.summary == "Clicca qui."
    assert str(article.updated) == "2026-11-20"


def test_broken_yaml_names_the_file(tmp_path):
    path = tmp_path / "it" / "broken.md"
    path.parent.mkdir()
    path.write_text("---\nid: broken\nquestions: [unclosed\n---\nBody\n", encoding="utf-8")
    problem = only_error(load_kb(tmp_path))
    assert problem.path == path and "broken YAML" in str(problem) and str(path) in str(problem)


def test_unknown_field_is_an_error_naming_it(tmp_path):
    write_article(tmp_path, "it", "a", VALID + "priority: high\n")
    problem = only_error(load_kb(tmp_path))
    assert problem.field == "priority" and "unknown field" in problem.message


@pytest.mark.parametrize("field", ["title", "questions"])
def test_missing_required_field(tmp_path, field):
    front = "\n".join(line for line in VALID.strip().splitlines() if not line.startswith(field))
    write_article(tmp_path, "it", "a", front)
    assert only_error(load_kb(tmp_path)).field == field


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("status: live", "status"),
        ("handoff: maybe", "handoff"),
        ("updated: yesterday", "updated"),
        ("tags: account", "tags"),
        ("follow_ups: [Not An Id]", "follow_ups[0]"),
    ],
)
def test_wrong_values_name_the_field(tmp_path, line, field):
    name = line.split(":")[0]
    front = "\n".join(x for x in VALID.strip().splitlines() if not x.startswith(name)) + "\n" + line
    write_article(tmp_path, "it", "a", front)
    problem = only_error(load_kb(tmp_path))
    assert problem.field == field, str(problem)
    assert "a.md" in str(problem)


def test_empty_question_is_reported_by_position(tmp_path):
    write_article(tmp_path, "it", "a", "title: T\nquestions: [ok, '']")
    assert only_error(load_kb(tmp_path)).field == "questions[1]"


def test_id_must_match_file_name_and_lang_its_folder(tmp_path):
    path = tmp_path / "en" / "other-name.md"
    path.parent.mkdir()
    path.write_text("---\nid: some-id\nlang: it\ntitle: T\nquestions: [q]\n---\nBody\n", encoding="utf-8")
    fields = sorted(p.field for p in load_kb(tmp_path).errors)
    assert fields == ["id", "lang"]


def test_duplicate_ids_are_an_error_naming_both_files(tmp_path):
    first = write_article(tmp_path, "it", "same", VALID)
    second = tmp_path / "extra" / "same.md"
    second.parent.mkdir()
    second.write_text(
        first.read_text(encoding="utf-8").replace("Ho dimenticato", "Ho perso"), encoding="utf-8"
    )
    messages = [str(p) for p in load_kb(tmp_path).errors]
    assert any("duplicate id 'same'" in m and str(first) in m for m in messages), messages


def test_identical_question_in_two_articles_is_an_error(tmp_path):
    write_article(tmp_path, "it", "a", "title: A\nquestions: [Dov'è il mio ordine?]")
    b = write_article(tmp_path, "it", "b", "title: B\nquestions: [dov è il mio  ORDINE]")
    problem = only_error(load_kb(tmp_path))
    assert problem.path == b and problem.field == "questions[0]" and "identical" in problem.message


def test_a_draft_sharing_a_question_is_a_warning_until_both_are_published(tmp_path):
    write_article(tmp_path, "it", "a", "title: A\nquestions: [Dov'è il mio ordine?]")
    b = write_article(tmp_path, "it", "b", "title: B\nquestions: [dov è il mio ordine]\nstatus: draft")
    kb = load_kb(tmp_path)
    assert not kb.errors
    assert any(w.path == b and "before publishing" in w.message for w in kb.warnings)


ALIAS_BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x]"]
    + [
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]"
        for i in range(8)
    ]
)


def test_nested_yaml_aliases_are_refused_at_once(tmp_path):
    """Found by a red-team pass: 561 bytes of nested aliases took `faqbot validate` 32 s and 3 GB
    (9 ** 9 items once expanded)."""
    path = tmp_path / "it" / "bomb.md"
    path.parent.mkdir()
    path.write_text(
        f"---\nid: bomb\nlang: it\ntitle: T\nquestions: [q]\n{ALIAS_BOMB}\n---\nBody\n", encoding="utf-8"
    )
    problem = only_error(load_kb(tmp_path))
    assert (
        problem.path == path and "aliases (*a) are not allowed" in problem.message and len(str(problem)) < 400
    )


def test_an_oversized_front_matter_is_refused_and_huge_values_are_not_printed(tmp_path):
    many = "questions: [" + ", ".join(f"domanda numero {i}" for i in range(6000)) + "]"
    path = tmp_path / "it" / "big.md"
    path.parent.mkdir()
    path.write_text(f"---\nid: big\nlang: it\ntitle: T\n{many}\n---\nBody\n", encoding="utf-8")
    assert "over 64 KiB" in only_error(load_kb(tmp_path)).message
    other = tmp_path / "other"
    write_article(other, "it", "wide", "title: T\nquestions: [q]\nhandoff: [" + "x, " * 5000 + "x]")
    problem = only_error(load_kb(other))
    assert problem.field == "handoff" and len(problem.message) < 120


def test_language_versions_may_share_a_borrowed_term(tmp_path):
    write_article(tmp_path, "it", "invoice", "title: Fattura\nquestions: [fattura elettronica]")
    write_article(
        tmp_path,
        "en",
        "invoice-en",
        "title: Invoice\nquestions: [fattura elettronica]\ntranslation_of: invoice",
    )
    assert load_kb(tmp_path).errors == []


def test_near_duplicate_questions_across_articles_warn(tmp_path):
    write_article(tmp_path, "it", "a", "title: A\nquestions: [come faccio a fare un reso]")
    write_article(tmp_path, "it", "b", "title: B\nquestions: [come faccio a fare un resso]")
    kb = load_kb(tmp_path)
    assert kb.errors == []
    assert len(kb.warnings) == 1 and "very similar" in kb.warnings[0].message


def test_links_to_unknown_articles_are_errors(tmp_path):
    write_article(
        tmp_path, "en", "a-en", "title: A\nquestions: [q]\ntranslation_of: missing\nfollow_ups: [gone]"
    )
    assert sorted(p.field for p in load_kb(tmp_path).errors) == ["follow_ups[0]", "translation_of"]


def test_empty_body_is_an_error(tmp_path):
    path = tmp_path / "it" / "a.md"
    path.parent.mkdir()
    path.write_text("---\nid: a\nlang: it\ntitle: T\nquestions: [q]\n---\n\n", encoding="utf-8")
    assert only_error(load_kb(tmp_path)).field == "body"


def test_load_valid_kb_raises_with_every_error(tmp_path):
    write_article(tmp_path, "it", "a", VALID + "colour: red\n")
    write_article(tmp_path, "it", "b", "title: B\nquestions: [x]\nstatus: gone")
    with pytest.raises(InvalidKnowledgeBase) as info:
        load_valid_kb(tmp_path)
    assert "colour" in str(info.value) and "status" in str(info.value)
    assert len(info.value.problems) == 2


def test_drafts_load_but_are_not_published(tmp_path):
    write_article(tmp_path, "it", "a", "title: A\nquestions: [q]\nstatus: draft")
    kb = load_kb(tmp_path)
    assert kb.errors == [] and len(kb.articles) == 1 and kb.published == []

"""The shipped sample knowledge base and its evaluation set meet the bar staff start from."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.kb.articles import load_kb
from bot.quality.evaluate import load_eval_set
from bot.text.normalise import normalise
from tests.conftest import REPO

KB = REPO / "kb_articles"


@pytest.fixture(scope="module")
def kb():
    return load_kb(KB)


def test_sample_kb_is_valid(kb):
    assert [str(p) for p in kb.errors] == []


def test_at_least_forty_articles_per_language_with_four_questions(kb):
    by_lang = Counter(a.lang for a in kb.published)
    assert by_lang["it"] >= 40 and by_lang["en"] >= 40
    assert min(len(a.questions) for a in kb.published) >= 4


def test_english_articles_are_linked_translations(kb):
    ids = {a.id for a in kb.articles if a.lang == "it"}
    english = [a for a in kb.articles if a.lang == "en"]
    assert all(a.translation_of in ids for a in english)


def test_eval_set_size_labels_and_independence(kb):
    items = load_eval_set(KB / "eval")
    known = {a.id: a.lang for a in kb.articles}
    for lang in ("it", "en"):
        mine = [i for i in items if i.lang == lang]
        assert sum(i.answerable for i in mine) >= 150
        assert sum(not i.answerable for i in mine) >= 40
    assert all(known.get(g) == i.lang for i in items for g in i.gold)
    curated = {normalise(q) for a in kb.articles for q in (*a.questions, a.title)}
    copies = [i.text for i in items if normalise(i.text) in curated]
    assert copies == [], "evaluation questions must not copy curated questions"

"""Articles edited whole: minimal diffs, versions that catch a concurrent edit, and a bad change
that leaves every file as it was."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from bot.kb import editing
from bot.kb.articles import InvalidKnowledgeBase, load_kb
from bot.kb.editing import Conflict, Fields


def fields(**changes) -> Fields:
    base = Fields(
        lang="it",
        title="Buoni regalo",
        questions=("come uso un buono regalo",),
        body="Inserisci il codice del buono al pagamento.",
    )
    return dataclasses.replace(base, **changes)


def test_create_then_read_gives_the_same_article_and_its_version(small_kb):
    saved = editing.create(small_kb, "gift-cards", fields(tags=("pagamenti",)))
    assert saved.article.path == small_kb / "it" / "gift-cards.md"
    article, version = editing.read(small_kb, "gift-cards")
    assert version == saved.version and article.title == "Buoni regalo" and article.tags == ("pagamenti",)
    assert "gift-cards" in load_kb(small_kb).by_id() and not load_kb(small_kb).errors


def test_a_taken_id_or_a_bad_field_writes_nothing(small_kb):
    before = sorted(p.name for p in small_kb.rglob("*.md"))
    with pytest.raises(FileExistsError):
        editing.create(small_kb, "returns-how", fields())
    with pytest.raises(InvalidKnowledgeBase) as raised:
        editing.create(small_kb, "gift-cards", fields(follow_ups=("no-such-article",)))
    assert [p.field for p in raised.value.problems] == ["follow_ups[0]"]
    with pytest.raises(InvalidKnowledgeBase) as raised:  # a published question of another article
        editing.create(small_kb, "gift-cards", fields(questions=("spese di spedizione",)))
    assert any(p.field.startswith("questions") for p in raised.value.problems)
    assert sorted(p.name for p in small_kb.rglob("*.md")) == before


def test_a_new_body_keeps_the_front_matter_byte_for_byte(small_kb):
    path = small_kb / "it" / "returns-how.md"
    original = path.read_text()
    article, version = editing.read(small_kb, "returns-how")
    editing.update(
        small_kb, "returns-how", dataclasses.replace(Fields.of(article), body="Nuovo testo."), version
    )
    text = path.read_text()
    assert text.split("---")[1] == original.split("---")[1] and text.rstrip().endswith("Nuovo testo.")


def test_a_new_title_changes_only_the_title_line(small_kb):
    path = small_kb / "it" / "returns-how.md"
    original = path.read_text().splitlines()
    article, version = editing.read(small_kb, "returns-how")
    editing.update(
        small_kb, "returns-how", dataclasses.replace(Fields.of(article), title="Resi e rimborsi"), version
    )
    changed = [(a, b) for a, b in zip(original, path.read_text().splitlines(), strict=True) if a != b]
    assert len(changed) == 1 and changed[0][1] == "title: Resi e rimborsi"


def test_an_edit_from_an_old_version_is_refused(small_kb):
    article, version = editing.read(small_kb, "returns-how")
    first = dataclasses.replace(Fields.of(article), title="Prima modifica")
    editing.update(small_kb, "returns-how", first, version)
    with pytest.raises(Conflict):
        editing.update(small_kb, "returns-how", dataclasses.replace(first, title="Seconda"), version)
    assert editing.read(small_kb, "returns-how")[0].title == "Prima modifica"


def test_concurrent_edits_from_one_version_one_wins_the_other_is_told(small_kb):
    article, version = editing.read(small_kb, "returns-how")
    outcomes: list[str] = []

    def edit(title: str) -> None:
        try:
            editing.update(
                small_kb, "returns-how", dataclasses.replace(Fields.of(article), title=title), version
            )
            outcomes.append("saved")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=edit, args=(f"Titolo {i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "saved"]


def test_a_bad_edit_leaves_the_file_as_it_was(small_kb):
    path = small_kb / "it" / "returns-how.md"
    original = path.read_text()
    article, version = editing.read(small_kb, "returns-how")
    with pytest.raises(InvalidKnowledgeBase) as raised:
        editing.update(
            small_kb, "returns-how", dataclasses.replace(Fields.of(article), follow_ups=("nope",)), version
        )
    assert raised.value.problems[0].field == "follow_ups[0]" and path.read_text() == original


def test_a_new_language_moves_the_file(small_kb):
    article, version = editing.read(small_kb, "returns-how")
    editing.update(small_kb, "returns-how", dataclasses.replace(Fields.of(article), lang="en"), version)
    assert not (small_kb / "it" / "returns-how.md").exists()
    assert editing.read(small_kb, "returns-how")[0].path == small_kb / "en" / "returns-how.md"


def test_an_article_others_link_to_is_not_deleted(small_kb):
    _, version = editing.read(small_kb, "shipping-costs")  # reset-password follows up with it
    with pytest.raises(InvalidKnowledgeBase) as raised:
        editing.delete(small_kb, "shipping-costs", version)
    assert {p.path.stem for p in raised.value.problems} >= {"reset-password", "shipping-costs-en"}
    assert (small_kb / "it" / "shipping-costs.md").exists()
    _, version = editing.read(small_kb, "returns-how")
    editing.delete(small_kb, "returns-how", version)
    assert editing.read(small_kb, "returns-how") is None


def test_check_warns_of_a_near_duplicate_before_saving(small_kb):
    problems = editing.check(small_kb, "gift-cards", fields(questions=("le spese di spedizione",)))
    assert [(p.field, p.severity) for p in problems] == [("questions[0]", "warning")]
    assert editing.check(small_kb, "gift-cards", fields()) == []

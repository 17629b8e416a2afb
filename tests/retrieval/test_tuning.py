"""Encoder tuning: training batches, when a tuned model is reused, and a tuned model built,
served and hot-swapped with the real bundled model."""

from __future__ import annotations

import json
import random
import threading

import numpy as np
import pytest

from bot.compose import load_bot
from bot.config import Settings
from bot.index.artefacts import Manifest
from bot.index.build import build_index
from bot.index.reload import IndexWatcher
from bot.index.versions import resolve
from bot.retrieval.embedder import SentenceTransformerEmbedder
from bot.retrieval.model_switch import MODEL_DIR
from bot.retrieval.search import Retriever
from bot.retrieval.tuning import TUNING_FILE, ModelTuner, Recipe, pair_batches, text_hashes, tuned_key
from tests.conftest import write_article


def _examples(articles: int, per_article: int) -> list[tuple[str, str]]:
    return [(f"a{a}", f"question {q} of article {a}") for a in range(articles) for q in range(per_article)]


def test_pair_batches_never_put_an_article_twice_in_a_batch():
    examples = _examples(articles=7, per_article=5)
    batches = pair_batches(examples, batch_size=4, max_pairs=1000, rng=random.Random(1))
    article_of = {text: article for article, text in examples}
    assert sum(len(b) for b in batches) <= len(examples)
    for batch in batches:
        assert 2 <= len(batch) <= 4
        anchors = [article_of[a] for a, _ in batch]
        assert len(set(anchors)) == len(anchors)
        for anchor, positive in batch:
            assert anchor != positive and article_of[anchor] == article_of[positive]


def test_pair_batches_are_bounded_and_skip_single_phrasing_articles():
    examples = _examples(articles=50, per_article=6) + [("lonely", "the only phrasing")]
    batches = pair_batches(examples, batch_size=8, max_pairs=40, rng=random.Random(2))
    texts = [a for batch in batches for a, _ in batch]
    assert len(texts) <= 40
    assert "the only phrasing" not in texts


def test_pair_batches_skip_an_entry_whose_title_is_its_only_question():
    """An imported FAQ: title and question are the same text, so there is no second phrasing."""
    examples = _examples(articles=3, per_article=2) + [("faq", "How do I pay?"), ("faq", "How do I pay?")]
    batches = pair_batches(examples, batch_size=8, max_pairs=40, rng=random.Random(3))
    assert batches and all(anchor != "How do I pay?" for batch in batches for anchor, _ in batch)


def test_recipe_refuses_nonsense():
    with pytest.raises(ValueError, match="refresh"):
        Recipe(refresh=1.5)
    with pytest.raises(ValueError, match="recipe"):
        Recipe(epochs=0)


class _Trainings:
    """Stands in for the training loop: writes an empty model folder and counts the calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, base, examples, recipe, out, log) -> None:
        self.calls += 1
        out.mkdir(parents=True)


@pytest.fixture
def trainings(monkeypatch) -> _Trainings:
    fake = _Trainings()
    monkeypatch.setattr("bot.retrieval.tuning.train", fake)
    return fake


def test_tuned_models_are_reused_until_too_many_texts_are_new(tmp_path, trainings):
    base = SentenceTransformerEmbedder("base-model")
    tuner = ModelTuner(tmp_path, Recipe(refresh=0.1), log=lambda line: None)
    examples = _examples(articles=5, per_article=4)  # 20 texts

    first = tuner.tuned(base, examples)
    assert not first.reused and trainings.calls == 1
    assert first.model_id == f"base-model+tuned-{tuned_key('base-model', Recipe(), text_hashes(examples))}"
    assert tuner.tuned(base, examples).path == first.path and trainings.calls == 1

    two_new = examples + [("a0", "new phrasing one"), ("a1", "new phrasing two")]  # 2 of 22 new
    reused = tuner.tuned(base, two_new)
    assert reused.reused and reused.path == first.path and trainings.calls == 1

    many_new = examples + [("a0", f"new phrasing {i}") for i in range(5)]  # 5 of 25 new
    fresh = tuner.tuned(base, many_new)
    assert not fresh.reused and fresh.path != first.path and trainings.calls == 2

    forced = tuner.tuned(base, two_new, retune=True)
    assert not forced.reused and trainings.calls == 3
    info = json.loads((forced.path / TUNING_FILE).read_text())
    assert info["base"] == "base-model" and len(info["texts"]) == 22


def test_tuned_models_of_another_base_or_recipe_are_not_reused(tmp_path, trainings):
    examples = _examples(articles=3, per_article=3)
    ModelTuner(tmp_path, Recipe(epochs=1), log=lambda line: None).tuned(
        SentenceTransformerEmbedder("base-a"), examples
    )
    ModelTuner(tmp_path, Recipe(epochs=1), log=lambda line: None).tuned(
        SentenceTransformerEmbedder("base-b"), examples
    )
    ModelTuner(tmp_path, Recipe(epochs=2), log=lambda line: None).tuned(
        SentenceTransformerEmbedder("base-a"), examples
    )
    assert trainings.calls == 3


def test_only_the_newest_tuned_models_are_kept(tmp_path, trainings):
    tuner = ModelTuner(tmp_path, Recipe(refresh=0.0), log=lambda line: None)
    base = SentenceTransformerEmbedder("base")
    paths = [tuner.tuned(base, _examples(articles=2, per_article=2 + i)).path for i in range(5)]
    kept = sorted(p for p in tmp_path.iterdir() if (p / TUNING_FILE).is_file())
    assert len(kept) == 3 and paths[-1] in kept


# The real bundled model: a tiny KB tuned for one epoch, built, served and swapped.

TINY_KB = {
    "opening-hours": ["when are you open", "opening times of the shop", "what time do you close"],
    "delivery-time": ["how long does delivery take", "when will my parcel arrive", "shipping time"],
    "refund": ["I want my money back", "how do I get a refund", "return an item for a refund"],
}


def _write_tiny_kb(settings: Settings) -> None:
    for article_id, questions in TINY_KB.items():
        front = f"title: {questions[0].capitalize()}\nquestions: [{', '.join(questions[1:])}]"
        write_article(settings.kb_path, "en", article_id, front, f"About {article_id}.")


@pytest.fixture
def tuned_settings(isolated_home, monkeypatch) -> Settings:
    monkeypatch.setenv("FAQBOT_TUNE_EPOCHS", "1")
    monkeypatch.setenv("FAQBOT_LANGUAGES", '["en"]')
    monkeypatch.setenv("FAQBOT_DEFAULT_LANG", "en")
    settings = Settings()
    _write_tiny_kb(settings)
    return settings


@pytest.mark.model
def test_a_tuned_build_is_served_by_its_own_model_and_swapped_live(tuned_settings):
    base = SentenceTransformerEmbedder()
    first = build_index(tuned_settings.build, base)
    manifest = first.manifest
    assert manifest.base_model == base.model_id and manifest.model.startswith(base.model_id + "+tuned-")
    assert (first.folder / MODEL_DIR / "config.json").is_file()
    assert any(name.startswith(f"{MODEL_DIR}/") for name in manifest.files)  # checksummed too

    bot = load_bot(tuned_settings)
    served = bot.retriever.embedder
    assert served.model_id == manifest.model
    tuned_vector = served.encode(["when do you open"])[0]
    base_vector = base.encode(["when do you open"])[0]
    assert float(tuned_vector @ base_vector) < 0.9999  # another model, not the base renamed
    assert bot.retriever.search("when do you open", k=1).hits[0].article_id == "opening-hours"

    rebuilt = build_index(tuned_settings.build, base, retune=False)  # unchanged KB: the same model
    assert rebuilt.manifest.model == manifest.model and rebuilt.embedded == 0

    again = build_index(tuned_settings.build, base, retune=True)
    assert again.manifest.model == manifest.model  # same texts, same recipe: same key, reused

    write_article(
        tuned_settings.kb_path,
        "en",
        "refund",
        "title: I want my money back\nquestions: [refund please, money back for a broken item, "
        "can I be reimbursed, how are refunds paid]",
    )
    changed = build_index(tuned_settings.build, base)
    assert changed.manifest.model != manifest.model  # 4 of 11 texts new: tuned afresh

    worker_before = served._worker
    watcher = IndexWatcher(bot, tuned_settings.index_path, interval=60)
    assert watcher.check() == changed.version
    assert bot.retriever.embedder.model_id == changed.manifest.model
    assert bot.retriever.search("can I be reimbursed", k=1).hits[0].article_id == "refund"
    if worker_before is not None:  # the replaced model's encoder thread exits
        worker_before.join(timeout=10)
        assert not worker_before.is_alive()
    assert served.encode(["still usable after close"]).shape == tuned_vector[None, :].shape


@pytest.mark.model
def test_a_version_tuned_from_another_model_is_refused(tuned_settings, tmp_path):
    built = build_index(tuned_settings.build, SentenceTransformerEmbedder())
    manifest_path = resolve(tuned_settings.index_path) / "manifest.json"
    data = json.loads(manifest_path.read_text())
    data["base_model"] = "some-other-model"
    manifest_path.write_text(json.dumps(data))
    with pytest.raises(Exception, match="built with model"):
        Retriever(built.folder, SentenceTransformerEmbedder(), _detector()).load()
    assert Manifest.from_file(manifest_path).base_model == "some-other-model"


def _detector():
    from bot.retrieval.language import LanguageDetector

    return LanguageDetector(["en"], "en")


def test_query_encoder_close_lets_its_thread_go_and_a_later_query_restarts_it(fake_embedder):
    from bot.retrieval.query_encoder import QueryEncoder

    encoder = QueryEncoder(fake_embedder, cache_size=0)
    first = encoder.encode_one("hello")
    worker = encoder._worker
    encoder.close()
    worker.join(timeout=10)
    assert not worker.is_alive()
    results = []
    threads = [threading.Thread(target=lambda: results.append(encoder.encode_one("hello"))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert len(results) == 4 and all(np.array_equal(r, first) for r in results)


# A KB of single phrasings (an FAQ as imported): tuned on its answers by default.

FAQ = {
    "opening-hours": ("When are you open?", "We open at nine and close at six, Monday to Saturday."),
    "delivery-time": ("How long does delivery take?", "Parcels arrive in two to four working days."),
    "refund": ("How do refunds work?", "Send the item back within 30 days and we pay you back."),
}


def _article(article_id: str, title: str, questions: tuple[str, ...] = ()):
    from bot.kb.articles import Article

    return Article(id=article_id, lang="en", title=title, questions=questions, body="…", path=None)


def test_a_kb_is_of_single_phrasings_while_most_articles_say_their_question_once_or_twice():
    from bot.index.build import single_phrasing

    imported = [_article(f"a{i}", f"Question {i}?", (f"question {i}?",)) for i in range(5)]
    assert single_phrasing(imported)  # the title and its question, told apart only by case
    curated = [_article(f"a{i}", f"Q {i}", (f"one {i}", f"two {i}", f"three {i}")) for i in range(5)]
    assert not single_phrasing(curated)
    assert single_phrasing(curated[:2] + imported)  # most are still as imported
    assert not single_phrasing([])


@pytest.mark.model
def test_an_imported_faq_is_tuned_on_its_answers_unless_turned_off(isolated_home, monkeypatch):
    monkeypatch.setenv("FAQBOT_LANGUAGES", '["en"]')
    monkeypatch.setenv("FAQBOT_DEFAULT_LANG", "en")
    settings = Settings()
    for article_id, (question, answer) in FAQ.items():
        write_article(
            settings.kb_path, "en", article_id, f"title: {question}\nquestions: [{question}]", answer
        )
    base = SentenceTransformerEmbedder()
    built = build_index(settings.build, base)
    assert built.manifest.model.startswith(base.model_id + "+tuned-")
    info = json.loads((resolve(settings.index_path) / MODEL_DIR / TUNING_FILE).read_text())
    assert info["articles"] == 3 and len(info["texts"]) == 6  # three questions and three answers

    monkeypatch.setenv("FAQBOT_ANSWER_TUNING", "false")
    plain = build_index(Settings().build, base)
    assert plain.manifest.model == base.model_id

"""Index build: incremental embedding, atomic publication, integrity checks, old versions pruned."""

from __future__ import annotations

import json
import multiprocessing
import os

import numpy as np
import pytest

from bot.config import Settings
from bot.index.artefacts import ArticleRecord, IndexError_, Manifest, verify
from bot.index.build import build_index
from bot.index.versions import current_version, resolve
from bot.kb.articles import InvalidKnowledgeBase
from bot.retrieval.embedder import EmbeddingCache
from bot.retrieval.language import LanguageDetector
from bot.retrieval.lexical import LexicalIndex
from bot.retrieval.search import Retriever
from tests.conftest import FakeEmbedder, write_article


def test_cache_embeds_each_text_once(tmp_path):
    embedder = FakeEmbedder()
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    first = cache.embed(embedder, ["a b", "c d", "a b"])
    assert embedder.encoded == ["a b", "c d"] and first.shape == (3, 256)
    again = EmbeddingCache(tmp_path / "cache.sqlite").embed(embedder, ["c d", "e f"])
    assert embedder.encoded == ["a b", "c d", "e f"]
    assert (again[0] == first[1]).all()


def test_cache_is_keyed_by_model(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    cache.embed(FakeEmbedder(model_id="m1"), ["same text"])
    other = FakeEmbedder(model_id="m2")
    cache.embed(other, ["same text"])
    assert other.encoded == ["same text"]


def test_build_publishes_a_complete_version(small_kb, settings):
    result = build_index(settings.build, FakeEmbedder())
    root = settings.index_path
    assert current_version(root) == result.version
    manifest = Manifest.from_file(resolve(root) / "manifest.json")
    assert manifest.model == "fake-hashing" and manifest.dimension == 256
    assert manifest.metric == "inner_product_normalised"
    assert manifest.counts["articles"] == 6 and manifest.counts["by_lang"] == {"it": 4, "en": 2}
    assert {"vectors.faiss", "articles.json", "lexical/lexical.json"} <= set(manifest.files)
    verify(resolve(root), manifest)


def test_articles_json_holds_the_records_the_retriever_serves(small_kb, settings):
    build_index(settings.build, FakeEmbedder())
    folder = resolve(settings.index_path)
    stored = json.loads((folder / "articles.json").read_text(encoding="utf-8"))["articles"]
    records = [ArticleRecord.from_dict(raw) for raw in stored]
    assert [list(r.to_dict().items()) for r in records] == [list(raw.items()) for raw in stored]
    assert any(r.translation_of for r in records) and all(isinstance(r.questions, tuple) for r in records)
    retriever = Retriever(folder, FakeEmbedder(), LanguageDetector()).load()
    assert retriever.article(records[0].id) == records[0] and retriever.article("missing") is None


def test_second_build_reembeds_nothing_and_one_change_reembeds_only_it(small_kb, settings):
    embedder = FakeEmbedder()
    first = build_index(settings.build, embedder)
    assert first.embedded == len(embedder.encoded) > 0
    embedder.encoded.clear()
    second = build_index(settings.build, embedder)
    assert second.embedded == 0 and embedder.encoded == []
    assert second.version != first.version

    path = small_kb / "it" / "returns-how.md"
    path.write_text(path.read_text().replace("voglio fare un reso", "vorrei rendere un ordine"))
    third = build_index(settings.build, embedder)
    assert embedder.encoded == ["vorrei rendere un ordine"] and third.embedded == 1


def test_an_unchanged_kb_reuses_the_learned_models_and_a_change_refits_them(small_kb, settings, monkeypatch):
    import bot.index.build

    embedder = FakeEmbedder()
    first = build_index(settings.build, embedder)
    fits, bm25_builds = [], []
    real_fit, real_build = bot.index.build.fit_fusion, LexicalIndex.build
    monkeypatch.setattr(bot.index.build, "fit_fusion", lambda *a, **k: fits.append(1) or real_fit(*a, **k))
    monkeypatch.setattr(LexicalIndex, "build", lambda *a: bm25_builds.append(1) or real_build(*a))
    second = build_index(settings.build, embedder)
    assert fits == [] and bm25_builds == [] and second.manifest.fit_key == first.manifest.fit_key
    assert second.manifest.fusion == first.manifest.fusion
    head = (first.folder / "head.npz").read_bytes()
    assert (second.folder / "head.npz").read_bytes() == head
    assert second.manifest.files["lexical/lexical.json"] == first.manifest.files["lexical/lexical.json"]
    retriever = Retriever.from_root(settings.index_path, embedder, LanguageDetector()).load()
    assert retriever.search("ho perso la password").hits[0].article_id == "reset-password"

    path = small_kb / "it" / "returns-how.md"
    path.write_text(path.read_text().replace("voglio fare un reso", "vorrei rendere un ordine"))
    third = build_index(settings.build, embedder)
    assert fits == [1] and bm25_builds == [1] and third.manifest.fit_key != first.manifest.fit_key


def test_a_change_of_fusion_features_refits_instead_of_reusing_the_old_models(
    small_kb, settings, monkeypatch
):
    """Reusing a fusion fitted on other features would fail the build ("trained on other features")."""
    import bot.index.build
    import bot.index.contents
    import bot.retrieval.features
    import bot.retrieval.fusion

    embedder = FakeEmbedder()
    first = build_index(settings.build, embedder)
    added = (*bot.retrieval.features.RANK_FEATURES, "a_new_signal")
    monkeypatch.setattr(bot.index.contents, "RANK_FEATURES", added)
    monkeypatch.setattr(bot.retrieval.fusion, "RANK_FEATURES", added)
    monkeypatch.setattr(bot.index.build, "fit_fusion", lambda *a, **k: bot.retrieval.fusion.Fusion.prior())
    second = build_index(settings.build, embedder)
    assert second.manifest.fit_key != first.manifest.fit_key
    assert second.manifest.fusion["rank_features"] == list(added)


def test_an_index_fitted_on_older_confidence_features_is_refused_with_its_folder(
    small_kb, settings, monkeypatch
):
    """An index built by an older faqbot (fewer confidence features) must not serve wrong scores."""
    import bot.retrieval.features
    import bot.retrieval.fusion

    built = build_index(settings.build, FakeEmbedder())
    monkeypatch.setattr(
        bot.retrieval.fusion, "CONF_FEATURES", (*bot.retrieval.features.CONF_FEATURES, "a_new_signal")
    )
    with pytest.raises(IndexError_, match=f"{built.version}: fusion model was trained on other features"):
        Retriever.from_root(settings.index_path, FakeEmbedder(), LanguageDetector()).load()


def test_invalid_kb_fails_and_keeps_the_live_index(small_kb, settings):
    live = build_index(settings.build, FakeEmbedder()).version
    write_article(small_kb, "it", "broken", "title: X\nquestions: [q]\nmood: happy")
    with pytest.raises(InvalidKnowledgeBase, match="broken.md: mood"):
        build_index(settings.build, FakeEmbedder())
    assert current_version(settings.index_path) == live


@pytest.mark.parametrize("stage", ["embedded", "written", "manifest"])
def test_interrupted_build_leaves_current_valid(small_kb, settings, stage):
    live = build_index(settings.build, FakeEmbedder()).version

    def crash(at: str) -> None:
        if at == stage:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_index(settings.build, FakeEmbedder(), hook=crash)
    assert current_version(settings.index_path) == live
    Retriever.from_root(settings.index_path, FakeEmbedder(), LanguageDetector()).load()


def _killed_build(home: str, stage: str) -> None:
    os.environ["FAQBOT_HOME"] = home

    def die(at: str) -> None:
        if at == stage:
            os._exit(137)  # like SIGKILL: no cleanup, no exception handlers

    build_index(Settings().build, FakeEmbedder(), hook=die)


def test_killed_build_process_leaves_current_valid_and_is_cleaned_up(small_kb, settings, isolated_home):
    live = build_index(settings.build, FakeEmbedder()).version
    process = multiprocessing.get_context("fork").Process(
        target=_killed_build, args=(str(isolated_home), "manifest")
    )
    process.start()
    process.join(60)
    assert process.exitcode == 137
    root = settings.index_path
    assert current_version(root) == live
    assert list(root.glob(".tmp-v-*")), "the killed build should have left its staging folder"
    Retriever.from_root(root, FakeEmbedder(), LanguageDetector()).load()
    build_index(settings.build, FakeEmbedder())
    assert not list(root.glob(".tmp-v-*"))


def test_corrupt_file_is_refused(small_kb, settings):
    build_index(settings.build, FakeEmbedder())
    folder = resolve(settings.index_path)
    with open(folder / "articles.json", "ab") as handle:
        handle.write(b" ")
    with pytest.raises(IndexError_, match="articles.json: checksum mismatch"):
        Retriever.from_root(settings.index_path, FakeEmbedder(), LanguageDetector()).load()


def test_index_built_with_another_model_is_refused(small_kb, settings):
    build_index(settings.build, FakeEmbedder(model_id="model-a"))
    retriever = Retriever.from_root(settings.index_path, FakeEmbedder(model_id="model-b"), LanguageDetector())
    with pytest.raises(IndexError_, match="model-a"):
        retriever.load()


def test_old_versions_are_pruned_but_the_live_one_kept(small_kb, isolated_home):
    settings = Settings(keep_versions=2)
    versions = [build_index(settings.build, FakeEmbedder()).version for _ in range(4)]
    kept = sorted(p.name for p in settings.index_path.glob("v-*"))
    assert kept == versions[-2:]


def test_no_published_article_is_an_error(isolated_home, settings):
    write_article(isolated_home / "kb_articles", "it", "a", "title: A\nquestions: [q]\nstatus: draft")
    with pytest.raises(ValueError, match="no published articles"):
        build_index(settings.build, FakeEmbedder())
    assert current_version(settings.index_path) is None


def test_large_collections_use_an_approximate_index_and_still_retrieve(small_kb, isolated_home):
    settings = Settings(ann_threshold=10)
    embedder = FakeEmbedder()
    result = build_index(settings.build, embedder)
    assert result.manifest.faiss_type == "IndexIVFFlat"
    retriever = Retriever.from_root(settings.index_path, embedder, LanguageDetector()).load()
    assert retriever.search("ho perso la password").hits[0].article_id == "reset-password"


def test_the_approximate_index_agrees_with_exact_search_on_new_queries():
    import faiss

    from bot.index.dense import exact_top1, make_faiss

    rng = np.random.default_rng(7)
    topics = rng.standard_normal((300, 48)).astype(np.float32)
    vectors = topics[rng.integers(0, 300, 30_000)] + 0.6 * rng.standard_normal((30_000, 48)).astype(
        np.float32
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = make_faiss(vectors, ann_threshold=10_000)
    assert isinstance(index, faiss.IndexIVFFlat) and 1 <= index.nprobe < index.nlist
    queries = vectors[rng.choice(30_000, 400, replace=False)] + 0.05 * rng.standard_normal((400, 48))
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    exact, _ = exact_top1(vectors, queries)
    _, found = index.search(queries, 1)
    assert np.mean(found[:, 0] == exact) >= 0.95

"""`faqbot build`: validate the articles, embed what changed, write and publish a new index version."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bot.config import BuildSettings
from bot.index.artefacts import Manifest, Unit, checksums
from bot.index.contents import article_record, article_units, fit_key, kb_hash
from bot.index.versions import IndexWriter, fitted_version
from bot.index.write import head_examples, write_version_files
from bot.kb.articles import Article, load_valid_kb
from bot.retrieval.corpus import Corpus
from bot.retrieval.embedder import Embedder, EmbeddingCache, SentenceTransformerEmbedder
from bot.retrieval.fusion import Fusion
from bot.retrieval.fusion_fit import fit_fusion
from bot.retrieval.head import Head
from bot.retrieval.language import LanguageDetector
from bot.retrieval.model_switch import MODEL_DIR
from bot.retrieval.tuning import ModelTuner, Recipe, tunable


class Progress(Protocol):
    """Where the build reports what it does: a progress bar on a terminal, log lines in cron."""

    def step(self, message: str) -> None: ...

    def start_embedding(self, total: int) -> None: ...

    def advance(self, n: int) -> None: ...


class SilentProgress:
    def step(self, message: str) -> None:
        pass

    def start_embedding(self, total: int) -> None:
        pass

    def advance(self, n: int) -> None:
        pass


@dataclass
class BuildResult:
    """What a build did: the published version and its counts."""

    version: str
    folder: Path
    manifest: Manifest
    embedded: int
    cache_hits: int
    seconds: float
    warnings: list[str] = field(default_factory=list)


def build_index(
    settings: BuildSettings,
    embedder: Embedder,
    progress: Progress | None = None,
    hook: Callable[[str], None] | None = None,
    publish: bool = True,
    retune: bool = False,
) -> BuildResult:
    """Validate the KB, then build (and with `publish`, publish) a new version; any failure raises
    and leaves `current` untouched. `hook(stage)` is called between stages (tests interrupt builds);
    `retune` tunes the model afresh even if a tuned model close enough exists."""
    progress = progress or SilentProgress()
    kb = load_valid_kb(settings.kb_path, settings.index_path / "cache" / "near_duplicates.json")
    articles = kb.published
    if not articles:
        raise ValueError(f"{settings.kb_path}: no published articles to index")
    progress.step(
        f"validated {len(kb.articles)} articles ({len(articles)} published, {len(kb.warnings)} warnings)"
    )
    result = build_articles(
        articles, settings, embedder, settings.index_path, progress, hook, publish, retune
    )
    result.warnings = [str(w) for w in kb.warnings]
    return result


def build_articles(
    articles: list[Article],
    settings: BuildSettings,
    embedder: Embedder,
    root: Path,
    progress: Progress | None = None,
    hook: Callable[[str], None] | None = None,
    publish: bool = True,
    retune: bool = False,
) -> BuildResult:
    """Tune the model (if enabled), embed, index and (with `publish`) publish already-validated
    articles under `root`."""
    progress = progress or SilentProgress()
    started = time.perf_counter()
    units = article_units(articles)
    base_model = ""
    tuned = _tuned_model(articles, units, settings, embedder, progress, retune)
    if tuned is not None:
        base_model, embedder = embedder.model_id, tuned[1]
    cache = EmbeddingCache(settings.index_path / "cache" / "embeddings.sqlite")
    progress.start_embedding(len(units))
    vectors = cache.embed(embedder, [u.text for u in units], on_progress=progress.advance)
    progress.step(f"embedded {cache.misses} new texts, {cache.hits} from cache")
    _call(hook, "embedded")

    writer = IndexWriter(root, keep=settings.keep_versions, log=progress.step)
    version, staging = writer.new_version()
    content = kb_hash(articles)
    languages = [settings.default_lang, *settings.languages]
    key = fit_key(content, embedder.model_id, int(vectors.shape[1]), languages)
    fitted = fitted_version(root, key)  # nothing changed: the learned models are still right
    folder = fitted[0] if fitted else None
    faiss_type, lexical = write_version_files(
        staging, articles, units, vectors, settings.ann_threshold, fitted=folder
    )
    if tuned is not None:
        link_tree(tuned[0], staging / MODEL_DIR)
    _call(hook, "written")
    if fitted is not None:
        fusion = Fusion.from_dict(fitted[1].fusion)
        progress.step(f"head and fusion weights reused from {fitted[0].name} (same content and model)")
    else:
        head = Head.load(staging / "head.npz") if (staging / "head.npz").is_file() else None
        corpus = Corpus([article_record(a) for a in articles], units, vectors, lexical, head=head)
        fusion = fit_fusion(corpus, LanguageDetector(settings.languages, settings.default_lang))
        progress.step(f"fusion weights: {fusion.source} ({_stats(fusion)})")
    manifest = Manifest(
        version=version,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        model=embedder.model_id,
        dimension=int(vectors.shape[1]),
        metric="inner_product_normalised",
        faiss_type=faiss_type,
        counts=_counts(articles, units),
        kb_hash=content,
        files=checksums(staging),
        fusion=fusion.to_dict(),
        fit_key=key,
        base_model=base_model,
    )
    _call(hook, "manifest")
    folder = writer.finish(staging, manifest, publish)
    return BuildResult(
        version=version,
        folder=folder,
        manifest=manifest,
        embedded=cache.misses,
        cache_hits=cache.hits,
        seconds=time.perf_counter() - started,
    )


def _tuned_model(
    articles: list[Article],
    units: list[Unit],
    settings: BuildSettings,
    embedder: Embedder,
    progress: Progress,
    retune: bool,
) -> tuple[Path, Embedder] | None:
    """The folder and embedder of the tuned model, or None (tuning off, a model that cannot be
    tuned, or fewer than two articles to contrast).

    With `tune_epochs`, the model is tuned on the articles' titles and questions. Without, a KB of
    single phrasings (see `single_phrasing`) is tuned for one epoch on its questions and its answer
    paragraphs: the only text it has that says how its domain speaks. Measured on the dev splits of
    three imported FAQs (day one): top-1 0.949 / 0.699 / 0.752 -> 0.947 / 0.742 / 0.785, AUROC
    0.921 / 0.567 / 0.791 -> 0.921 / 0.649 / 0.789; on the sample KB, curated with about ten
    phrasings an article, the same tuning lost 0.02 top-1 and 0.01 AUROC in Italian, so a curated
    KB is served by the model as it is (docs/benchmarks.md)."""
    examples = [(_group(articles[units[i].article]), units[i].text) for i in head_examples(units)]
    epochs, what = settings.tune_epochs, "titles and questions"
    if epochs == 0 and settings.answer_tuning and single_phrasing(articles):
        examples += [(_group(articles[u.article]), u.text) for u in units if u.kind == "answer"]
        epochs, what = 1, "questions and answer paragraphs (a KB of single phrasings)"
    if epochs == 0 or not tunable(embedder) or len({a for a, _ in examples}) < 2:
        return None
    recipe = Recipe(epochs=epochs)
    tuner = ModelTuner(settings.index_path / "cache" / "models", recipe, log=progress.step)
    progress.step(f"model: tuning on {len(examples)} {what} unless a tuned model fits")
    tuned = tuner.tuned(embedder, examples, retune)
    how = "reused" if tuned.reused else f"tuned in {tuned.seconds:.0f}s"
    progress.step(f"model: {tuned.model_id} ({how})")
    model = SentenceTransformerEmbedder(str(tuned.path), embedder.batch_size, model_id=tuned.model_id)
    return tuned.path, model


def single_phrasing(articles: list[Article]) -> bool:
    """Do most articles say their question one or two ways (title and questions, told apart after
    folding case and spaces)? So is an FAQ as imported, before staff add the questions customers
    ask."""
    if not articles:
        return False
    counts = sorted(
        len({" ".join(t.lower().split()) for t in (a.title, *a.questions) if t.strip()}) for a in articles
    )
    return counts[len(counts) // 2] <= 2


def _group(article: Article) -> str:
    """Translations answer alike: their phrasings are positives for one another in tuning."""
    return article.translation_of or article.id


def link_tree(source: Path, target: Path) -> None:
    """Hard-link a folder's files into a version (a copy where links are impossible)."""

    def link(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, copy_function=link)


def _counts(articles: list[Article], units: list[Unit]) -> dict[str, object]:
    by_lang: dict[str, int] = {}
    for article in articles:
        by_lang[article.lang] = by_lang.get(article.lang, 0) + 1
    return {"articles": len(articles), "units": len(units), "by_lang": by_lang}


def _stats(fusion: Fusion) -> str:
    return (
        ", ".join(
            f"{lang}: {s['queries']} held-out questions, top-1 {s['held_out_top1']:.2f}"
            + (f", {s['ranker']} ranker" if "ranker" in s else "")
            for lang, s in fusion.stats.items()
        )
        or "too few questions to learn from"
    )


def _call(hook: Callable[[str], None] | None, stage: str) -> None:
    if hook is not None:
        hook(stage)

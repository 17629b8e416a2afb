"""`faqbot bench DIR`: quality on a data set in the shared benchmark format (kb.jsonl + queries.jsonl).

A throw-away index is built from kb.jsonl; every figure is reported on `test`. Under the `labelled`
protocol (here) fusion weights and thresholds are fitted on the `dev` split only; `curated` and
`day-one` (bot.quality.protocols) build the KB as `faqbot build` does and ask the live Bot.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.config import BuildSettings, DialogueSettings
from bot.dialogue.policy import Thresholds, decide
from bot.index.build import build_articles
from bot.kb.articles import Article
from bot.quality.calibrate import pick_thresholds
from bot.quality.evaluate import EvalItem, Outcome, by_language, metrics
from bot.quality.protocols import PROTOCOLS, curated, live_report
from bot.retrieval.corpus import ANSWER, Corpus
from bot.retrieval.embedder import Embedder, EmbeddingCache
from bot.retrieval.fusion_fit import Labelled, fit_labelled
from bot.retrieval.head import fit_head
from bot.retrieval.language import LanguageDetector, language_code, lingua_language
from bot.retrieval.search import Retriever

LATENCY_SAMPLE = 200


@dataclass(frozen=True)
class BenchQuery:
    text: str
    lang: str
    gold: tuple[str, ...]
    split: str


def load_dataset(folder: Path) -> tuple[list[Article], list[BenchQuery]]:
    """Entries and queries of a benchmark folder; errors name the file, the line and the field.

    An id given in several languages names one entry's translations: each version becomes an
    article of its own (the first keeps the id, the others `id@lang`), linked as translations, and
    a query whose gold is that id is right with any version, its own language's listed first."""
    kb_path = folder / "kb.jsonl"
    articles: list[Article] = []
    seen: dict[tuple[str, str], str] = {}
    versions: dict[str, list[Article]] = {}
    for where, row in _jsonl(kb_path, {"id": (str, int), "lang": str, "questions": list}):
        _strings(where, row, "questions")
        entry, lang = str(row["id"]), _language(where, row["lang"])
        if (entry, lang) in seen:
            raise ValueError(f"{where}: id {entry!r} is already used in {lang!r} at {seen[entry, lang]}")
        seen[entry, lang] = where
        first = versions.get(entry, [None])[0]
        article = Article(
            id=entry if first is None else f"{entry}@{lang}",
            lang=lang,
            title=str(row.get("title") or entry),
            questions=tuple(str(q) for q in row["questions"]),
            body=str(row.get("answer") or ""),
            path=kb_path,
            translation_of=None if first is None else first.id,
        )
        versions.setdefault(entry, []).append(article)
        articles.append(article)
    clash = sorted({a.id for a in articles if a.translation_of} & set(versions))
    if clash:
        raise ValueError(f"{kb_path}: ids {clash[:5]} name both an entry and another's translation")
    queries = []
    fields: dict[str, type | tuple[type, ...]] = {"text": str, "lang": str, "gold": list, "split": str}
    for where, row in _jsonl(folder / "queries.jsonl", fields):
        _strings(where, row, "gold")
        lang = _language(where, row["lang"])
        unknown = [str(g) for g in row["gold"] if str(g) not in versions]
        if unknown:
            raise ValueError(f"{where}: gold ids not in kb.jsonl: {unknown[:5]}")
        gold = tuple(
            a.id for g in row["gold"] for a in sorted(versions[str(g)], key=lambda a: a.lang != lang)
        )
        queries.append(BenchQuery(row["text"], lang, gold, row["split"]))
    return articles, queries


def _jsonl(path: Path, fields: dict[str, type | tuple[type, ...]]) -> list[tuple[str, dict[str, Any]]]:
    """(file:line, row) for each non-blank line; each of `fields` must be there, of its type. A
    byte-order mark at the start is allowed."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: not JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise ValueError(f"{where}: expected a JSON object")
        missing = [k for k in fields if k not in row]
        if missing:
            raise ValueError(f"{where}: missing {', '.join(missing)}")
        for name, kind in fields.items():
            if not isinstance(row[name], kind) or isinstance(row[name], bool):
                raise ValueError(f"{where}: {name} must be {_kind(kind)}, not {type(row[name]).__name__}")
        rows.append((where, row))
    return rows


def _language(where: str, tag: str) -> str:
    """The entry's or query's language as an ISO 639-1 code where lingua knows it ("it-IT" -> "it"),
    so that detection, stemming and stop words apply."""
    code = language_code(tag)
    if not code.isalpha():
        raise ValueError(f'{where}: lang must be a language code such as "it" or "en-US", not {tag!r}')
    return code


def _strings(where: str, row: dict[str, Any], name: str) -> None:
    if not all(isinstance(item, str | int) and not isinstance(item, bool) for item in row[name]):
        raise ValueError(f"{where}: {name} must be a list of strings")


def _kind(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "a number", list: "a list"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names[k] for k in kinds)


def run_bench(
    folder: Path,
    settings: BuildSettings,
    dialogue: DialogueSettings,
    embedder: Embedder,
    target_wrong: float = 0.05,
    head_on_dev: bool = True,
    protocol: str = "labelled",
) -> dict[str, Any]:
    """Build, fit, report on test: one flat dict of metrics.

    `labelled`: fit on dev. With `head_on_dev`, the dev questions also train the classification
    head, as the questions of a KB's missed-query log do once staff add them to articles; the
    thresholds are fitted here, and of `dialogue` only the clarify margin applies. `curated`: the
    dev questions become alternate questions, nothing else of dev is used; `day-one`: the KB alone,
    dev unused. Both serve with `dialogue`'s thresholds, as a build would."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, not {protocol!r}")
    articles, every = load_dataset(folder)
    # A blank "question" is no message a customer can send (the chat API refuses it with 400).
    queries = [q for q in every if q.text.strip()]
    report = _run(
        folder, articles, queries, settings, dialogue, embedder, target_wrong, head_on_dev, protocol
    )
    report["n_blank_skipped"] = len(every) - len(queries)
    return report


def _run(
    folder: Path,
    articles: list[Article],
    queries: list[BenchQuery],
    settings: BuildSettings,
    dialogue: DialogueSettings,
    embedder: Embedder,
    target_wrong: float,
    head_on_dev: bool,
    protocol: str,
) -> dict[str, Any]:
    detector = bench_detector(sorted({a.lang for a in articles} | {q.lang for q in queries}))
    dev = [q for q in queries if q.split == "dev"]
    test = [q for q in queries if q.split == "test"]
    needs_dev = protocol != "day-one"
    if not test or (needs_dev and not dev):
        raise ValueError(
            f"{folder}: needs {'dev and ' if needs_dev else ''}test queries "
            f"(found {len(dev)} dev, {len(test)} test)"
        )
    if protocol != "labelled":
        dev_items, test_items = ([EvalItem(q.text, q.lang, q.gold) for q in qs] for qs in (dev, test))
        kb = curated(articles, dev_items) if protocol == "curated" else articles
        live = live_report(kb, test_items, detector, settings, dialogue, embedder)
        added = sum(len(a.questions) for a in kb) - sum(len(a.questions) for a in articles)
        live.update(dataset=folder.name, protocol=protocol, n_dev=added)
        return live
    with tempfile.TemporaryDirectory(prefix="faqbot-bench-") as tmp:
        built = build_articles(articles, settings, embedder, Path(tmp))
        retriever = Retriever(built.folder, embedder, detector).load()
    assert retriever.corpus is not None and retriever.manifest is not None  # load() set them
    cache = EmbeddingCache(settings.index_path / "cache" / "embeddings.sqlite")
    vectors = cache.embed(retriever.embedder, [q.text for q in queries])  # the tuned model, if any
    by_text = {q.text: v for q, v in zip(queries, vectors, strict=True)}
    position = {a.id: i for i, a in enumerate(retriever.corpus.articles)}

    gold = np.array([position[q.gold[0]] if q.gold else -1 for q in dev])
    dev_vectors = np.stack([by_text[q.text] for q in dev])
    oof = _train_head_on_dev(retriever.corpus, dev_vectors, gold) if head_on_dev else None
    labelled = [
        Labelled(q.text, dev_vectors[i], int(gold[i]), head=None if oof is None else oof[i])
        for i, q in enumerate(dev)
    ]
    retriever.fusion = fit_labelled(retriever.corpus, detector, labelled)
    # Dev questions are scored with the cross-fitted head, as for the fusion fit: the head trained
    # on all of dev would make them look surer than test questions, and the thresholds too low.
    calibration = pick_thresholds(_outcomes(retriever, dev, by_text, heads=oof), target_wrong)
    thresholds = Thresholds(
        calibration.answer_threshold, calibration.clarify_threshold, dialogue.clarify_margin
    )
    outcomes = _outcomes(retriever, test, by_text, thresholds)
    report: dict[str, Any] = metrics(outcomes)
    if len({q.lang for q in test}) > 1:  # how each language of a mix fares (timings: whole set only)
        per_language = by_language(outcomes)
        report["by_language"] = {lang: _untimed(m) for lang, m in per_language.items() if lang != "all"}
    p50_ms, p95_ms = _latency(retriever, test)
    report.update(
        dataset=folder.name,
        p50_ms=p50_ms,
        p95_ms=p95_ms,
        answer_threshold=calibration.answer_threshold,
        clarify_threshold=calibration.clarify_threshold,
        n_dev=len(dev),
        out_of_scope_class=retriever.corpus.head is not None and retriever.corpus.head.oos is not None,
        fusion=retriever.fusion.source,
        model=retriever.manifest.model,
        head_on_dev=head_on_dev,
        protocol=protocol,
    )
    return report


def _untimed(report: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in report.items() if not k.endswith("_ms")}


def bench_detector(languages: list[str]) -> LanguageDetector:
    """A detector among the data set's languages that lingua knows (all of them when there is one)."""
    known = [lang for lang in languages if lingua_language(lang) is not None]
    chosen = languages if len(languages) == 1 else known or languages[:1]
    return LanguageDetector(chosen, chosen[0])


def _train_head_on_dev(corpus: Corpus, dev_vectors: np.ndarray, gold: np.ndarray) -> np.ndarray:
    """Retrain `corpus.head` on the KB's questions plus the answerable dev questions (and an
    out-of-scope class on the unanswerable ones); return, for every dev question, logits from a
    head trained without its half of dev (cross-fitting)."""
    rows = np.flatnonzero(corpus.unit_kind != ANSWER)
    kb_x, kb_y = corpus.vectors[rows], corpus.unit_article[rows]
    n = len(corpus.articles)
    halves = np.arange(len(gold)) % 2
    unscoped = gold < 0
    # The class is trained only when both halves hold out-of-scope questions, so that every dev
    # question is scored by a head with the class, as test questions will be.
    if not all((unscoped & (halves == half)).any() for half in (0, 1)):
        unscoped = np.zeros_like(unscoped)
    oof = np.full((len(gold), n + int(unscoped.any())), -np.inf)
    for half in (0, 1):
        train = (halves != half) & (gold >= 0)
        head = fit_head(
            np.vstack([kb_x, dev_vectors[train]]),
            np.concatenate([kb_y, gold[train]]),
            n,
            out_of_scope=dev_vectors[(halves != half) & unscoped],
        )
        if head is not None and (halves == half).any():
            oof[halves == half] = head.logits(dev_vectors[halves == half])
    answerable = gold >= 0
    corpus.head = fit_head(
        np.vstack([kb_x, dev_vectors[answerable]]),
        np.concatenate([kb_y, gold[answerable]]),
        n,
        out_of_scope=dev_vectors[unscoped],
    )
    return oof


def _outcomes(
    retriever: Retriever,
    queries: list[BenchQuery],
    vectors: dict[str, np.ndarray],
    thresholds: Thresholds | None = None,
    heads: np.ndarray | None = None,
) -> list[Outcome]:
    """Each query's ranking and confidence (and decision, given `thresholds`); `heads`, one row of
    head logits per query, replace the head's own."""
    outcomes = []
    for i, q in enumerate(queries):
        head = None if heads is None else heads[i]
        result = retriever.search_vector(q.text, vectors[q.text], k=10, head_logits=head)
        ranked = tuple(h.article_id for h in result.hits)
        decision, answered = None, None
        offered: tuple[str, ...] = ()
        if thresholds is not None:
            d = decide(result, thresholds)
            decision, answered = d.kind, d.hit.article_id if d.hit else None
            offered = tuple(h.article_id for h in d.suggestions)
        item = EvalItem(q.text, q.lang, q.gold)
        outcomes.append(Outcome(item, ranked, result.confidence, decision, answered, offered=offered))
    return outcomes


def _latency(retriever: Retriever, queries: list[BenchQuery]) -> tuple[float, float]:
    """Median and 95th percentile milliseconds of one full search (encode included) over a fixed
    sample of queries."""
    sample = queries[:: max(1, len(queries) // LATENCY_SAMPLE)][:LATENCY_SAMPLE]
    times = []
    for q in sample:
        started = time.perf_counter()
        retriever.search(q.text, k=10)
        times.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))

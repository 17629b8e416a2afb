"""The nightly rebuild: build a candidate version, evaluate it, gate it against the live one, swap.

Nothing reaches `index/current` unless the candidate is at least as good as what is served (within
a margin) and every article still answers its own first question; `force` overrides, on record.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.config import BuildSettings, DialogueSettings
from bot.dialogue.bot import Bot
from bot.dialogue.policy import Thresholds
from bot.index.artefacts import Manifest, write_manifest
from bot.index.build import build_index
from bot.index.versions import IndexWriter, current_version, resolve
from bot.kb.articles import load_kb
from bot.quality.evaluate import bot_asker, by_language, load_eval_set, run
from bot.retrieval.embedder import Embedder
from bot.retrieval.language import LanguageDetector
from bot.retrieval.search import Retriever

# Metrics the gate watches: a drop larger than the margin in any language refuses the swap.
GATED = ("top1", "handoff_precision")
# A gated metric must fall by more than the margin and by at least this many evaluation questions'
# worth: with few hand-offs, one question handed off differently moves handoff_precision by 0.03,
# and refusing every publish for that would only teach staff to force it.
MIN_QUESTIONS = 2


class RebuildStatus(StrEnum):
    """How a rebuild ended (or that it has not yet)."""

    RUNNING = "running"
    PUBLISHED = "published"
    REFUSED = "refused"  # by the quality gate: the live index keeps serving
    FAILED = "failed"


@dataclass
class RebuildReport:
    """What one rebuild did, written as JSON to index/reports/."""

    started_at: str
    status: RebuildStatus = RebuildStatus.RUNNING
    candidate: str | None = None
    live_before: str | None = None
    live_after: str | None = None
    forced: bool = False
    regressions: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    live_metrics: dict[str, Any] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)


def evaluate_version(
    folder: Path, kb_path: Path, dialogue: DialogueSettings, embedder: Embedder
) -> dict[str, Any]:
    """Quality of one version, answering as the configured bot would: eval-set metrics per
    language (from `kb_path`/eval), and which articles fail to answer their own first question."""
    retriever = Retriever(
        folder, embedder, LanguageDetector(dialogue.languages, dialogue.default_lang)
    ).load()
    bot = Bot(retriever, Thresholds.from_settings(dialogue), dialogue.misses_before_handoff)
    items = load_eval_set(kb_path / "eval")
    outcomes = run(items, bot_asker(bot)) if items else []
    report: dict[str, Any] = {
        "eval_set": eval_fingerprint(kb_path / "eval"),
        "languages": by_language(outcomes) if outcomes else {},
        # what each evaluation question got, to say which ones a new version answers differently
        "answers": [[o.item.lang, o.item.text, o.answered] for o in outcomes],
    }
    lost = []
    for article in load_kb(kb_path).published:
        hits = retriever.search(article.questions[0], k=1).hits
        if not hits or hits[0].article_id != article.id:
            lost.append(article.id)
    report["own_question_failures"] = lost
    return report


def _support(metrics: dict[str, Any], metric: str) -> float | None:
    """How many evaluation questions a metric is a share of (its denominator); None if the
    figures do not say."""
    if "n_queries" not in metrics:
        return None
    if metric == "handoff_precision":
        return float(metrics.get("handoff", 0.0)) * float(metrics["n_queries"])
    if metric in ("top1", "top3"):
        return float(metrics.get("n_answerable", metrics["n_queries"]))
    return float(metrics["n_queries"])


def regressions(new: dict[str, Any], live: dict[str, Any], margin: float) -> list[str]:
    """Human-readable reasons to refuse `new` compared with `live` (empty: it may go live)."""
    found = [
        f"article {article_id!r} no longer answers its own first question"
        for article_id in new.get("own_question_failures", [])
    ]
    for lang, old in live.get("languages", {}).items():
        current = new.get("languages", {}).get(lang)
        if current is None:
            continue
        for metric in GATED:
            drop = old.get(metric, 0.0) - current.get(metric, 0.0)
            support = _support(current, metric)
            if drop > margin and (support is None or drop * support >= MIN_QUESTIONS - 1e-9):
                found.append(
                    f"{lang} {metric} fell from {old[metric]:.3f} to {current[metric]:.3f} "
                    f"(more than the {margin:.3f} margin)"
                )
    return found


def rebuild(
    settings: BuildSettings,
    dialogue: DialogueSettings,
    embedder: Embedder,
    force: bool = False,
    margin: float = 0.02,
    log: Callable[[str], None] = lambda line: None,
    retune: bool = False,
) -> RebuildReport:
    """Validate, build a candidate, evaluate, gate, publish. Always writes a report; a failure or
    a refusal leaves the live index as it was."""
    root = settings.index_path
    report = RebuildReport(started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    report.live_before = current_version(root)
    try:
        _run(report, settings, dialogue, embedder, force, margin, log, retune)
    except Exception as exc:  # every failure is reported, then re-raised for the exit code
        report.status, report.error = RebuildStatus.FAILED, f"{type(exc).__name__}: {exc}"
        log(f"failed: {report.error}")
        raise
    finally:
        report.live_after = current_version(root)
        _write_report(root, report)
    return report


def _run(
    report: RebuildReport,
    settings: BuildSettings,
    dialogue: DialogueSettings,
    embedder: Embedder,
    force: bool,
    margin: float,
    log: Callable[[str], None],
    retune: bool = False,
) -> None:
    def step(name: str, action: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        log(f"{name}…")
        result = action()
        seconds = round(time.perf_counter() - started, 2)
        report.steps.append({"step": name, "seconds": seconds})
        log(f"{name} done in {seconds}s")
        return result

    built = step("build", lambda: build_index(settings, embedder, publish=False, retune=retune))
    report.candidate = built.version
    report.metrics = step(
        "evaluate", lambda: evaluate_version(built.folder, settings.kb_path, dialogue, embedder)
    )
    write_manifest(built.folder, dataclasses.replace(built.manifest, metrics=report.metrics))
    if report.live_before is not None:
        report.live_metrics = step("evaluate live", lambda: _live_metrics(settings, dialogue, embedder))
    report.regressions = regressions(report.metrics, report.live_metrics, margin)
    writer = IndexWriter(settings.index_path, keep=settings.keep_versions, log=log)
    if report.regressions and not force:
        report.status = RebuildStatus.REFUSED
        for reason in report.regressions:
            log(f"quality gate: {reason}")
        log(f"refused {built.version}; still serving {report.live_before}")
        return
    if report.regressions:
        report.forced = True
        log(f"quality gate overridden with --force despite {len(report.regressions)} regression(s)")
    step("publish", lambda: writer.publish(built.version))
    writer.prune()
    report.status = RebuildStatus.PUBLISHED


def _live_metrics(settings: BuildSettings, dialogue: DialogueSettings, embedder: Embedder) -> dict[str, Any]:
    """The live version's metrics from its manifest, measured now if they are missing or were
    measured on another evaluation set."""
    folder = resolve(settings.index_path)
    stored = Manifest.from_file(folder / "manifest.json").metrics
    if (
        stored
        and stored.get("eval_set") == eval_fingerprint(settings.kb_path / "eval")
        and "answers" in stored
    ):
        return stored
    # None recorded, measured before answers were recorded, or the eval set changed.
    return evaluate_version(folder, settings.kb_path, dialogue, embedder)


def eval_fingerprint(folder: Path) -> str:
    """A hash of the evaluation set, so metrics are only compared when measured on the same one."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.y*ml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _write_report(root: Path, report: RebuildReport) -> Path:
    folder = root / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = report.started_at.replace(":", "").replace("-", "")
    path = folder / f"rebuild-{stamp}-{report.candidate or 'none'}.json"
    path.write_text(report.to_json(), encoding="utf-8")
    report_path = folder / "latest.json"
    report_path.write_text(report.to_json(), encoding="utf-8")
    return path


def changed_answers(new: dict[str, Any], live: dict[str, Any]) -> list[dict[str, Any]]:
    """The evaluation questions the new version answers differently from the live one."""
    before = {(lang, text): answered for lang, text, answered in live.get("answers", [])}
    return [
        {"lang": lang, "question": text, "before": before[(lang, text)], "after": answered}
        for lang, text, answered in new.get("answers", [])
        if (lang, text) in before and before[(lang, text)] != answered
    ]

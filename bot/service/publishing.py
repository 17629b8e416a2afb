""" "Publish now": the rebuild with its quality gate, started by staff, followed by any replica.

The job is recorded in the store (running, then published, refused or failed, with its report),
the rebuild runs in this process under the index's rebuild lock (so never two at once, nightly job
included), and its report says what changed: the gate's per-language figures against the live
index and which evaluation questions now get another answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.config import Settings
from bot.index.rebuild import RebuildReport, changed_answers
from bot.retrieval.embedder import Embedder
from bot.service.reindex import start_rebuild
from bot.storage.store import Store

MAX_LOG = 60  # lines of the rebuild's log kept with a job


class PublishBusy(Exception):
    """A rebuild is already running (a publish, the nightly job, or one from the admin API)."""


def start_publish(
    settings: Settings, store: Store, embedder: Embedder, then: Callable[[], None], who: str
) -> str:
    """Start a publish; its job id. PublishBusy if a rebuild holds the lock."""
    job = store.start_publish(who)
    lines: list[str] = []

    def progress(line: str) -> None:
        lines.append(line)
        store.progress_publish(job, {"log": lines[-MAX_LOG:]})

    def finished(report: RebuildReport | None, error: str | None) -> None:
        summary = report_of(report, error, lines)
        store.finish_publish(job, summary["status"], summary)

    if not start_rebuild(settings.build, settings.dialogue, embedder, then, progress, finished):
        store.finish_publish(job, "failed", {"error": "a rebuild is already running", "log": []})
        raise PublishBusy("a rebuild is already running: try again when it is done")
    return job


def report_of(report: RebuildReport | None, error: str | None, lines: list[str]) -> dict[str, Any]:
    """What staff read about a publish: its outcome, why a refusal, the figures, what changed."""
    if report is None:
        return {"status": "failed", "error": error or "the rebuild failed", "log": lines[-MAX_LOG:]}
    new, live = report.metrics, report.live_metrics
    languages = {
        lang: {"new": figures, "live": live.get("languages", {}).get(lang)}
        for lang, figures in new.get("languages", {}).items()
    }
    return {
        "status": str(report.status),
        "candidate": report.candidate,
        "live_before": report.live_before,
        "live_after": report.live_after,
        "regressions": report.regressions,
        "languages": languages,
        "changed": changed_answers(new, live),
        "own_question_failures": new.get("own_question_failures", []),
        "error": report.error or error,
        "log": lines[-MAX_LOG:],
    }

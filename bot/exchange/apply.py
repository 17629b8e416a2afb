"""Carry out an import: write its articles (each file replaced atomically), validate the whole
knowledge base, and put back any file the validation refuses; report what was done."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.exchange.entries import Finding, finding
from bot.exchange.plan import Options, Plan, plan_import
from bot.exchange.sources import read_source
from bot.kb.articles import LANGUAGES, N_, load_kb
from bot.kb.writer import render_article, write_file

Progress = Callable[[int, int], None]


@dataclass
class ImportReport:
    """What an import did (or, dry, would do), and every finding with its file and row."""

    source: str
    format: str
    origin: str
    dry_run: bool
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: int = 0
    archived: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["findings"] = [{"where": f.where, "message": f.message} for f in self.findings]
        return data


def import_faq(
    path: Path,
    kb_root: Path,
    fmt: str = "auto",
    options: Options | None = None,
    dry_run: bool = False,
    origin: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import `path` into the knowledge base at `kb_root`. ValueError for a source that cannot be
    read at all; a bad entry is a finding, and the rest is imported."""
    options = options or Options()
    source, kind = read_source(path, fmt, origin)
    existing = load_kb(kb_root).articles if kb_root.is_dir() else []
    plan = plan_import(source, existing, kb_root, options, _detector())
    report = ImportReport(str(path), kind, source.origin, dry_run, skipped=plan.skipped)
    report.findings = plan.findings
    report.gone = [a.id for a in plan.gone]
    written = [] if dry_run else write_plan(plan, kb_root, progress)
    for change in plan.changes:
        failed = not dry_run and change.article.path not in written and change.action != "unchanged"
        if failed:
            report.skipped += 1
        elif change.action == "create":
            report.created.append(change.article.id)
        elif change.action == "update":
            report.updated.append(change.article.id)
        elif change.action == "archive":
            report.archived.append(change.article.id)
        else:
            report.unchanged += 1
    return report


def write_plan(plan: Plan, kb_root: Path, progress: Progress | None = None) -> list[Path]:
    """Write the plan's new and changed articles; a file the knowledge base's validation then
    refuses is put back as it was (or removed, if new) with a finding. Returns the files kept."""
    changes = [c for c in plan.changes if c.action != "unchanged"]
    previous: dict[Path, str | None] = {}
    for done, change in enumerate(changes, start=1):
        path = change.article.path
        previous[path] = path.read_text(encoding="utf-8") if path.exists() else None
        write_file(path, render_article(change.article))
        if progress is not None:
            progress(done, len(changes))
    by_path = {c.article.path: c for c in changes}
    for _ in range(3):  # a refused file can be what made another one fail: check again
        refused = {p.path: p for p in load_kb(kb_root).errors if p.path in previous}
        if not refused:
            break
        for path, problem in refused.items():
            _restore(path, previous.pop(path))
            where = by_path[path].where
            plan.findings.append(
                finding(
                    where,
                    N_("not imported: {field}: {message}"),
                    field=problem.field,
                    message=problem.message,
                )
            )
    return list(previous)


def _restore(path: Path, text: str | None) -> None:
    if text is None:
        path.unlink(missing_ok=True)
    else:
        write_file(path, text)


def _detector() -> Callable[[str], str | None]:
    """The language of an entry's text, among the served ones (lingua, as the bot detects)."""
    from bot.retrieval.language import LanguageDetector

    detector = LanguageDetector(list(LANGUAGES), LANGUAGES[0])

    def detect(text: str) -> str | None:
        probs = detector.probabilities(text[:2000])
        return max(probs, key=probs.__getitem__) if probs else None

    return detect

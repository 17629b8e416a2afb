#!/usr/bin/env python3
"""An imported FAQ, end to end: a benchmark `kb.jsonl` imported as it is and as the CSV an Italian
Excel would save of the same entries (`;`, Windows-1252 where it can encode them), each then
validated, built as `faqbot build` builds it and asked every published article's first question
through the live Bot. Reports the import's counts and time, and how many articles answer (or offer
first, in a "did you mean") their own question. Writes into docs/benchmarks.md.

    python scripts/bench_import.py KB_JSONL ...
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchdoc import write_block  # noqa: E402

from bot.config import Settings  # noqa: E402
from bot.dialogue.bot import Bot  # noqa: E402
from bot.dialogue.policy import Thresholds  # noqa: E402
from bot.exchange.apply import import_faq  # noqa: E402
from bot.index.build import build_index  # noqa: E402
from bot.kb.articles import load_kb  # noqa: E402
from bot.retrieval.embedder import load_embedder  # noqa: E402
from bot.retrieval.language import LanguageDetector  # noqa: E402
from bot.retrieval.search import Retriever  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench_import:start -->", "<!-- bench_import:end -->"


def excel_csv(kb_jsonl: Path, out: Path) -> str:
    """The entries as Excel saves a sheet of them in Italy; the encoding used."""
    rows = [json.loads(line) for line in kb_jsonl.read_text(encoding="utf-8").splitlines() if line.strip()]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["ID", "Lingua", "Domanda", "Domande alternative", "Risposta"])
    for r in rows:
        others = [q for q in r["questions"] if q != r["title"]]
        writer.writerow([r["id"], r["lang"], r["title"], "\n".join(others), r.get("answer", "")])
    text = buffer.getvalue()
    try:
        out.write_bytes(text.encode("cp1252"))
        return "cp1252"
    except UnicodeEncodeError:
        out.write_bytes(text.encode("utf-8-sig"))
        return "utf-8-sig"


def run(source: Path, label: str, embedder) -> dict:
    with tempfile.TemporaryDirectory(prefix="faqbot-import-") as tmp:
        home = Path(tmp)
        settings = Settings(home=home, kb_dir=home / "kb", index_dir=home / "index")
        started = time.perf_counter()
        report = import_faq(source, settings.kb_path)
        seconds = time.perf_counter() - started
        kb = load_kb(settings.kb_path)
        build_index(settings.build, embedder)
        retriever = Retriever.from_root(settings.index_path, embedder, LanguageDetector()).load()
        bot = Bot(retriever, Thresholds.from_settings(settings.dialogue))
        answered = offered = 0
        published = kb.published
        for article in published:
            reply, _ = bot.reply(article.questions[0])
            answered += reply.article is not None and reply.article.article_id == article.id
            offered += bool(reply.suggestions) and reply.suggestions[0].article_id == article.id
        return {
            "source": label,
            "entries": len(report.created) + report.skipped,
            "created": len(report.created),
            "drafts": len(kb.articles) - len(published),
            "skipped": report.skipped,
            "findings": len(report.findings),
            "errors": len(kb.errors),
            "import_s": seconds,
            "answered": answered / max(1, len(published)),
            "offered_first": offered / max(1, len(published)),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "sources", nargs="*", type=Path, default=[ROOT.parent / "shared" / "data" / "itafaq" / "kb.jsonl"]
    )
    args = parser.parse_args()
    embedder = load_embedder(Settings().model)
    rows = []
    for kb_jsonl in args.sources:
        name = kb_jsonl.parent.name
        rows.append(run(kb_jsonl, f"{name} kb.jsonl", embedder))
        with tempfile.TemporaryDirectory() as tmp:
            sheet = Path(tmp) / f"{name}.csv"
            encoding = excel_csv(kb_jsonl, sheet)
            rows.append(run(sheet, f"{name} as an Excel CSV ({encoding}, `;`)", embedder))
    columns = ("source", "entries", "created", "drafts", "skipped", "findings", "KB errors", "import")
    head = "| " + " | ".join((*columns, "answered", "offered first")) + " |"
    lines = [head, "|---" * 10 + "|"]
    for r in rows:
        lines.append(
            f"| {r['source']} | {r['entries']} | {r['created']} | {r['drafts']} | {r['skipped']} "
            f"| {r['findings']} | {r['errors']} | {r['import_s']:.1f} s | {r['answered']:.3f} "
            f"| {r['offered_first']:.3f} |"
        )
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    command = "python scripts/bench_import.py " + " ".join(str(s) for s in args.sources)
    block = "\n".join(
        [
            START,
            f"Measured {dt.date.today().isoformat()} on {machine}. Command: `{command}`.",
            "",
            *lines,
            "",
            "`answered`: the published articles whose first question, asked through the live Bot with the",
            "thresholds a build serves with, is answered with that article; `offered first`: offered first",
            'in a "did you mean" instead.',
            END,
        ]
    )
    write_block(DOC, START, END, "An imported FAQ, end to end", block)
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""`faqbot export`: every article, with its questions, tags, language, status and answer, as CSV,
XLSX or JSON that `faqbot import` reads back into the same articles."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from bot.kb.articles import Article, load_valid_kb

EXPORT_FORMATS = ("csv", "xlsx", "json")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = (
    "id", "lang", "title", "questions", "answer", "tags", "status", "handoff",
    "translation_of", "follow_ups", "updated", "source",
)  # fmt: skip


def export_kb(kb_root: Path, fmt: str, out: Path) -> int:
    """Write the knowledge base's articles to `out`; the number written. A knowledge base with
    errors is refused (InvalidKnowledgeBase), as a build refuses it."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    articles = sorted(
        load_valid_kb(kb_root).articles, key=lambda a: (a.translation_of is not None, a.lang, a.id)
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        document = {"articles": [_record(a) for a in articles]}
        out.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    elif fmt == "csv":
        out.write_bytes(_csv(articles).encode("utf-8-sig"))  # the BOM tells Excel it is UTF-8
    else:
        _xlsx(articles, out)
    return len(articles)


def _record(article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "lang": article.lang,
        "title": article.title,
        "questions": list(article.questions),
        "answer": article.body,
        "tags": list(article.tags),
        "status": article.status,
        "handoff": article.handoff,
        "translation_of": article.translation_of,
        "follow_ups": list(article.follow_ups),
        "updated": article.updated.isoformat() if article.updated else None,
        "source": article.source,
    }


def _row(article: Article) -> list[str]:
    """One spreadsheet row: questions one per line, tags and follow-ups comma-separated."""
    record = _record(article)
    record["questions"] = "\n".join(article.questions)
    record["tags"] = ", ".join(article.tags)
    record["follow_ups"] = ", ".join(article.follow_ups)
    record["handoff"] = "true" if article.handoff else "false"
    return ["" if record[c] is None else str(record[c]) for c in COLUMNS]


def _csv(articles: list[Article]) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";")  # what Excel opens in an Italian locale
    writer.writerow(COLUMNS)
    writer.writerows([_inert(cell) for cell in _row(a)] for a in articles)
    return buffer.getvalue()


def _inert(cell: str) -> str:
    """A cell Excel will not run as a formula (a question typed by a customer can start with "="):
    quoted with an apostrophe, which `faqbot import` drops again."""
    return f"'{cell}" if cell[:1] in FORMULA_STARTS else cell


def _xlsx(articles: list[Article], out: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "faq"
    sheet.append(list(COLUMNS))
    for article in articles:
        sheet.append(_row(article))
        for cell in sheet[sheet.max_row]:
            cell.data_type = "s"  # text, never a formula, whatever it starts with
    workbook.save(out)

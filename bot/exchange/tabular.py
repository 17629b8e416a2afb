"""Spreadsheets: CSV/TSV (any of `;` `,` tab; UTF-8 with or without BOM, or Windows-1252) and XLSX."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from bot.exchange.entries import Finding, Source, finding
from bot.exchange.fields import LIST_SPLIT, column_roles, entry_from
from bot.kb.articles import N_

DELIMITERS = ";,\t"
_QUOTED_FORMULA = re.compile(r"^'(?=[=+\-@\t\r])")  # how an export keeps Excel from running a cell


def decode(data: bytes) -> str:
    """UTF-8 (a byte-order mark dropped) or, failing that, Windows-1252: what Excel writes on an
    Italian Windows when asked for "CSV"."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def csv_rows(path: Path) -> list[list[str]]:
    """The rows of a CSV or TSV file, multi-line cells kept whole."""
    text = decode(path.read_bytes())
    if path.suffix.lower() == ".tsv":
        delimiter = "\t"
    else:
        try:
            delimiter = csv.Sniffer().sniff(text[:20000], delimiters=DELIMITERS).delimiter
        except csv.Error:  # one column, or too irregular to tell: the commonest candidate
            first = text.splitlines()[0] if text else ""
            delimiter = max(DELIMITERS, key=first.count)
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return [[_QUOTED_FORMULA.sub("", cell) for cell in row] for row in rows]


def xlsx_rows(path: Path) -> list[list[Any]]:
    """The rows of the first sheet that has any, cell values as Excel shows them."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        for sheet in workbook.worksheets:
            rows = [list(row) for row in sheet.iter_rows(values_only=True)]
            if any(any(cell not in (None, "") for cell in row) for row in rows):
                return rows
        return []
    finally:
        workbook.close()


def read_table(path: Path, rows: list[list[Any]], origin: str) -> Source:
    """Entries from a table: a header row naming the columns (Italian or English), or, with no
    header, two columns holding the question and the answer."""
    source = Source(origin)
    rows = [row for row in rows if any(_cell(c) for c in row)]
    if not rows:
        source.findings.append(_finding(path, "", "no rows"))
        return source
    header = [_cell(c) for c in rows[0]]
    roles = column_roles(header)
    first = 2  # spreadsheet row numbers, counted from 1 with the header
    if not {"title", "question"} & set(roles.values()) or "answer" not in roles.values():
        widths = {sum(1 for c in row if _cell(c)) for row in rows}
        if max(widths) > 2:
            names = ", ".join(repr(h) for h in header if h) or "none"
            template = N_(
                "no header naming a question and an answer column "
                "(question/domanda, answer/risposta); found {names}"
            )
            source.findings.append(_finding(path, "1", template, names=names))
            return source
        roles, first = {0: "question", 1: "answer"}, 1
    for number, row in enumerate(rows[first - 1 :], start=first):
        values: dict[str, Any] = {}
        for i, role in roles.items():
            cell = _cell(row[i]) if i < len(row) else ""
            if role == "questions":
                values.setdefault("questions", []).extend(q for q in LIST_SPLIT.split(cell) if q)
            elif cell or role == "source":  # an empty source says: none
                values[role] = cell
        entry = entry_from(f"{path.name}:{number}", values, source.findings)
        if entry is not None:
            source.entries.append(entry)
        else:
            source.skipped += 1
    return source


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _finding(path: Path, row: str, template: str, **params: str) -> Finding:
    return finding(f"{path.name}:{row}" if row else path.name, template, **params)

"""Read any supported source into entries: pick the reader by `--format` or by what the file is."""

from __future__ import annotations

from pathlib import Path

from bot.exchange.documents import HELP_CENTERS, json_kind, load_json, read_json
from bot.exchange.entries import Source
from bot.exchange.pages import read_folder
from bot.exchange.tabular import csv_rows, read_table, xlsx_rows

FORMATS = ("auto", "csv", "xlsx", "json", "jsonl", *HELP_CENTERS, "folder")
_BY_SUFFIX = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}


def read_source(path: Path, fmt: str = "auto", origin: str | None = None) -> tuple[Source, str]:
    """The entries of `path` and the format they were read as. ValueError, naming the file, for a
    source that cannot be read at all (a missing file, an unknown format, broken JSON); a bad row
    only adds a finding."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if not path.exists():
        raise ValueError(f"{path}: no such file or folder")
    name = origin or _origin(path)
    if path.is_dir():
        if fmt not in ("auto", "folder"):
            raise ValueError(f"{path}: a folder can only be read as --format folder")
        return read_folder(path, name), "folder"
    if fmt == "folder":
        raise ValueError(f"{path}: not a folder")
    kind = fmt if fmt != "auto" else _BY_SUFFIX.get(path.suffix.lower()) or _sniff(path)
    if kind == "csv":
        return read_table(path, csv_rows(path), name), kind
    if kind == "xlsx":
        try:
            rows = xlsx_rows(path)
        except Exception as exc:  # openpyxl raises zipfile, KeyError and its own errors alike
            raise ValueError(f"{path}: not an XLSX workbook ({type(exc).__name__}: {exc})") from exc
        return read_table(path, rows, name), kind
    document = load_json(path)
    found = json_kind(document)
    if kind in HELP_CENTERS and found != kind:
        raise ValueError(f"{path}: does not look like a {kind} export (it reads as {found})")
    kind = kind if kind in HELP_CENTERS else found
    origin_name = origin or (kind if kind in HELP_CENTERS else name)
    return read_json(path, document, kind, origin_name), kind


def _sniff(path: Path) -> str:
    """JSON for a file that starts like JSON, XLSX for a zip, else CSV."""
    head = path.read_bytes()[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith((b"{", b"[")):
        return "jsonl" if path.suffix.lower() == ".jsonl" else "json"
    return "csv"


def _origin(path: Path) -> str:
    """A source's name: its file or folder name without the suffix (`faq.csv` -> `faq`)."""
    return path.stem if path.is_file() else path.name

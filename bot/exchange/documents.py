"""JSON sources: a list of entries (JSON or JSONL, the shared benchmark `kb.jsonl`, a faqbot export)
and help-center exports: Zendesk Guide, Freshdesk solutions, Intercom articles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.exchange.entries import Entry, Finding, Source, finding
from bot.exchange.fields import column_roles, entry_from
from bot.exchange.html import html_text, html_to_markdown
from bot.exchange.tabular import decode
from bot.kb.articles import N_

HELP_CENTERS = ("zendesk", "freshdesk", "intercom")
_LISTS = ("entries", "faqs", "faq", "items", "articles", "data", "records")


def load_json(path: Path) -> Any:
    """A JSON document, or a JSONL file as the list of its lines' values; errors name the line."""
    text = decode(path.read_bytes())
    if path.suffix.lower() == ".jsonl":
        values = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    values.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path.name}:{number}: not JSON ({exc.msg})") from exc
        return values
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path.name}:{exc.lineno}: not JSON ({exc.msg})") from exc


def json_kind(document: Any) -> str:
    """Which export a JSON document is: one of HELP_CENTERS, or "json" (a plain list of entries)."""
    items = _items(document)
    sample = [item for item in items[:20] if isinstance(item, dict)]
    zendesk_like = any("body" in i and ("locale" in i or "label_names" in i or "draft" in i) for i in sample)
    if isinstance(document, dict) and isinstance(document.get("articles"), list) and zendesk_like:
        return "zendesk"
    if any(i.get("type") == "article" or "translated_content" in i for i in sample):
        return "intercom"
    if any("description" in i and isinstance(i.get("status"), int) for i in sample):
        return "freshdesk"
    return "json"


def read_json(path: Path, document: Any, kind: str, origin: str) -> Source:
    """Entries of a JSON document of the given kind (see `json_kind`)."""
    source = Source(origin)
    items = _items(document)
    if not items and not isinstance(document, list):
        source.findings.append(
            finding(
                path.name,
                N_("no list of entries found (expected a list, or one under {keys})"),
                keys=", ".join(repr(k) for k in _LISTS),
            )
        )
    read = {"zendesk": _zendesk, "freshdesk": _freshdesk, "intercom": _intercom}.get(kind, _plain)
    for i, item in enumerate(items):
        where = f"{path.name}:{i + 1}" if path.suffix.lower() == ".jsonl" else f"{path.name} [{i}]"
        if not isinstance(item, dict):
            source.findings.append(
                finding(where, N_("expected an object, got {kind}: skipped"), kind=type(item).__name__)
            )
            source.skipped += 1
            continue
        entries = read(where, item, source.findings)
        source.entries += entries
        source.skipped += not entries
    return source


def _items(document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        for key in _LISTS:
            if isinstance(document.get(key), list):
                return list(document[key])
    return []


def _plain(where: str, item: dict[str, Any], findings: list[Finding]) -> list[Entry]:
    keys = list(item)
    values: dict[str, Any] = {"questions": []}
    for i, role in column_roles(keys).items():
        value = item[keys[i]]
        if role == "questions":
            values["questions"] += [
                q for q in (value if isinstance(value, list) else [value]) if q is not None
            ]
        else:
            values[role] = value
    entry = entry_from(where, values, findings)
    return [entry] if entry is not None else []


def _zendesk(where: str, item: dict[str, Any], findings: list[Finding]) -> list[Entry]:
    """A Help Center API article: title, body (HTML), locale, label_names, draft."""
    values = {
        "key": item.get("id"),
        "question": html_text(str(item.get("title") or item.get("name") or "")),
        "answer": html_to_markdown(str(item.get("body") or "")),
        "lang": item.get("locale"),
        "tags": item.get("label_names") or [],
        "status": "draft" if item.get("draft") else "published",
    }
    entry = entry_from(where, values, findings)
    return [entry] if entry is not None else []


def _freshdesk(where: str, item: dict[str, Any], findings: list[Finding]) -> list[Entry]:
    """A solution article: title, description (HTML), status 1 draft / 2 published, tags."""
    values = {
        "key": item.get("id"),
        "question": html_text(str(item.get("title") or "")),
        "answer": html_to_markdown(str(item.get("description") or "")) or item.get("description_text"),
        "lang": item.get("language") or item.get("lang"),
        "tags": item.get("tags") or [],
        "status": {1: "draft", 2: "published"}.get(item.get("status", 2), "draft"),
    }
    entry = entry_from(where, values, findings)
    return [entry] if entry is not None else []


def _intercom(where: str, item: dict[str, Any], findings: list[Finding]) -> list[Entry]:
    """An article with its `translated_content`: one entry per locale, linked as translations."""
    default = str(item.get("default_locale") or "")
    versions: list[tuple[str, dict[str, Any]]] = [(default, item)]
    translated = item.get("translated_content") or {}
    for locale, content in translated.items() if isinstance(translated, dict) else ():
        if isinstance(content, dict) and locale != default and content.get("title"):
            versions.append((locale, content))
    entries = []
    for locale, content in versions:
        values = {
            "key": item.get("id"),
            "question": html_text(str(content.get("title") or "")),
            "answer": html_to_markdown(str(content.get("body") or "")),
            "lang": locale or None,
            "status": "published" if content.get("state", "published") == "published" else "draft",
        }
        entry = entry_from(f"{where} {locale}".strip(), values, findings)
        if entry is not None:
            entries.append(entry)
    return entries

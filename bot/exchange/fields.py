"""Column names (and JSON keys) in Italian and English, and a row of named cells as an `Entry`."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from bot.exchange.entries import Entry, Finding, finding
from bot.kb.articles import N_

# Each field of an entry, by the names a spreadsheet or a JSON export gives it (compared without
# case, accents, spaces or punctuation). `questions` holds alternate phrasings; numbered columns
# (question2, domanda 3, …, as QnABot writes them) are alternates too.
ALIASES: dict[str, tuple[str, ...]] = {
    "question": ("question", "domanda", "faq", "quesito", "q", "question1", "domanda1"),
    "title": ("title", "titolo"),
    "answer": ("answer", "risposta", "answers", "risposte", "a", "body", "testo", "response", "content"),
    "questions": (
        "questions", "domande", "alternatequestions", "alternativequestions", "domandealternative",
        "altredomande", "varianti", "paraphrases", "alternates", "alternatives",
    ),
    "tags": ("tags", "tag", "etichette", "etichetta", "labels", "categoria", "category", "categorie"),
    "lang": ("lang", "lingua", "language", "locale", "idioma"),
    "key": ("id", "codice", "key", "chiave"),
    "status": ("status", "stato"),
    "translation_of": ("translationof", "traduzionedi"),
    "handoff": ("handoff", "operatore"),
    "follow_ups": ("followups", "correlati", "related"),
    "source": ("source", "fonte", "origine"),
    "updated": ("updated", "aggiornato", "lastupdated", "updatedat"),
}  # fmt: skip
_NUMBERED = re.compile(r"^(?:question|domanda|q)(\d+)$")
LIST_SPLIT = re.compile(r"\s*(?:\r?\n|\|)\s*")
_TAG_SPLIT = re.compile(r"\s*[,;|\n]\s*")
STATUS_WORDS = {
    "draft": "draft", "bozza": "draft", "unpublished": "draft", "1": "draft", "false": "draft",
    "published": "published", "pubblicato": "published", "pubblicata": "published",
    "live": "published", "2": "published", "true": "published",
}  # fmt: skip


def folded(name: str) -> str:
    """A column name compared loosely: "Domande alternative" and "domande_alternative" alike."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


def column_roles(header: list[str]) -> dict[int, str]:
    """Which entry field each column holds (columns of no known name are left out)."""
    by_name = {alias: role for role, aliases in ALIASES.items() for alias in aliases}
    roles: dict[int, str] = {}
    for i, cell in enumerate(header):
        name = folded(cell)
        role = by_name.get(name)
        numbered = _NUMBERED.match(name)
        if numbered and int(numbered.group(1)) > 1:
            role = "questions"
        if role is not None and (role == "questions" or role not in roles.values()):
            roles[i] = role
    return roles


def entry_from(where: str, values: Mapping[str, Any], findings: list[Finding]) -> Entry | None:
    """An entry from named values (one per field; `questions` a list or a `|`/new-line separated
    text), or None, with a finding, when it has no question to file it under.

    A `question` is asked as it is and titles the article unless a `title` is given too; a
    `title` alone (an export's) is only a title, unless nothing else can be asked. A `source`
    given, even empty, is kept as given (an export's articles come back as they were)."""
    question, title = _line(values.get("question")), _line(values.get("title"))
    questions = [q for q in _items(values.get("questions"), LIST_SPLIT) if q]
    if question:
        questions.insert(0, question)
    title = title or (questions[0] if questions else "")
    if not title:
        findings.append(finding(where, N_("no question: skipped")))
        return None
    if not questions:
        questions = [title]
    status = (
        STATUS_WORDS.get(_line(values.get("status")).lower()) if values.get("status") is not None else None
    )
    handoff = values.get("handoff")
    return Entry(
        where=where,
        title=title,
        answer=_text(values.get("answer")),
        questions=tuple(questions),
        key=_line(values.get("key")) or None,
        lang=_line(values.get("lang")) or None,
        tags=tuple(t for t in _items(values.get("tags"), _TAG_SPLIT) if t),
        status=status,
        translation_of=_line(values.get("translation_of")) or None,
        handoff=None if handoff in (None, "") else _line(handoff).lower() in ("true", "1", "yes", "si", "sì"),
        follow_ups=tuple(f for f in _items(values.get("follow_ups"), _TAG_SPLIT) if f),
        source=_line(values.get("source")) if "source" in values else None,
        updated=_date(values.get("updated")),
    )


def _text(value: Any) -> str:
    """A cell as text, its lines kept (an answer's paragraphs)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet's id column: 12, not 12.0
    return str(value).replace("\r\n", "\n").strip()


def _line(value: Any) -> str:
    """A cell as one line of text (a question, an id)."""
    return " ".join(_text(value).split())


def _items(value: Any, split: re.Pattern[str]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [" ".join(str(v).split()) for v in value if v is not None]
    return [" ".join(part.split()) for part in split.split(str(value).strip())]


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(_line(value)[:10]) if value else None
    except ValueError:
        return None

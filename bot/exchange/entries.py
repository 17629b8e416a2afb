"""What a source reader yields: FAQ entries, with where each came from, and what it could not read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Entry:
    """One FAQ entry as a source holds it, before it becomes an article.

    `where` names the file and row (or item) for every message about it; `key` is the source's
    own id for the entry (a help-center article id, an `id` column), if it has one."""

    where: str
    title: str
    answer: str  # Markdown
    questions: tuple[str, ...] = ()  # how customers ask it (the title among them when it is a question)
    key: str | None = None
    lang: str | None = None
    tags: tuple[str, ...] = ()
    status: str | None = None  # "draft" or "published" when the source says so
    translation_of: str | None = None  # the key of the entry this one translates
    handoff: bool | None = None
    follow_ups: tuple[str, ...] = ()
    source: str | None = None  # an article's own `source:` (a faqbot export's; "" for none)
    updated: dt.date | None = None


@dataclass(frozen=True)
class Finding:
    """Something about one entry (or row) that the report must tell: what, and what was done."""

    where: str
    message: str
    template: str = ""  # the message before its values were filled in (see bot.kb.articles.problem)
    params: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def finding(where: str, template: str, **params: str) -> Finding:
    """A finding whose message is `template` with `params` filled in (kept apart for translation)."""
    return Finding(where, template.format(**params), template, tuple(params.items()))


@dataclass
class Source:
    """Everything read from one source: its entries, the rows it could not use, and its name (the
    `source:` prefix of the articles it creates, which a re-import matches them by)."""

    origin: str
    entries: list[Entry] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    skipped: int = 0  # rows or items that gave no entry

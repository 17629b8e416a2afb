"""Load and validate knowledge-base articles: Markdown files with YAML front matter."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from bot.kb import front_matter
from bot.kb.front_matter import short
from bot.kb.near_duplicates import similar_pairs
from bot.text.markdown import markdown_to_text
from bot.text.normalise import normalise

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LANGUAGES = ("it", "en")
STATUSES = ("draft", "published", "archived")  # only published articles are served
REQUIRED = ("id", "lang", "title", "questions")
OPTIONAL = ("tags", "translation_of", "status", "handoff", "follow_ups", "updated", "source")


@dataclass(frozen=True)
class Article:
    """One knowledge-base article, as validated from its file."""

    id: str
    lang: str
    title: str
    questions: tuple[str, ...]
    body: str
    path: Path
    tags: tuple[str, ...] = ()
    translation_of: str | None = None
    status: str = "published"
    handoff: bool = False
    follow_ups: tuple[str, ...] = ()
    updated: dt.date | None = None
    source: str | None = None  # where `faqbot import` took it from ("zendesk:360001", "faq:12")

    @property
    def published(self) -> bool:
        return self.status == "published"

    @property
    def summary(self) -> str:
        """The first paragraph as plain text: what a channel without rich text shows."""
        return self._paragraphs[0] if self._paragraphs else ""

    def paragraphs(self) -> list[str]:
        """The answer body as plain-text paragraphs (Markdown removed)."""
        return list(self._paragraphs)

    @cached_property
    def _paragraphs(self) -> tuple[str, ...]:
        blocks = re.split(r"\n\s*\n", self.body.strip())
        texts = (markdown_to_text(block) for block in blocks)
        return tuple(text for text in texts if text)


@dataclass(frozen=True)
class Problem:
    """A validation finding that names the file and the field."""

    path: Path
    field: str
    message: str
    severity: str = "error"
    # The message before its values were filled in ("unknown article {target}"), and those values:
    # what a translated interface (the staff console) shows in its own language.
    template: str = ""
    params: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        where = f"{self.path}: {self.field}" if self.field else str(self.path)
        return f"{self.severity}: {where}: {self.message}"


def N_(template: str) -> str:  # noqa: N802 - gettext's name for "a message, translated later"
    """Marks a problem's message for the console's catalogs (pybabel extracts `N_`)."""
    return template


def problem(path: Path, field: str, template: str, severity: str = "error", **params: str) -> Problem:
    """A problem whose message is `template` with `params` filled in (kept apart for translation)."""
    return Problem(path, field, template.format(**params), severity, template, tuple(params.items()))


@dataclass
class KnowledgeBase:
    """All articles found under a folder, with the problems found while loading them."""

    root: Path
    articles: list[Article] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def published(self) -> list[Article]:
        return [a for a in self.articles if a.published]

    def by_id(self) -> dict[str, Article]:
        return {a.id: a for a in self.articles}


class InvalidKnowledgeBase(Exception):
    """Raised when a knowledge base has errors; the message lists every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(str(p) for p in problems)
        super().__init__(f"{len(problems)} error(s) in the knowledge base:\n{lines}")


def article_files(root: Path) -> list[Path]:
    """Article files under `root`: every `*.md` except README files, in a stable order."""
    return sorted(p for p in root.rglob("*.md") if p.name.lower() != "readme.md")


def load_kb(root: Path, cache: Path | None = None) -> KnowledgeBase:
    """Load and validate every article under `root`; problems are collected, never raised. With
    `cache`, the near-duplicate check only compares the questions that are new since last time."""
    kb = KnowledgeBase(root=root)
    if not root.is_dir():
        kb.problems.append(problem(root, "", N_("knowledge-base folder not found")))
        return kb
    for path in article_files(root):
        article = parse_article(path, kb.problems)
        if article is not None:
            kb.articles.append(article)
    kb.problems.extend(check_collection(kb.articles, cache))
    return kb


def load_valid_kb(root: Path, cache: Path | None = None) -> KnowledgeBase:
    """Load a knowledge base and raise InvalidKnowledgeBase if it has any error."""
    kb = load_kb(root, cache)
    if kb.errors:
        raise InvalidKnowledgeBase(kb.errors)
    return kb


def parse_article(path: Path, problems: list[Problem]) -> Article | None:
    """Parse one file; append its problems and return None when it cannot be used."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        problems.append(problem(path, "", N_("not UTF-8 text: {reason}"), reason=exc.reason))
        return None
    return parse_text(path, text, problems)


def parse_text(path: Path, text: str, problems: list[Problem]) -> Article | None:
    """Parse `text` as the file `path` (which need not exist yet), as `parse_article` does."""
    try:
        post = front_matter.loads(text)
    except (yaml.YAMLError, ValueError) as exc:
        problems.append(problem(path, "front matter", N_("broken YAML: {error}"), error=_first_line(exc)))
        return None
    meta, before = dict(post.metadata), len(problems)
    if not meta:
        problems.append(problem(path, "front matter", N_("missing (start the file with --- YAML ---)")))
        return None
    for name in sorted(set(meta) - set(REQUIRED) - set(OPTIONAL), key=str):
        problems.append(problem(path, short(str(name), 60).strip("'\""), N_("unknown field")))
    for name in REQUIRED:
        if meta.get(name) in (None, "", []):
            problems.append(problem(path, name, N_("required field is missing or empty")))
    checker = _FieldChecker(path, meta, problems)
    values = checker.check_all()
    if not post.content.strip():
        problems.append(problem(path, "body", N_("the answer body is empty")))
    if len(problems) > before:
        return None
    return Article(body=post.content.strip(), path=path, **values)


class _FieldChecker:
    """Type and format checks of one article's front matter."""

    def __init__(self, path: Path, meta: dict[str, Any], problems: list[Problem]) -> None:
        self.path, self.meta, self.problems = path, meta, problems

    def fail(self, name: str, template: str, **params: str) -> None:
        self.problems.append(problem(self.path, name, template, **params))

    def check_all(self) -> dict[str, Any]:
        meta = self.meta
        values: dict[str, Any] = {
            "id": self.identifier("id", meta.get("id")),
            "lang": self.choice("lang", meta.get("lang"), LANGUAGES),
            "title": self.text("title", meta.get("title")),
            "questions": self.text_list("questions", meta.get("questions"), require_one=True),
            "tags": self.text_list("tags", meta.get("tags", [])),
            "status": self.choice("status", meta.get("status", "published"), STATUSES),
            "handoff": self.boolean("handoff", meta.get("handoff", False)),
            "updated": self.date("updated", meta.get("updated")),
            "source": self.text("source", meta.get("source")) or None,
        }
        translation = meta.get("translation_of")
        values["translation_of"] = (
            None if translation is None else self.identifier("translation_of", translation)
        )
        follow_ups = self.text_list("follow_ups", meta.get("follow_ups", []))
        values["follow_ups"] = tuple(
            self.identifier(f"follow_ups[{i}]", v) or "" for i, v in enumerate(follow_ups)
        )
        self.matches_path(values)
        return values

    def text(self, name: str, value: Any) -> str:
        if value is not None and not isinstance(value, str):
            self.fail(
                name, N_("expected text, got {kind} {value}"), kind=type(value).__name__, value=short(value)
            )
            return ""
        return (value or "").strip()

    def identifier(self, name: str, value: Any) -> str:
        text = self.text(name, value)
        if text and not ID_PATTERN.match(text):
            self.fail(
                name,
                N_("{value} is not a valid id (lowercase letters, digits and dashes)"),
                value=short(text),
            )
        return text

    def choice(self, name: str, value: Any, allowed: Iterable[str]) -> str:
        text = self.text(name, value)
        if text and text not in allowed:
            self.fail(
                name, N_("{value} is not one of {allowed}"), value=short(text), allowed=", ".join(allowed)
            )
        return text

    def boolean(self, name: str, value: Any) -> bool:
        if not isinstance(value, bool):
            self.fail(name, N_("expected true or false, got {value}"), value=short(value))
            return False
        return value

    def date(self, name: str, value: Any) -> dt.date | None:
        if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
            return value
        self.fail(name, N_("expected a date like 2026-11-20, got {value}"), value=short(value))
        return None

    def text_list(self, name: str, value: Any, require_one: bool = False) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.fail(
                name, N_("expected a list, got {kind} {value}"), kind=type(value).__name__, value=short(value)
            )
            return ()
        items = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.fail(f"{name}[{i}]", N_("expected non-empty text, got {value}"), value=short(item))
            else:
                items.append(item.strip())
        if require_one and not items and value:
            self.fail(name, N_("needs at least one question"))
        return tuple(items)

    def matches_path(self, values: dict[str, Any]) -> None:
        if values["id"] and values["id"] != self.path.stem:
            self.fail(
                "id",
                N_("{value} does not match the file name {file}"),
                value=short(values["id"]),
                file=repr(self.path.name),
            )
        folder = self.path.parent.name
        if values["lang"] and folder in LANGUAGES and folder != values["lang"]:
            self.fail(
                "lang",
                N_("{value} but the file is in the {folder} folder"),
                value=short(values["lang"]),
                folder=repr(folder),
            )


def check_collection(articles: list[Article], cache: Path | None = None) -> list[Problem]:
    """Cross-article checks: duplicate ids, shared questions, dangling links, near-duplicates
    (remembered in `cache` between runs, see bot.kb.near_duplicates)."""
    problems: list[Problem] = []
    first_by_id: dict[str, Article] = {}
    for article in articles:
        if article.id in first_by_id:
            other = first_by_id[article.id].path
            problems.append(
                problem(
                    article.path,
                    "id",
                    N_("duplicate id {id} (also in {other})"),
                    id=repr(article.id),
                    other=str(other),
                )
            )
        else:
            first_by_id[article.id] = article
    problems.extend(_check_links(articles, first_by_id))
    problems.extend(_check_questions(articles, cache))
    return problems


def _check_links(articles: list[Article], by_id: dict[str, Article]) -> list[Problem]:
    problems = []
    for article in articles:
        if article.translation_of and article.translation_of not in by_id:
            problems.append(
                problem(
                    article.path,
                    "translation_of",
                    N_("unknown article {target}"),
                    target=repr(article.translation_of),
                )
            )
        for i, target in enumerate(article.follow_ups):
            if target not in by_id:
                problems.append(
                    problem(
                        article.path, f"follow_ups[{i}]", N_("unknown article {target}"), target=repr(target)
                    )
                )
            elif target == article.id:
                problems.append(
                    problem(article.path, f"follow_ups[{i}]", N_("an article cannot follow itself"))
                )
    return problems


def _check_questions(articles: list[Article], cache: Path | None) -> list[Problem]:
    problems: list[Problem] = []
    owner: dict[str, tuple[Article, int]] = {}
    for article in articles:
        for i, question in enumerate(article.questions):
            key = normalise(question)
            if key not in owner:
                owner[key] = (article, i)
                continue
            other, j = owner[key]
            where = f"{other.path} questions[{j}]"
            if other.id == article.id:
                problems.append(
                    problem(
                        article.path, f"questions[{i}]", N_("repeats questions[{j}]"), "warning", j=str(j)
                    )
                )
            elif not _same_answer(article, other):
                # a draft is not served: the clash must be settled before it is published
                severity = "error" if article.published and other.published else "warning"
                template = N_("{question} is identical to {where}")
                if severity == "warning":
                    template = N_(
                        "{question} is identical to {where} "
                        "(a draft: reword one of them before publishing it)"
                    )
                found = problem(
                    article.path, f"questions[{i}]", template, severity, question=short(question), where=where
                )
                problems.append(found)
    problems.extend(_near_duplicates(owner, cache))
    return problems


def _same_answer(a: Article, b: Article) -> bool:
    """Language versions of one article may share a question (borrowed terms like "fattura")."""
    return (
        a.translation_of == b.id
        or b.translation_of == a.id
        or (a.translation_of is not None and a.translation_of == b.translation_of)
    )


def _near_duplicates(owner: dict[str, tuple[Article, int]], cache: Path | None) -> list[Problem]:
    """Warn about very similar questions in two different articles of the same language."""
    by_lang: dict[str, list[str]] = {}
    for key, (article, _) in owner.items():
        by_lang.setdefault(article.lang, []).append(key)
    pairs = similar_pairs(by_lang, cache)
    problems = []
    for lang in by_lang:
        for a, b in pairs[lang]:
            (art_a, i), (art_b, j) = owner[a], owner[b]
            if art_a.id != art_b.id and not _same_answer(art_a, art_b):
                template = N_("very similar to {where} ({question}): customers may get the wrong article")
                where, question = f"{art_a.path} questions[{i}]", repr(art_a.questions[i])
                problems.append(
                    problem(
                        art_b.path, f"questions[{j}]", template, "warning", where=where, question=question
                    )
                )
    return problems


def _first_line(exc: Exception) -> str:
    message = " ".join(str(exc).split())
    return message if len(message) <= 300 else message[:299] + "…"

"""Articles edited whole (the console's editor, the admin API): read with their version, created,
changed only from the version they were read at, and deleted. Every change is checked with the
whole knowledge base before it stays (a bad one leaves the files as they were), under a lock file
in the knowledge-base folder, so that concurrent edits from several processes sharing the folder
are applied one at a time and never overwrite each other unseen.

A change touches only what changed: a new body keeps the front matter byte for byte, a new title
rewrites the title line; other fields are rewritten where they stand (lists in block style).
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.kb.articles import (
    ID_PATTERN,
    LANGUAGES,
    Article,
    InvalidKnowledgeBase,
    KnowledgeBase,
    Problem,
    article_files,
    check_collection,
    load_kb,
    parse_article,
    parse_text,
)
from bot.kb.writer import render_article, write_file

LOCK = ".faqbot-edit.lock"
_FRONT = re.compile(r"\A(---\r?\n)(.*?)(\r?\n---[ \t]*(?:\r?\n|\Z))", re.S)
_LISTS = ("questions", "tags", "follow_ups")


@dataclass(frozen=True)
class Fields:
    """What staff edit of an article (its id is its name: it never changes)."""

    lang: str
    title: str
    questions: tuple[str, ...]
    body: str
    tags: tuple[str, ...] = ()
    status: str = "published"
    follow_ups: tuple[str, ...] = ()
    translation_of: str | None = None
    handoff: bool = False

    @classmethod
    def of(cls, article: Article) -> Fields:
        return cls(
            article.lang, article.title, article.questions, article.body, article.tags, article.status,
            article.follow_ups, article.translation_of, article.handoff,
        )  # fmt: skip


class Conflict(Exception):
    """The article changed since the version the edit was made from."""


@dataclass(frozen=True)
class Saved:
    article: Article
    version: str
    warnings: list[Problem]  # near-duplicate questions and the like: saved, but worth a look


def version_of(text: str) -> str:
    """An article file's version: a digest of its text, the same on every replica."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@contextmanager
def edit_lock(kb_root: Path) -> Iterator[None]:
    """One edit at a time across processes (an advisory lock on a file in the folder)."""
    kb_root.mkdir(parents=True, exist_ok=True)
    with open(kb_root / LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def find(kb_root: Path, article_id: str) -> Path | None:
    """The file of the article `article_id`: `<lang>/<id>.md` where the format puts it, else any
    file of that name."""
    if not ID_PATTERN.match(article_id):
        return None
    for lang in LANGUAGES:
        if (kb_root / lang / f"{article_id}.md").is_file():
            return kb_root / lang / f"{article_id}.md"
    return (
        next((p for p in article_files(kb_root) if p.stem == article_id), None) if kb_root.is_dir() else None
    )


def read(kb_root: Path, article_id: str) -> tuple[Article, str] | None:
    """The article and its version, or None if there is none (or its file does not parse)."""
    path = find(kb_root, article_id)
    if path is None:
        return None
    text = path.read_text(encoding="utf-8")
    article = parse_article(path, [])
    return (article, version_of(text)) if article is not None else None


def create(kb_root: Path, article_id: str, fields: Fields) -> Saved:
    """Write a new article `kb_root/<lang>/<id>.md`. FileExistsError if the id is taken,
    InvalidKnowledgeBase (nothing written) if it would break the knowledge base."""
    if not ID_PATTERN.match(article_id):
        raise InvalidKnowledgeBase(
            [
                Problem(
                    kb_root, "id", f"{article_id!r} is not a valid id (lowercase letters, digits and dashes)"
                )
            ]
        )
    _check_lang(kb_root, fields.lang)
    with edit_lock(kb_root):
        if find(kb_root, article_id) is not None:
            raise FileExistsError(f"article {article_id!r} already exists")
        path = kb_root / fields.lang / f"{article_id}.md"
        text = render_article(_article(article_id, fields, path))
        return _commit(kb_root, {path: text}, {path: None}, path)


def update(kb_root: Path, article_id: str, fields: Fields, version: str) -> Saved:
    """Change the article from `version`, the one it was read at. KeyError if it is gone,
    Conflict if it changed since, InvalidKnowledgeBase (nothing changed) if the result is wrong."""
    _check_lang(kb_root, fields.lang)
    with edit_lock(kb_root):
        article = _at_version(kb_root, article_id, version)
        old = article.path.read_text(encoding="utf-8")
        path = article.path if fields.lang == article.lang else kb_root / fields.lang / article.path.name
        text = edited(old, Fields.of(article), fields, _article(article_id, fields, path))
        writes = {path: text}
        before: dict[Path, str | None] = {path: old if path == article.path else None}
        if path != article.path:  # a new language: the file moves to that language's folder
            writes[article.path] = ""
            before[article.path] = old
        return _commit(kb_root, writes, before, path)


def delete(kb_root: Path, article_id: str, version: str) -> None:
    """Remove the article, from the version it was read at; InvalidKnowledgeBase (nothing removed)
    if other articles link to it (follow-ups, translations)."""
    with edit_lock(kb_root):
        article = _at_version(kb_root, article_id, version)
        linked = [
            Problem(other.path, field, f"links to {article_id!r}")
            for other in load_kb(kb_root).articles
            for field, targets in (
                ("follow_ups", other.follow_ups),
                ("translation_of", (other.translation_of,)),
            )
            if article_id in targets and other.id != article_id
        ]
        if linked:
            raise InvalidKnowledgeBase(linked)
        article.path.unlink()


def _at_version(kb_root: Path, article_id: str, version: str) -> Article:
    """The article, if it is still at `version`: KeyError if it is gone, Conflict if it changed."""
    current = read(kb_root, article_id)
    if current is None:
        raise KeyError(f"no article {article_id!r}")
    article, now = current
    if now != version:
        raise Conflict(f"article {article_id!r} changed since version {version} (it is at {now})")
    return article


def check(kb_root: Path, article_id: str, fields: Fields) -> list[Problem]:
    """What saving `fields` as `article_id` would report (errors and warnings), without saving."""
    path = find(kb_root, article_id) or kb_root / fields.lang / f"{article_id}.md"
    text = render_article(_article(article_id, fields, path))
    problems: list[Problem] = []
    candidate = parse_text(path, text, problems)
    if candidate is None:
        return problems
    kb = load_kb(kb_root)
    others = [a for a in kb.articles if a.id != article_id]
    return [p for p in check_collection([*others, candidate]) if p.path == path]


def edited(old: str, before: Fields, after: Fields, article: Article) -> str:
    """`old` with the changes from `before` to `after`, touching only what changed; the whole
    article rendered anew if the file's front matter cannot be edited in place."""
    front = _FRONT.match(old)
    if front is None:
        return render_article(article)
    head, yaml_text, tail = front.groups()
    body = old[front.end() :]
    newline = "\r\n" if "\r\n" in yaml_text else "\n"
    for name in ("lang", "title", "status", "handoff", "translation_of", *_LISTS):
        value_before, value_after = getattr(before, name), getattr(after, name)
        if value_before != value_after:
            yaml_text = _set_field(yaml_text, name, value_after, newline)
    if before.body.strip() != after.body.strip():
        body = after.body.strip() + "\n"
    text = head + yaml_text + tail + body
    check = parse_text(article.path, text, [])
    return text if check is not None and Fields.of(check) == after else render_article(article)


def _set_field(yaml_text: str, name: str, value: Any, newline: str) -> str:
    """`yaml_text` with the top-level field `name` set to `value` where it stands (or added at the
    end); None or an empty list removes it."""
    lines = yaml_text.split(newline)
    start = next((i for i, line in enumerate(lines) if re.match(rf"^{re.escape(name)}[ \t]*:", line)), None)
    end = start
    if start is not None:
        end = start + 1
        while end < len(lines) and (lines[end][:1] in (" ", "\t", "-") or not lines[end].strip()):
            end += 1
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1  # blank lines after the field stay
    new = _rendered(name, value)
    if start is None or end is None:
        return newline.join([*lines, *new]) if new else yaml_text
    return newline.join([*lines[:start], *new, *lines[end:]])


def _rendered(name: str, value: Any) -> list[str]:
    if value is None or value == () or value == []:
        return []
    if isinstance(value, tuple | list):
        return [f"{name}:", *(f"  - {_scalar(item)}" for item in value)]
    return [f"{name}: {_scalar(value)}"]


def _scalar(value: Any) -> str:
    """One YAML scalar, quoted only where YAML needs it (as `render_article` writes them)."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip()
    return text.removesuffix("\n...").strip()


def _article(article_id: str, fields: Fields, path: Path) -> Article:
    values = dataclasses.asdict(fields)
    values["questions"] = tuple(" ".join(q.split()) for q in fields.questions if q.strip())
    values["tags"] = tuple(t.strip() for t in fields.tags if t.strip())
    values["follow_ups"] = tuple(f.strip() for f in fields.follow_ups if f.strip())
    values["body"] = fields.body.strip()
    return Article(id=article_id, path=path, **values)


def _check_lang(kb_root: Path, lang: str) -> None:
    if lang not in LANGUAGES:
        raise InvalidKnowledgeBase(
            [Problem(kb_root, "lang", f"{lang!r} is not one of {', '.join(LANGUAGES)}")]
        )


def _commit(kb_root: Path, writes: dict[Path, str], before: dict[Path, str | None], path: Path) -> Saved:
    """Write `writes` ("" removes a file), check the whole knowledge base, and put every file back
    as it was (`before`: None = absent) if the change brings an error, in this article or another
    (a question now identical to another article's is reported on either)."""
    known = {_key(p) for p in load_kb(kb_root).problems}
    for target, text in writes.items():
        if text:
            write_file(target, text)
        else:
            target.unlink()
    kb: KnowledgeBase = load_kb(kb_root)
    problems = [p for p in kb.problems if p.path == path or _key(p) not in known]
    errors = [p for p in problems if p.severity == "error" and (_key(p) not in known or p.path == path)]
    if errors or not any(a.path == path for a in kb.articles):
        for target, kept in before.items():
            if kept is None:
                target.unlink(missing_ok=True)
            else:
                write_file(target, kept)
        raise InvalidKnowledgeBase(errors or [Problem(path, "", "invalid after the edit")])
    article = next(a for a in kb.articles if a.path == path)
    return Saved(
        article, version_of(path.read_text(encoding="utf-8")), [p for p in problems if p not in errors]
    )


def _key(problem: Problem) -> tuple[str, str, str, str]:
    return (str(problem.path), problem.field, problem.message, problem.severity)

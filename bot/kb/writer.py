"""Write article files: an alternate question appended in place, a new draft, a whole article.

Curation edits are textual so everything else in the file stays byte for byte as staff wrote it; the
result is validated with the whole knowledge base and the file is restored if anything is wrong.
`render_article` writes a whole file (imports), in the field order of the article format.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bot.fsync import fsync_dir
from bot.kb.articles import (
    ID_PATTERN,
    LANGUAGES,
    OPTIONAL,
    REQUIRED,
    Article,
    InvalidKnowledgeBase,
    Problem,
    load_kb,
)

_FRONT = re.compile(r"\A(---\r?\n)(.*?)(\r?\n---[ \t]*(?:\r?\n|\Z))", re.S)
_BLOCK_KEY = re.compile(r"^questions:[ \t]*(#.*)?$", re.M)
_FLOW_KEY = re.compile(r"^questions:[ \t]*\[(.*)\][ \t]*(#.*)?$", re.M)
_ITEM = re.compile(r"^([ \t]*)-[ \t]")


def add_question(kb_root: Path, article_id: str, question: str) -> Path:
    """Append `question` to the article's `questions`, keeping the rest of the file identical."""
    question = " ".join(question.split())
    if not question:
        raise ValueError("the question is empty")
    article = load_kb(kb_root).by_id().get(article_id)
    if article is None:
        raise KeyError(f"no article {article_id!r} in {kb_root}")
    original = article.path.read_text(encoding="utf-8")
    updated = _with_question(original, question, article.path)
    article.path.write_text(updated, encoding="utf-8")
    _validate_or_restore(kb_root, article.path, original)
    return article.path


def new_draft(kb_root: Path, article_id: str, lang: str, title: str, questions: list[str], body: str) -> Path:
    """Create `kb_root/<lang>/<id>.md` as a draft (not served until staff publish it)."""
    if not ID_PATTERN.match(article_id):
        raise ValueError(f"{article_id!r} is not a valid id (lowercase letters, digits and dashes)")
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}")
    path = kb_root / lang / f"{article_id}.md"
    if path.exists() or article_id in load_kb(kb_root).by_id():
        raise FileExistsError(f"article {article_id!r} already exists")
    lines = [
        "---",
        f"id: {article_id}",
        f"lang: {lang}",
        f"title: {json.dumps(title, ensure_ascii=False)}",
        "questions:",
    ]
    lines += [f"  - {json.dumps(q, ensure_ascii=False)}" for q in questions]
    lines += ["status: draft", "handoff: false", "---", body.strip() or "TODO: write the answer.", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    _validate_or_restore(kb_root, path, None)
    return path


def _with_question(text: str, question: str, path: Path) -> str:
    front = _FRONT.match(text)
    if front is None:
        raise ValueError(f"{path}: no front matter")
    head, yaml_text, tail = front.groups()
    quoted = json.dumps(question, ensure_ascii=False)  # a JSON string is a valid YAML scalar
    newline = "\r\n" if "\r\n" in yaml_text else "\n"
    flow = _FLOW_KEY.search(yaml_text)
    if flow is not None:
        inner = flow.group(1).rstrip()
        items = f"{inner}, {quoted}" if inner.strip() else quoted
        start, end = flow.span(1)
        yaml_text = yaml_text[:start] + items + yaml_text[end:]
    else:
        block = _BLOCK_KEY.search(yaml_text)
        if block is None:
            raise ValueError(f"{path}: no questions list")
        lines = yaml_text[block.end() :].split(newline)
        indent, last = "  ", 0  # lines[0] is the rest of the key line
        for i, line in enumerate(lines[1:], start=1):
            item = _ITEM.match(line)
            if item is None and line.strip() and not line.startswith((" ", "\t")):
                break
            if item is not None:
                indent, last = item.group(1), i
        lines.insert(last + 1, f"{indent}- {quoted}")
        yaml_text = yaml_text[: block.end()] + newline.join(lines)
    return head + yaml_text + tail + text[front.end() :]


def _validate_or_restore(kb_root: Path, path: Path, original: str | None) -> None:
    kb = load_kb(kb_root)
    errors = [p for p in kb.errors if p.path == path or f"{path}" in p.message]
    if errors:
        if original is None:
            path.unlink()
        else:
            path.write_text(original, encoding="utf-8")
        raise InvalidKnowledgeBase(errors or [Problem(path, "", "invalid after the edit")])


def render_article(article: Article) -> str:
    """The file text of `article`: its front matter in the article format's field order (defaults
    left out), then the Markdown body."""
    meta: dict[str, Any] = {
        "id": article.id,
        "lang": article.lang,
        "title": article.title,
        "questions": list(article.questions),
        "tags": list(article.tags),
        "translation_of": article.translation_of,
        "status": article.status,
        "handoff": article.handoff,
        "follow_ups": list(article.follow_ups),
        "updated": article.updated,
        "source": article.source,
    }
    assert list(meta) == [*REQUIRED, *OPTIONAL]  # a new field of the format is written too
    kept = {k: v for k, v in meta.items() if v not in (None, []) or k in REQUIRED}
    front = yaml.safe_dump(kept, sort_keys=False, allow_unicode=True, width=100)
    return f"---\n{front}---\n{article.body.strip()}\n"


def write_file(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically: a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)

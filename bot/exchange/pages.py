"""A folder of pages: `.md`, `.html`/`.htm` and `.txt` files, one entry each; the title from the
first heading (or the HTML `<title>`), else from the file name."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.exchange.entries import Entry, Source, finding
from bot.exchange.html import html_text, html_to_markdown
from bot.exchange.tabular import decode
from bot.kb import front_matter
from bot.kb.articles import N_

SUFFIXES = (".md", ".markdown", ".html", ".htm", ".txt")
_MD_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.M)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.S | re.I)
_HTML_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S | re.I)
_HTML_BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S | re.I)


def read_folder(folder: Path, origin: str) -> Source:
    """One entry per page under `folder` (sub-folders too, in a stable order); its path relative
    to the folder is its key, so a re-import finds it again."""
    source = Source(origin)
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES):
        where = str(path.relative_to(folder))
        try:
            text = decode(path.read_bytes())
        except OSError as exc:
            source.findings.append(
                finding(where, N_("cannot read: {error}: skipped"), error=str(exc.strerror))
            )
            source.skipped += 1
            continue
        title, answer = _page(path, text)
        if not title:
            source.findings.append(finding(where, N_("no title: skipped")))
            source.skipped += 1
            continue
        key = where.rsplit(".", 1)[0].replace("\\", "/")
        source.entries.append(Entry(where=where, title=title, answer=answer, questions=(title,), key=key))
    return source


def _page(path: Path, text: str) -> tuple[str, str]:
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        body = _HTML_BODY.search(text)
        fragment = body.group(1) if body else text
        h1, named = _HTML_H1.search(fragment), _HTML_TITLE.search(text)
        if h1 is not None:
            fragment = fragment[: h1.start()] + fragment[h1.end() :]
        title = html_text(h1.group(1)) if h1 else html_text(named.group(1)) if named else ""
        return title or _from_name(path), html_to_markdown(fragment)
    if suffix == ".txt":
        return _from_name(path), text.strip()
    try:
        post = front_matter.loads(text) if text.startswith("---") else None
    except (yaml.YAMLError, ValueError):  # not front matter after all: the page as it is
        post = None
    content = post.content if post is not None else text
    heading = _MD_HEADING.search(content)
    given = post.metadata.get("title") if post is not None else None
    if isinstance(given, str) and given.strip():
        return given.strip(), content.strip()
    if heading is not None:
        rest = content[: heading.start()] + content[heading.end() :]
        return heading.group(1).strip(), rest.strip()
    return _from_name(path), content.strip()


def _from_name(path: Path) -> str:
    """ "come-fare-un-reso.txt" -> "Come fare un reso"."""
    words = re.sub(r"[-_]+", " ", path.stem).strip()
    return words[:1].upper() + words[1:]

"""Markdown rendered to HTML (unsanitised) and to plain text."""

from __future__ import annotations

import re
import threading
from html.parser import HTMLParser

import markdown

_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s")
_SPACES = re.compile(r"\s+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def lists_interrupt_paragraphs(source: str) -> str:
    """Let a list start right under a line of text, as CommonMark and most authors expect
    (Python-Markdown otherwise needs a blank line before the list)."""
    lines = source.splitlines()
    out: list[str] = []
    for line in lines:
        previous = out[-1] if out else ""
        starts_list = _LIST_ITEM.match(line) and not _LIST_ITEM.match(previous)
        if starts_list and previous.strip() and not previous.startswith((" ", "\t")):
            out.append("")
        out.append(line)
    return "\n".join(out)


_converters = threading.local()


def markdown_html(source: str) -> str:
    """Markdown to (unsanitised) HTML. One converter per thread, reset between documents: setting
    one up costs more than converting a short answer."""
    converter = getattr(_converters, "markdown", None)
    if converter is None:
        converter = _converters.markdown = markdown.Markdown(extensions=["sane_lists"])
    return converter.reset().convert(lists_interrupt_paragraphs(source))


def markdown_to_text(source: str) -> str:
    """Render Markdown and keep only its text, on one line."""
    extractor = _TextExtractor()
    extractor.feed(markdown_html(source))
    return _SPACES.sub(" ", "".join(extractor.parts)).strip()

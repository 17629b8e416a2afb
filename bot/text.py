"""Text normalisation shared by validation, caching and fuzzy matching."""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

import markdown

_PUNCTUATION = re.compile(r"[^\w\s]", re.UNICODE)
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Case-folded, accent-free, punctuation-free text with single spaces ("Perché?" -> "perche")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", stripped)).strip()


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def markdown_to_text(source: str) -> str:
    """Render Markdown and keep only its text, on one line."""
    extractor = _TextExtractor()
    extractor.feed(markdown.markdown(source))
    return _SPACES.sub(" ", "".join(extractor.parts)).strip()

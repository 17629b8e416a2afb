"""Text normalisation shared by validation, caching and fuzzy matching."""

from __future__ import annotations

import re
import unicodedata

_PUNCTUATION = re.compile(r"[^\w\s]", re.UNICODE)
_SPACES = re.compile(r"\s+")


class _DropCombining(dict[int, int | None]):
    """A `str.translate` table that deletes combining marks, filled in as characters are met (the
    lookups then run in C, not in a Python loop over every character)."""

    def __missing__(self, codepoint: int) -> int | None:
        self[codepoint] = None if unicodedata.combining(chr(codepoint)) else codepoint
        return self[codepoint]


_DROP_COMBINING = _DropCombining()


def normalise(text: str) -> str:
    """Case-folded, accent-free, punctuation-free text with single spaces ("Perché?" -> "perche")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = decomposed if decomposed.isascii() else decomposed.translate(_DROP_COMBINING)
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", stripped)).strip()

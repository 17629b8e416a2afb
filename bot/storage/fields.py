"""Field types of web requests (public API, admin API, console): values every store can hold.

PostgreSQL text cannot hold NUL, and no database driver can encode a lone UTF-16 surrogate (which
JSON's "\\ud800" escape can smuggle in), so such text is refused with a 422 and a reason instead of
failing in the database with a 500. Ids have one shape, so a path like `../../etc` is refused early.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

ID_PATTERN = r"^[A-Za-z0-9_-]+$"
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
DB_INT_MAX = 2**31 - 1  # the largest INTEGER in PostgreSQL (and what SQLite ids stay under)


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None if it can."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (it contains a lone surrogate)"
    return None


def storable_text(value: str) -> str:
    """Text a channel received and cannot send back (a webhook), made storable: NUL characters
    dropped, lone surrogates replaced by U+FFFD."""
    value = value.replace("\x00", "")
    return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _storable(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def is_id(value: str) -> bool:
    """True for a well-formed conversation, message or ticket id."""
    return _ID.fullmatch(value) is not None  # not re.match: "$" also matches before a final newline


Text = Annotated[str, AfterValidator(_storable)]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=ID_PATTERN)]
DbInt = Annotated[int, Field(ge=1, le=DB_INT_MAX)]

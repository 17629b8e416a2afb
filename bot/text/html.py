"""Article Markdown to HTML that is safe to insert into any page (rendered, then sanitised by nh3)."""

from __future__ import annotations

import functools

import nh3

from bot.text.markdown import markdown_html

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "ul",
    "ol",
    "li",
    "a",
    "code",
    "pre",
    "blockquote",
    "h3",
    "h4",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


@functools.lru_cache(maxsize=2048)  # answers are articles: the same few texts again and again
def to_html(source: str) -> str:
    """Markdown rendered to HTML; scripts, event handlers, styles and unsafe URLs removed."""
    html = markdown_html(source)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
    )

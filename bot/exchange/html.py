"""Help-center HTML as clean Markdown: sanitised by nh3 first, then converted by markdownify."""

from __future__ import annotations

import html
import re

import nh3
from markdownify import markdownify

# What an FAQ answer may keep of its HTML: structure and links. Scripts, styles, iframes, forms,
# images and every attribute but a link's target go (answers are sanitised again when shown).
KEPT_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "a", "code", "pre", "blockquote",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "hr", "div", "span",
}  # fmt: skip
_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING = re.compile(r"[ \t]+\n")


def html_to_markdown(fragment: str) -> str:
    """The Markdown of an HTML fragment, with nothing a customer's browser could run."""
    clean = nh3.clean(
        fragment,
        tags=KEPT_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel=None,
        clean_content_tags={"script", "style"},
    )
    text = markdownify(clean, heading_style="ATX", bullets="-", strip=["div", "span"])
    return _BLANK_LINES.sub("\n\n", _TRAILING.sub("\n", text)).strip()


def html_text(fragment: str) -> str:
    """The plain text of an HTML fragment on one line (a title)."""
    return " ".join(html.unescape(nh3.clean(fragment, tags=set())).split())

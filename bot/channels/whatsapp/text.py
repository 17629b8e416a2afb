"""Markdown answers as WhatsApp text: **bold** as *bold*, _italic_ as _italic_, ~~struck~~ as
~struck~, code as `code` or a ``` block, links as "text (url)", lists and headings kept as text;
cut to WhatsApp's 4096 characters a message at paragraph, then line, sentence, word boundaries."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from bot.channels.messenger.outgoing import link_text, next_bullet, tidy_lines
from bot.channels.messenger.outgoing import split_text as _split
from bot.text.markdown import markdown_html

MAX_TEXT = 4096  # characters in one text message
_BLOCKS = {"p", "blockquote", "div", "table", "hr"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_MARKS = {"strong": "*", "b": "*", "em": "_", "i": "_", "del": "~", "s": "~", "strike": "~", "code": "`"}
_SKIP = {"script", "style"}


class _WhatsAppText(HTMLParser):
    """Rendered Markdown back to text with WhatsApp's own formatting marks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list] = []  # [tag, items so far] per open list
        self.open: list[tuple[str, str | None, int]] = []  # (tag, href or mark, where it starts)
        self.pre = 0
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag == "pre":
            self.pre += 1
            self.out.append("\n\n```\n")
        elif tag == "p" and self.lists:  # a loose list's item: its text stays on the bullet's line
            if self.out and not self.out[-1].endswith(" "):
                self.out.append("\n")
        elif tag in _BLOCKS or tag in _HEADINGS:
            self.out.append("\n\n")
            if tag in _HEADINGS:
                self.open.append((tag, "*", len(self.out)))
        elif tag in ("br", "tr"):
            self.out.append("\n")
        elif tag in ("ul", "ol"):
            self.out.append("\n" if self.lists else "\n\n")
            self.lists.append([tag, 0])
        elif tag == "li":
            self.out.append(next_bullet(self.lists))
        elif tag == "a":
            self.open.append((tag, dict(attrs).get("href"), len(self.out)))
        elif tag in _MARKS and not self.pre:
            self.open.append((tag, _MARKS[tag], len(self.out)))
        elif tag == "img":
            found = dict(attrs)
            self.out.append(link_text(found.get("alt") or "", found.get("src")))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
            self.out.append("```\n\n")
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            self.out.append("\n" if self.lists else "\n\n")
        elif self.open and self.open[-1][0] == tag:
            _tag, extra, start = self.open.pop()
            inner = "".join(self.out[start:])
            del self.out[start:]
            self.out.append(link_text(inner.strip(), extra) if tag == "a" else _marked(inner, extra or ""))
            if tag in _HEADINGS:
                self.out.append("\n\n")
        elif tag == "p" and self.lists:
            pass
        elif tag in _BLOCKS or tag in _HEADINGS:
            self.out.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(data.strip("\n") + "\n" if self.pre else re.sub(r"\s+", " ", data))

    def text(self) -> str:
        return tidy_lines(self.out)


def _marked(inner: str, mark: str) -> str:
    """`inner` between WhatsApp marks, which only work hugging the text: spaces stay outside."""
    core = inner.strip()
    if not core:
        return inner
    lead, trail = inner[: len(inner) - len(inner.lstrip())], inner[len(inner.rstrip()) :]
    return f"{lead}{mark}{core}{mark}{trail}"


def whatsapp_text(markdown: str) -> str:
    """Markdown as WhatsApp shows it (its own bold, italic, strike-through and code marks)."""
    parser = _WhatsAppText()
    parser.feed(markdown_html(markdown))
    parser.close()
    return parser.text()


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut at paragraph boundaries if possible,
    else at line, sentence, then word boundaries."""
    return _split(text, limit)


def one_line(text: str) -> str:
    """`text` fit for a template parameter, which may hold no new line, no tab and no more than
    four spaces in a row: paragraphs are joined with " · ", other white space is one space."""
    paragraphs = [" ".join(part.split()) for part in re.split(r"\n\s*\n", text.strip())]
    return " · ".join(p for p in paragraphs if p)

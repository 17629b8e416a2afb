"""A bot turn as Messenger (or Instagram) messages: plain text (links kept as "text (url)"), split
at paragraph or sentence boundaries to fit 2000 characters (Instagram: 1000), and quick replies
(text only, as Instagram requires) for what the customer may pick."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from bot.channels.messenger import payloads
from bot.dialogue.bot import Reply
from bot.dialogue.messages import message
from bot.dialogue.vocabulary import DecisionKind, Reason
from bot.service.chat import Turn
from bot.text.markdown import markdown_html

MAX_TEXT = 2000  # characters in one message
MAX_QUICK_REPLIES = 13
MAX_TITLE = 20  # characters in a quick reply's title

_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "div", "table", "hr"}
_SKIP = {"script", "style"}
# Separators from coarse to fine: paragraphs, lines, sentences, words.
_LEVELS = [(re.compile(r"\n{2,}"), "\n\n"), (re.compile(r"\n"), "\n"), (re.compile(r"(?<=[.!?…;])\s+"), " ")]
_LEVELS.append((re.compile(r"\s+"), " "))


class _PlainText(HTMLParser):
    """Rendered Markdown back to plain text: blocks become paragraphs, list items lines."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list] = []  # [tag, items so far] per open list
        self.links: list[tuple[str | None, int]] = []  # (href, where its text starts in `out`)
        self.pre = 0
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag in _BLOCKS:
            self.pre += tag == "pre"
            self.out.append("\n\n")
        elif tag in ("br", "tr"):
            self.out.append("\n")
        elif tag in ("ul", "ol"):
            self.out.append("\n" if self.lists else "\n\n")
            self.lists.append([tag, 0])
        elif tag == "li":
            self.out.append(next_bullet(self.lists))
        elif tag == "a":
            self.links.append((dict(attrs).get("href"), len(self.out)))
        elif tag == "img":
            found = dict(attrs)
            self.out.append(link_text(found.get("alt") or "", found.get("src")))

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCKS:
            self.pre -= tag == "pre"
            self.out.append("\n\n")
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
            self.out.append("\n" if self.lists else "\n\n")
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            label = "".join(self.out[start:]).strip()
            del self.out[start:]
            self.out.append(link_text(label, href))

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(data if self.pre else re.sub(r"\s+", " ", data))

    def text(self) -> str:
        return tidy_lines(self.out)


def next_bullet(lists: list[list]) -> str:
    """A new list item's line start: its number in an ordered list, a bullet (nested: a hollow one)
    otherwise; `lists` holds [tag, items so far] per open list, and the item is counted."""
    kind = lists[-1] if lists else ["ul", 0]
    kind[1] += 1
    bullet = f"{kind[1]}. " if kind[0] == "ol" else ("• " if len(lists) < 2 else "◦ ")
    return f"\n{bullet}"


def tidy_lines(pieces: list[str]) -> str:
    """Text pieces joined: runs of spaces and blank lines folded, each line trimmed."""
    lines = [re.sub(r" {2,}", " ", line).strip() for line in "".join(pieces).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def link_text(label: str, href: str | None) -> str:
    """A link as plain text: its label, then where it goes (once, if the label is not already it)."""
    if not href:
        return label
    shown = href.removeprefix("mailto:").removeprefix("tel:")
    if not label or label in (href, shown):
        return shown
    return f"{label} ({shown})"


def plain_text(markdown: str) -> str:
    """Markdown rendered to plain text, since Messenger shows no rich text; links are kept."""
    parser = _PlainText()
    parser.feed(markdown_html(markdown))
    parser.close()
    return parser.text()


def split_text(text: str, limit: int = MAX_TEXT, level: int = 0) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut at paragraph boundaries if possible,
    else at line, sentence, then word boundaries; only a word longer than `limit` is cut inside."""
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    if level == len(_LEVELS):
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    pattern, joiner = _LEVELS[level]
    pieces: list[str] = []
    current = ""
    for part in pattern.split(text):
        for piece in split_text(part, limit, level + 1):
            candidate = f"{current}{joiner}{piece}" if current else piece
            if len(candidate) <= limit:
                current = candidate
            else:
                pieces.append(current)
                current = piece
    return [*pieces, current] if current else pieces


def title(text: str) -> str:
    """A quick reply's title: at most 20 characters, shortened with "…"."""
    text = " ".join(text.split())
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1].rstrip() + "…"


def quick_reply(text: str, payload: str) -> dict:
    return {"content_type": "text", "title": title(text), "payload": payload}


def quick_replies(reply: Reply, message_id: str) -> list[dict]:
    """What the customer may tap after this reply: the suggestions or follow-ups (by article id),
    👍/👎 on an answer, and a person when the article offers one; at most 13."""
    extras = []
    if reply.decision == DecisionKind.ANSWER:
        extras += [quick_reply("👍", payloads.feedback(True, message_id))]
        extras += [quick_reply("👎", payloads.feedback(False, message_id))]
    if reply.offer_person:
        extras.append(quick_reply(message("quick_person", reply.lang), payloads.PERSON))
    articles = reply.suggestions or reply.follow_ups
    picks = [quick_reply(s.title, payloads.article(s.article_id)) for s in articles]
    return picks[: MAX_QUICK_REPLIES - len(extras)] + extras


def text_messages(text: str, quick: list[dict] | None = None, limit: int = MAX_TEXT) -> list[dict]:
    """Message objects for `text`, split to fit `limit` (Instagram's is 1000); quick replies ride
    on the last one."""
    messages: list[dict] = [{"text": piece} for piece in split_text(text, limit)]
    if messages and quick:
        messages[-1]["quick_replies"] = quick[:MAX_QUICK_REPLIES]
    return messages


def turn_messages(turn: Turn, limit: int = MAX_TEXT) -> list[dict]:
    """What the customer sees for one turn, in messages of at most `limit` characters; nothing
    while a person holds the conversation."""
    reply = turn.reply
    if reply.reason == Reason.AGENT_HOLDS:
        return []
    if turn.handoff is not None:
        return text_messages(turn.handoff.message, limit=limit)
    text = plain_text(reply.text) if reply.decision == DecisionKind.ANSWER else reply.text
    return text_messages(text, quick_replies(reply, turn.message_id), limit)

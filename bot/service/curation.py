"""Staff actions on the missed-query log (a question added to an article, a new draft, dismissed),
shared by the admin API and the console; staff actions on hand-offs are in bot.service.handoffs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.kb.articles import InvalidKnowledgeBase
from bot.kb.writer import add_question, new_draft
from bot.quality.off_topic import add_off_topic
from bot.storage.statuses import MissedStatus
from bot.storage.store import MissedQuery, Store

ACTIONS = ("add_question", "new_article", "dismiss", "not_for_bot")


class NotOpen(ValueError):
    """The missed question was already resolved or dismissed (e.g. a form submitted twice)."""


@dataclass(frozen=True)
class Resolution:
    """What staff decided for one missed question."""

    action: str
    article_id: str | None = None
    question: str | None = None  # defaults to the (redacted) missed text
    lang: str | None = None
    title: str | None = None
    body: str = ""


def resolve_missed(store: Store, kb_root: Path, missed_id: int, what: Resolution, who: str) -> MissedQuery:
    """Apply `what` to a missed question and record it (who, when).

    Raises LookupError (unknown question or article), ValueError (missing or bad fields, or the
    question is no longer open), FileExistsError (the new article exists) or InvalidKnowledgeBase
    (the edit would break the KB; the file is left as it was)."""
    if what.action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
    missed = store.get_missed(missed_id)
    if missed is None:
        raise LookupError(f"no missed query {missed_id}")
    if missed.status != MissedStatus.OPEN:
        raise NotOpen(f"missed query {missed_id} is already {missed.status}")
    question = what.question or missed.text
    path = None
    if what.action == "add_question":
        if not what.article_id:
            raise ValueError("article_id: required for add_question")
        try:
            path = add_question(kb_root, what.article_id, question)
        except KeyError as exc:
            raise LookupError(exc.args[0]) from exc
    elif what.action == "new_article":
        if not (what.article_id and what.title):
            raise ValueError("article_id and title: required for new_article")
        lang = what.lang or missed.lang or "it"
        path = new_draft(kb_root, what.article_id, lang, what.title, [question], what.body)
    elif what.action == "not_for_bot":  # off-topic: kept for the quality gate, which checks it is handed off
        path = add_off_topic(kb_root, question, what.lang or missed.lang or "it")
    dismissed = what.action in ("dismiss", "not_for_bot")
    status = MissedStatus.DISMISSED if dismissed else MissedStatus.RESOLVED
    resolution = {
        "action": what.action,
        "article_id": what.article_id if not dismissed else None,
        "question": question,
        "file": str(path) if path else None,
    }
    return store.resolve_missed(missed_id, status, resolution, who)


@dataclass(frozen=True)
class Skipped:
    missed_id: int
    reason: str


def resolve_many(
    store: Store, kb_root: Path, missed_ids: list[int], what: Resolution, who: str
) -> tuple[list[int], list[Skipped]]:
    """`what` for each missed question in turn ("add all to article"): those resolved, and those
    skipped with the reason (already resolved, a question the article already has…)."""
    done, skipped = [], []
    for missed_id in dict.fromkeys(missed_ids):
        try:
            resolve_missed(store, kb_root, missed_id, what, who)
        except (LookupError, ValueError, FileExistsError, InvalidKnowledgeBase) as exc:
            reason = exc.args[0] if isinstance(exc, LookupError) and exc.args else str(exc)
            skipped.append(Skipped(missed_id, str(reason).splitlines()[-1].strip()))
        else:
            done.append(missed_id)
    return done, skipped

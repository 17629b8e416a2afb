"""What an import would change: each entry matched to the article it updates or the new one it
creates, its id chosen, duplicates merged or set aside. Nothing is written here (see `apply`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from slugify import slugify

from bot.exchange.entries import Entry, Finding, Source, finding
from bot.kb.articles import LANGUAGES, N_, Article
from bot.text.normalise import normalise

MAX_TITLE = 150  # characters: longer "questions" are paragraphs, shortened to a title
MAX_ID = 60
PLACEHOLDER = "TODO: write the answer."


@dataclass(frozen=True)
class Change:
    """One article an import creates, updates, leaves as it is or archives."""

    action: str
    article: Article
    where: str  # the entry it comes from (an archived article: its file)


@dataclass
class Plan:
    """Every change of one import, what the report tells about its entries, and the articles of
    this source that the source no longer holds."""

    changes: list[Change] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    gone: list[Article] = field(default_factory=list)
    skipped: int = 0


@dataclass(frozen=True)
class Options:
    """`lang`: every entry's language (else the source's, else detected); `status`: of every
    article written (else the source's, else published for a new one and unchanged for an update);
    `prune`: archive (set as draft) the articles of this source it no longer holds."""

    lang: str | None = None
    status: str | None = None
    prune: bool = False
    today: dt.date = field(default_factory=dt.date.today)


def plan_import(
    source: Source,
    existing: list[Article],
    kb_root: Path,
    options: Options,
    detect: Callable[[str], str | None],
) -> Plan:
    """Match `source`'s entries to the `existing` articles of the KB at `kb_root`; `detect` gives
    a text's language when neither the options nor the entry do."""
    plan = Plan(findings=list(source.findings), skipped=source.skipped)
    planner = _Planner(source.origin, existing, kb_root, options, plan)
    # translations after what they translate, so that their links resolve
    entries = sorted(_merged(source.entries, plan), key=lambda e: e.translation_of is not None)
    for entry in entries:
        lang = options.lang or _language(entry.lang) or detect(f"{entry.title}\n{entry.answer}")
        if lang not in LANGUAGES:
            plan.findings.append(
                finding(
                    entry.where,
                    N_("language {lang} is not served ({served}): skipped; give --lang"),
                    lang=repr(lang or "unknown"),
                    served=", ".join(LANGUAGES),
                )
            )
            plan.skipped += 1
            continue
        planner.add(entry, lang)
    touched = {c.article.id for c in plan.changes}
    for article in existing:
        if article.source and article.source.split(":", 1)[0] == source.origin and article.id not in touched:
            plan.gone.append(article)
            if options.prune and article.published:
                archived = dataclasses.replace(article, status="draft", updated=options.today)
                plan.changes.append(Change("archive", archived, str(article.path)))
    return plan


def _language(tag: str | None) -> str | None:
    if not tag:
        return None
    from bot.retrieval.language import language_code

    return language_code(tag)


def _merged(entries: list[Entry], plan: Plan) -> list[Entry]:
    """Entries with the same question and the same answer are one: the first keeps the others'
    questions and tags."""
    first: dict[tuple[str, str, str], int] = {}
    kept: list[Entry] = []
    for entry in entries:
        same = (normalise(entry.title), normalise(entry.answer), (entry.lang or "").lower())
        if same in first:
            i = first[same]
            kept[i] = dataclasses.replace(
                kept[i],
                questions=(*kept[i].questions, *entry.questions),
                tags=tuple(dict.fromkeys((*kept[i].tags, *entry.tags))),
            )
            plan.findings.append(
                finding(entry.where, N_("same question and answer as {other}: merged"), other=kept[i].where)
            )
            plan.skipped += 1
            continue
        first[same] = len(kept)
        kept.append(entry)
    return kept


class _Planner:
    """The state of one plan: ids taken, questions owned, the articles already matched."""

    def __init__(
        self, origin: str, existing: list[Article], root: Path, options: Options, plan: Plan
    ) -> None:
        self.origin, self.root, self.options, self.plan = origin, root, options, plan
        self.by_id = {a.id: a for a in existing}
        self.by_source = {a.source: a for a in existing if a.source}
        self.taken = set(self.by_id)
        self.matched: set[str] = set()
        self.keys: dict[tuple[str, str], str] = {}  # (entry key, lang) -> article id
        self.first_of_key: dict[str, str] = {}  # entry key -> id of its first language version
        self.owner: dict[str, str] = {}  # normalised question -> article id
        self.links = {a.id: a.translation_of for a in existing}  # article id -> the one it translates
        # This source's own articles are claimed again, entry by entry, in the source's order; the
        # others keep their questions (a published article before a draft).
        others = [a for a in existing if not a.source or a.source.split(":", 1)[0] != origin]
        for article in sorted(others, key=lambda a: not a.published):
            for q in article.questions:
                self.owner.setdefault(normalise(q), article.id)

    def add(self, entry: Entry, lang: str) -> None:
        where, notes = entry.where, self.plan.findings
        if entry.key and (entry.key, lang) in self.keys:
            notes.append(
                finding(
                    where,
                    N_("id {key} again in {lang} (already {id}): skipped"),
                    key=repr(entry.key),
                    lang=repr(lang),
                    id=repr(self.keys[entry.key, lang]),
                )  # fmt: skip
            )
            self.plan.skipped += 1
            return
        given = entry.source
        source = given if given is not None else f"{self.origin}:{entry.key or _slug(entry.title)}"
        before = self.by_source.get(source) if source else None
        before = before or self._same_id(entry, lang)
        if before is not None and before.id in self.matched:
            notes.append(finding(where, N_("updates {id} a second time: skipped"), id=repr(before.id)))
            self.plan.skipped += 1
            return
        article_id = before.id if before is not None else self._new_id(entry, lang)
        self.taken.add(article_id)
        if entry.key:
            self.keys[entry.key, lang] = article_id
            self.first_of_key.setdefault(entry.key, article_id)
        translation = self._translation_of(entry, article_id, before)
        self.links[article_id] = translation
        title, questions = self._title_and_questions(entry)
        questions = self._own_questions(
            article_id, [*(before.questions if before else ()), *questions], entry
        )
        body, status = entry.answer.strip(), self.options.status or entry.status
        if not body:
            body = before.body if before is not None else PLACEHOLDER
            if before is None:
                status = "draft"
                notes.append(finding(where, N_("empty answer: imported as a draft")))
        if not questions:  # its only question belongs to another article, with another answer
            questions, status = [title], "draft"
            notes.append(
                finding(
                    where,
                    N_(
                        "its question is also another article's, with another answer: "
                        "imported as a draft; reword one of them before publishing it"
                    ),
                )
            )
        article = Article(
            id=article_id,
            lang=lang,
            title=title,
            questions=tuple(questions),
            body=body,
            path=before.path if before is not None else self.root / lang / f"{article_id}.md",
            tags=entry.tags or (before.tags if before is not None else ()),
            translation_of=translation,
            status=status or (before.status if before is not None else "published"),
            handoff=entry.handoff if entry.handoff is not None else (before.handoff if before else False),
            follow_ups=entry.follow_ups or (before.follow_ups if before else ()),
            updated=before.updated if before is not None else entry.updated or self.options.today,
            source=source or None,
        )
        for q in questions:
            self.owner.setdefault(normalise(q), article_id)
        self.matched.add(article_id)
        if before is None:
            self.plan.changes.append(Change("create", article, where))
        elif _same(article, before):
            self.plan.changes.append(Change("unchanged", before, where))
        else:
            updated = dataclasses.replace(article, updated=self.options.today)
            self.plan.changes.append(Change("update", updated, where))

    def _same_id(self, entry: Entry, lang: str) -> Article | None:
        """The existing article an entry names by its own id (a faqbot export, a CSV id column), in
        its language, unless that article came from another source. A title alone never picks an
        article a person wrote: a new one is created beside it."""
        article = self.by_id.get(_slug(entry.key) if entry.key else "")
        if article is not None and article.lang == lang and (article.source or "") in ("", entry.source):
            return article
        return None

    def _new_id(self, entry: Entry, lang: str) -> str:
        """A readable, unused id: the entry's own (as a slug: "Faq_12" -> "faq-12"; not a help
        center's number), else its title's slug; a clash takes the language, then a number."""
        own = _slug(entry.key) if entry.key and not entry.key.isdigit() else None
        base = own or _slug(entry.title) or "faq"
        for candidate in (base, f"{base}-{lang}", *(f"{base}-{n}" for n in range(2, 10_000))):
            if candidate not in self.taken:
                return candidate
        raise ValueError(f"{entry.where}: no free id for {base!r}")

    def _title_and_questions(self, entry: Entry) -> tuple[str, list[str]]:
        title, questions = entry.title, list(entry.questions) or [entry.title]
        if len(title) > MAX_TITLE:
            cut = title[:MAX_TITLE].rsplit(" ", 1)[0].rstrip(" ,;:.")
            title = f"{cut}…"
            self.plan.findings.append(
                finding(
                    entry.where,
                    N_(
                        "question over {limit} characters: the title shortened, "
                        "the whole text kept as a question"
                    ),
                    limit=str(MAX_TITLE),
                )
            )
        return title, questions

    def _own_questions(self, article_id: str, questions: list[str], entry: Entry) -> list[str]:
        """The questions without repeats, and without those another article already holds (its
        language versions may share one: a borrowed term asked alike)."""
        kept, seen = [], set()
        for q in questions:
            key = normalise(q)
            if not key or key in seen:
                continue
            seen.add(key)
            owner = self.owner.get(key, article_id)
            if owner != article_id and not self._versions(owner, article_id):
                if q != entry.title:
                    self.plan.findings.append(
                        finding(
                            entry.where,
                            N_("question {question} is already {owner}'s: left out"),
                            question=repr(q),
                            owner=repr(owner),
                        )
                    )
                continue
            kept.append(q)
        return kept

    def _versions(self, a: str, b: str) -> bool:
        """Whether two articles are language versions of one (as the KB's check reads the links)."""
        la, lb = self.links.get(a), self.links.get(b)
        return la == b or lb == a or (la is not None and la == lb)

    def _translation_of(self, entry: Entry, article_id: str, before: Article | None) -> str | None:
        if entry.translation_of:
            return self.first_of_key.get(entry.translation_of) or (
                entry.translation_of if entry.translation_of in self.by_id else None
            )
        first = self.first_of_key.get(entry.key or "")
        if first is not None and first != article_id:
            return first
        return before.translation_of if before is not None else None


def _slug(text: str) -> str:
    return slugify(text, max_length=MAX_ID, word_boundary=True, save_order=True)


def _same(a: Article, b: Article) -> bool:
    """Equal but for the `updated` date and the path (what an import writes)."""
    return dataclasses.replace(a, updated=None, path=Path()) == dataclasses.replace(
        b, updated=None, path=Path()
    )

"""Staff commands: the missed-question log, deflection and hand-off statistics, retention."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bot.cli.common import LangOption, check_lang, fail, load_bot, open_store, settings_for

app = typer.Typer()


@app.command()
def purge(
    days: Annotated[
        int | None, typer.Option(help="Keep this many days (default: FAQBOT_RETENTION_DAYS).")
    ] = None,
) -> None:
    """Delete missed queries and conversations older than the retention period."""
    import datetime as dt

    keep = days if days is not None else settings_for().retention_days
    if keep < 1:
        fail(f"--days must be >= 1, got {keep}", 2)
    store = open_store()
    try:
        counts = store.purge(dt.datetime.now(dt.UTC) - dt.timedelta(days=keep))
    finally:
        store.close()
    typer.echo(f"purged data older than {keep} days: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@app.command()
def missed(
    clusters: Annotated[bool, typer.Option("--clusters", help="Group them into topics by meaning.")] = False,
    lang: LangOption = None,
    limit: Annotated[int, typer.Option(help="How many (newest first).")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """The open missed questions (redacted): one per line, or topics with --clusters."""
    store = open_store()
    try:
        rows, total = store.missed(lang=check_lang(lang), limit=limit)
    finally:
        store.close()
    if clusters:
        from bot.service.missed_topics import MissedItem, cluster

        retriever = load_bot(None).retriever
        topics = cluster(
            [MissedItem(m.id, m.text, m.lang, m.created_at) for m in rows], retriever.embedder, retriever
        )
        data = [
            {
                "size": t.size,
                "lang": t.lang,
                "examples": list(t.examples),
                "articles": [a["article_id"] for a in t.articles],
            }
            for t in topics
        ]
        if as_json:
            typer.echo(json.dumps({"clusters": data}, ensure_ascii=False))
            return
        for t in data:
            typer.echo(
                f"[{t['size']}] {t['lang']}: {' | '.join(t['examples'][:3])}  → {', '.join(t['articles'])}"
            )
        return
    if as_json:
        items = [{"id": m.id, "text": m.text, "lang": m.lang, "reason": m.reason} for m in rows]
        typer.echo(json.dumps({"items": items, "total": total}, ensure_ascii=False))
        return
    for m in rows:
        typer.echo(f"{m.created_at:%Y-%m-%d %H:%M} {m.lang or '--'} {m.channel:9} {m.reason:17} {m.text}")
    typer.echo(f"{len(rows)} of {total} open missed questions")


@app.command()
def stats(days: Annotated[int, typer.Option(help="Over the last N days.")] = 30) -> None:
    """Deflection and hand-off rates, feedback and top articles, as JSON."""
    import datetime as dt

    store = open_store()
    try:
        data = store.stats(dt.datetime.now(dt.UTC) - dt.timedelta(days=days))
    finally:
        store.close()
    typer.echo(json.dumps({"days": days, **data}, indent=2, ensure_ascii=False))

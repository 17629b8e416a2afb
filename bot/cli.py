"""The `faqbot` command line: validate, build, ask, chat."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.articles import InvalidKnowledgeBase, load_kb
from bot.config import Settings
from bot.dialog import ConversationState, Reply
from bot.gdpr_cli import app as gdpr_app
from bot.index import IndexError_

app = typer.Typer(
    help="faqbot: answers customer questions from a Markdown knowledge base.", no_args_is_help=True
)
app.add_typer(gdpr_app, name="gdpr")

KbOption = Annotated[Path | None, typer.Option("--kb", help="Knowledge-base folder (default: kb_articles).")]
IndexOption = Annotated[Path | None, typer.Option("--index", help="Index folder (default: index).")]
LangOption = Annotated[
    str | None, typer.Option("--lang", help="Customer's language (it|en); detected if omitted.")
]


def _settings(kb: Path | None = None, index: Path | None = None) -> Settings:
    overrides = {k: v for k, v in {"kb_dir": kb, "index_dir": index}.items() if v is not None}
    return Settings(**overrides)


def _fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


@app.command()
def validate(kb: KbOption = None) -> None:
    """Check every article; print errors and warnings with file and field. Exit 1 on errors."""
    settings = _settings(kb)
    result = load_kb(settings.kb_path)
    for problem in result.problems:
        typer.echo(str(problem), err=problem.severity == "error")
    summary = (
        f"{len(result.articles)} articles checked in {settings.kb_path}: "
        f"{len(result.errors)} errors, {len(result.warnings)} warnings"
    )
    typer.echo(summary)
    if result.errors:
        raise typer.Exit(1)


@app.command()
def build(kb: KbOption = None, index: IndexOption = None) -> None:
    """Validate, embed what changed, build a new index version and publish it atomically."""
    from bot.build import build_index
    from bot.embed import load_embedder
    from bot.progress import make_progress

    settings = _settings(kb, index)
    progress = make_progress(sys.stderr.isatty())
    try:
        with progress:
            result = build_index(settings, load_embedder(settings.model, settings.embed_batch_size), progress)
    except InvalidKnowledgeBase as exc:
        _fail(str(exc))
    except (ValueError, OSError) as exc:
        _fail(f"build failed, the live index is unchanged: {exc}")
    counts = result.manifest.counts
    typer.echo(
        f"built {result.version}: {counts['articles']} articles, {counts['units']} texts "
        f"({result.embedded} embedded, {result.cache_hits} cached) in {result.seconds:.1f}s"
    )


@app.command()
def rebuild(
    kb: KbOption = None,
    index: IndexOption = None,
    force: Annotated[bool, typer.Option(help="Publish even if the quality gate finds regressions.")] = False,
    margin: Annotated[
        float, typer.Option(help="Largest accepted drop of top-1 or hand-off precision.")
    ] = 0.02,
) -> None:
    """Build a candidate, evaluate it, compare with the live index, publish or refuse.

    Exit 0: published; 1: a step failed (live index untouched); 3: refused by the quality gate."""
    from bot.embed import load_embedder
    from bot.progress import LogProgress
    from bot.rebuild import rebuild as run_rebuild

    settings = _settings(kb, index)
    log = LogProgress().step
    try:
        report = run_rebuild(
            settings, load_embedder(settings.model, settings.embed_batch_size), force, margin, log
        )
    except InvalidKnowledgeBase as exc:
        _fail(f"rebuild failed, the live index is unchanged:\n{exc}")
    except Exception as exc:
        _fail(f"rebuild failed, the live index is unchanged: {type(exc).__name__}: {exc}")
    typer.echo(f"{report.status}: candidate {report.candidate}, serving {report.live_after}")
    if report.status == "refused":
        raise typer.Exit(3)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The customer's question.")],
    lang: LangOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    index: IndexOption = None,
) -> None:
    """Answer one question and print the decision (answer, clarify or handoff)."""
    bot = _load_bot(index)
    if not question.strip():
        _fail("the question is empty", 2)
    reply, _ = bot.reply(question, lang=_check_lang(lang))
    if as_json:
        typer.echo(json.dumps(reply_json(reply, bot.retriever.version), ensure_ascii=False))
    else:
        typer.echo(render(reply))


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="Server processes (each loads the model).")] = 1,
) -> None:
    """Serve the web API, the widget and its demo page with uvicorn."""
    import uvicorn

    if workers < 1:
        _fail(f"--workers must be >= 1, got {workers}", 2)
    settings = _settings()
    from bot.index import current_version

    if current_version(settings.index_path) is None:
        _fail(f"no index in {settings.index_path}; run `faqbot build` first", 2)
    os.environ["FAQBOT_SERVER_PROCESSES"] = str(workers)  # each process takes its share of the cores
    # Idle model threads sleep instead of spinning: on a busy small machine spinning threads burn
    # the cores the other requests need (see bot/compute.py). Read when torch loads, so set here.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    typer.echo(f"faqbot serving on http://{host}:{port} (demo page at /, widget at /widget.js)")
    from bot.api import uvicorn_options

    uvicorn.run(
        "bot.api:create_app", factory=True, host=host, port=port, workers=workers, **uvicorn_options(settings)
    )


@app.command()
def purge(
    days: Annotated[
        int | None, typer.Option(help="Keep this many days (default: FAQBOT_RETENTION_DAYS).")
    ] = None,
) -> None:
    """Delete missed queries and conversations older than the retention period."""
    import datetime as dt

    from bot.store import Store

    settings = _settings()
    keep = days if days is not None else settings.retention_days
    if keep < 1:
        _fail(f"--days must be >= 1, got {keep}", 2)
    store = Store.for_settings(settings.database_url, settings.var_path).open()
    try:
        counts = store.purge(dt.datetime.now(dt.UTC) - dt.timedelta(days=keep))
    finally:
        store.close()
    typer.echo(f"purged data older than {keep} days: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


def _store():
    from bot.store import Store

    settings = _settings()
    return Store.for_settings(settings.database_url, settings.var_path).open()


@app.command()
def missed(
    clusters: Annotated[bool, typer.Option("--clusters", help="Group them into topics by meaning.")] = False,
    lang: LangOption = None,
    limit: Annotated[int, typer.Option(help="How many (newest first).")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """The open missed questions (redacted): one per line, or topics with --clusters."""
    store = _store()
    try:
        rows, total = store.missed(lang=_check_lang(lang), limit=limit)
    finally:
        store.close()
    if clusters:
        from bot.cluster import MissedItem, cluster

        retriever = _load_bot(None).retriever
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

    store = _store()
    try:
        data = store.stats(dt.datetime.now(dt.UTC) - dt.timedelta(days=days))
    finally:
        store.close()
    typer.echo(json.dumps({"days": days, **data}, indent=2, ensure_ascii=False))


@app.command()
def chat(lang: LangOption = None, index: IndexOption = None) -> None:
    """An interactive conversation in the terminal (empty line or Ctrl-D to quit)."""
    bot = _load_bot(index)
    typer.echo(f"faqbot ({bot.retriever.version}): ask a question; an empty line or Ctrl-D quits.")
    state = ConversationState(lang=_check_lang(lang))
    while True:
        try:
            text = input("> ")
        except (EOFError, KeyboardInterrupt):
            typer.echo("")
            return
        if not text.strip():
            return
        reply, state = bot.reply(text, state, lang=_check_lang(lang))
        typer.echo(render(reply) + "\n")


@app.command("eval")
def evaluate_kb(
    kb: KbOption = None,
    index: IndexOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run the KB's evaluation set (kb_articles/eval/) through the bot; report quality per language."""
    from bot.evaluate import bot_asker, by_language, load_eval_set, run

    settings = _settings(kb, index)
    items = load_eval_set(settings.kb_path / "eval")
    if not items:
        _fail(f"no evaluation items in {settings.kb_path / 'eval'}", 2)
    bot = _load_bot(index)
    report = by_language(run(items, bot_asker(bot)))
    if as_json:
        typer.echo(json.dumps({"index_version": bot.retriever.version, "languages": report}))
    else:
        typer.echo(metrics_table(report, f"{len(items)} questions, index {bot.retriever.version}"))


@app.command()
def calibrate(
    kb: KbOption = None,
    index: IndexOption = None,
    target_wrong: Annotated[float, typer.Option(help="Highest acceptable share of wrong answers.")] = 0.05,
    plot: Annotated[Path | None, typer.Option(help="PNG to write (default: var/calibration.png).")] = None,
    write: Annotated[bool, typer.Option(help="Write the thresholds to faqbot.yaml.")] = True,
) -> None:
    """Pick answer/clarify thresholds from the evaluation set for a target wrong-answer rate."""
    from bot.calibrate import pick_thresholds
    from bot.calibrate import plot as draw
    from bot.config import update_config_file
    from bot.evaluate import bot_asker, load_eval_set, run

    if not 0.0 <= target_wrong < 1.0:
        _fail(f"--target-wrong must be in [0, 1), got {target_wrong}", 2)
    settings = _settings(kb, index)
    items = load_eval_set(settings.kb_path / "eval")
    if not items:
        _fail(f"no evaluation items in {settings.kb_path / 'eval'}", 2)
    bot = _load_bot(index)
    outcomes = run(items, bot_asker(bot))
    chosen = pick_thresholds(outcomes, target_wrong)
    image = draw(
        outcomes, chosen, plot or settings.var_path / "calibration.png", f"faqbot {bot.retriever.version}"
    )
    typer.echo(
        f"answer_threshold={chosen.answer_threshold} clarify_threshold={chosen.clarify_threshold} "
        f"(on {len(items)} questions: correct {chosen.correct:.1%}, wrong {chosen.wrong:.1%}, "
        f"clarify {chosen.clarify:.1%}, hand-off {chosen.handoff:.1%}); plot: {image}"
    )
    if write:
        values = {"answer_threshold": chosen.answer_threshold, "clarify_threshold": chosen.clarify_threshold}
        typer.echo(f"written to {update_config_file(settings, values)}")


@app.command()
def bench(
    folder: Annotated[Path, typer.Argument(help="Data set folder with kb.jsonl and queries.jsonl.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    target_wrong: Annotated[float, typer.Option(help="Wrong-answer rate the dev thresholds aim at.")] = 0.05,
    head_on_dev: Annotated[
        bool, typer.Option(help="Also train the classification head on the dev questions.")
    ] = True,
) -> None:
    """Quality on a benchmark data set: throw-away index, weights and thresholds fitted on dev,
    every figure reported on test."""
    from bot.bench import run_bench
    from bot.embed import load_embedder

    settings = _settings()
    try:
        report = run_bench(
            folder,
            settings,
            load_embedder(settings.model, settings.embed_batch_size),
            target_wrong,
            head_on_dev,
        )
    except (OSError, ValueError) as exc:
        _fail(f"bench failed: {exc}", 2)
    if as_json:
        typer.echo(json.dumps(report))
    else:
        typer.echo(
            metrics_table({"test": report}, f"{folder.name}: fitted on {report['n_dev']} dev questions")
        )


def metrics_table(report: dict[str, dict[str, float]], caption: str) -> str:
    """A readable table of `by_language` metrics."""
    from rich.console import Console
    from rich.table import Table

    columns = [
        "top1",
        "top3",
        "mrr10",
        "auroc",
        "correct",
        "wrong",
        "clarify",
        "handoff",
        "handoff_precision",
    ]
    table = Table("lang", "n_queries", *columns, "p50_ms", caption=caption)
    for lang, m in report.items():
        cells = [f"{m[c]:.3f}" for c in columns]
        table.add_row(lang, str(m["n_queries"]), *cells, f"{m['p50_ms']:.1f}")
    console = Console(width=160, record=True)
    with console.capture() as capture:
        console.print(table)
    return capture.get()


def _check_lang(lang: str | None) -> str | None:
    if lang is not None and lang not in ("it", "en"):
        _fail(f"--lang must be it or en, got {lang!r}", 2)
    return lang


def _load_bot(index: Path | None):
    from bot.service import load_bot

    try:
        return load_bot(_settings(index=index))
    except IndexError_ as exc:
        _fail(str(exc), 2)


def reply_json(reply: Reply, version: str) -> dict:
    """The machine-readable form of a reply (`faqbot ask --json`)."""
    return {
        "decision": reply.decision,
        "article_id": reply.article.article_id if reply.article else None,
        "title": reply.article.title if reply.article else None,
        "confidence": round(reply.confidence, 4),
        "lang": reply.lang,
        "reason": reply.reason,
        "text": reply.text,
        "suggestions": [
            {"article_id": s.article_id, "title": s.title, "score": round(s.score, 4)}
            for s in reply.suggestions
        ],
        "follow_ups": [{"article_id": s.article_id, "title": s.title} for s in reply.follow_ups],
        "latency_ms": round(reply.latency_ms, 2),
        "index_version": version,
    }


def render(reply: Reply) -> str:
    """A reply as a person reads it in a terminal."""
    if reply.article is None:
        return f"[{reply.decision}, confidence {reply.confidence:.2f}]\n{reply.text}"
    lines = [f"[{reply.decision}: {reply.article.article_id}, confidence {reply.confidence:.2f}]", reply.text]
    if reply.follow_ups:
        lines.append("→ " + " | ".join(s.title for s in reply.follow_ups))
    return "\n".join(lines)


from bot.channels.messenger.cli import app as messenger_app  # noqa: E402 - a sub-command group
from bot.spool_command import app as spool_app  # noqa: E402 - a sub-command group

app.add_typer(messenger_app, name="messenger")
app.add_typer(spool_app, name="spool")


def main() -> None:
    app()

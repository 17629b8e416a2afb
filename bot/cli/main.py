"""The `faqbot` command line: validate, build, ask, chat."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated

import typer

from bot.cli.common import (
    IndexOption,
    KbOption,
    LangOption,
    RetuneOption,
    check_lang,
    fail,
    load_bot,
    settings_for,
)
from bot.cli.gdpr import app as gdpr_app
from bot.dialogue.bot import ConversationState, Reply
from bot.dialogue.vocabulary import DecisionKind
from bot.kb.articles import InvalidKnowledgeBase, load_kb

app = typer.Typer(
    help="faqbot: answers customer questions from a Markdown knowledge base.", no_args_is_help=True
)
app.add_typer(gdpr_app, name="gdpr")


@app.command()
def validate(kb: KbOption = None) -> None:
    """Check every article; print errors and warnings with file and field. Exit 1 on errors."""
    settings = settings_for(kb)
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
def build(kb: KbOption = None, index: IndexOption = None, retune: RetuneOption = False) -> None:
    """Validate, tune the model on the KB (or reuse a tuned one), embed what changed, build a new
    index version and publish it atomically."""
    from bot.cli.progress import make_progress
    from bot.index.build import build_index
    from bot.retrieval.embedder import load_embedder

    settings = settings_for(kb, index)
    progress = make_progress(sys.stderr.isatty())
    try:
        with progress:
            embedder = load_embedder(settings.model, settings.embed_batch_size)
            result = build_index(settings.build, embedder, progress, retune=retune)
    except InvalidKnowledgeBase as exc:
        fail(str(exc))
    except (ValueError, OSError) as exc:
        fail(f"build failed, the live index is unchanged: {exc}")
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
    retune: RetuneOption = False,
) -> None:
    """Build a candidate, evaluate it, compare with the live index, publish or refuse.

    Exit 0: published; 1: a step failed (live index untouched); 3: refused by the quality gate."""
    from bot.cli.progress import LogProgress
    from bot.index.rebuild import RebuildStatus
    from bot.index.rebuild import rebuild as run_rebuild
    from bot.retrieval.embedder import load_embedder

    settings = settings_for(kb, index)
    log = LogProgress().step
    try:
        embedder = load_embedder(settings.model, settings.embed_batch_size)
        report = run_rebuild(settings.build, settings.dialogue, embedder, force, margin, log, retune)
    except InvalidKnowledgeBase as exc:
        fail(f"rebuild failed, the live index is unchanged:\n{exc}")
    except Exception as exc:
        fail(f"rebuild failed, the live index is unchanged: {type(exc).__name__}: {exc}")
    typer.echo(f"{report.status}: candidate {report.candidate}, serving {report.live_after}")
    if report.status == RebuildStatus.REFUSED:
        raise typer.Exit(3)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The customer's question.")],
    lang: LangOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    index: IndexOption = None,
) -> None:
    """Answer one question and print the decision (answer, clarify or handoff)."""
    bot = load_bot(index)
    if not question.strip():
        fail("the question is empty", 2)
    reply, _ = bot.reply(question, lang=check_lang(lang))
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
        fail(f"--workers must be >= 1, got {workers}", 2)
    settings = settings_for()
    from bot.index.versions import current_version

    if current_version(settings.index_path) is None:
        fail(f"no index in {settings.index_path}; run `faqbot build` first", 2)
    os.environ["FAQBOT_SERVER_PROCESSES"] = str(workers)  # each process takes its share of the cores
    # Idle model threads sleep instead of spinning: on a busy small machine spinning threads burn
    # the cores the other requests need (see bot/retrieval/compute.py). Read when torch loads, so set here.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    typer.echo(f"faqbot serving on http://{host}:{port} (demo page at /, widget at /widget.js)")
    from bot.web.app import uvicorn_options

    uvicorn.run(
        "bot.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **uvicorn_options(settings),
    )


@app.command()
def chat(lang: LangOption = None, index: IndexOption = None) -> None:
    """An interactive conversation in the terminal (empty line or Ctrl-D to quit)."""
    bot = load_bot(index)
    typer.echo(f"faqbot ({bot.retriever.version}): ask a question; an empty line or Ctrl-D quits.")
    state = ConversationState(lang=check_lang(lang))
    while True:
        try:
            text = input("> ")
        except (EOFError, KeyboardInterrupt):
            typer.echo("")
            return
        if not text.strip():
            return
        reply, state = bot.reply(text, state, lang=check_lang(lang))
        typer.echo(render(reply) + "\n")


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
    if reply.decision == DecisionKind.SMALLTALK:  # no search ran: there is no confidence to show
        return f"[{reply.decision}: {reply.reason}]\n{reply.text}"
    if reply.article is None:
        return f"[{reply.decision}, confidence {reply.confidence:.2f}]\n{reply.text}"
    lines = [f"[{reply.decision}: {reply.article.article_id}, confidence {reply.confidence:.2f}]", reply.text]
    if reply.follow_ups:
        lines.append("→ " + " | ".join(s.title for s in reply.follow_ups))
    return "\n".join(lines)


from bot.channels.instagram.cli import app as instagram_app  # noqa: E402 - a sub-command group
from bot.channels.messenger.cli import app as messenger_app  # noqa: E402 - a sub-command group
from bot.channels.whatsapp.cli import app as whatsapp_app  # noqa: E402 - a sub-command group
from bot.cli.agents import app as agents_app  # noqa: E402 - a sub-command group
from bot.cli.exchange import app as exchange_app  # noqa: E402 - import, export
from bot.cli.quality import app as quality_app  # noqa: E402 - eval, calibrate, bench
from bot.cli.spool import app as spool_app  # noqa: E402 - a sub-command group
from bot.cli.staff import app as staff_app  # noqa: E402 - missed, stats, purge

# same level as the commands above: `faqbot missed`, `faqbot import`, …
for commands in (staff_app, quality_app, exchange_app):
    app.registered_commands.extend(commands.registered_commands)
app.add_typer(messenger_app, name="messenger")
app.add_typer(whatsapp_app, name="whatsapp")
app.add_typer(instagram_app, name="instagram")
app.add_typer(agents_app, name="agents")
app.add_typer(spool_app, name="spool")


def main() -> None:
    app()

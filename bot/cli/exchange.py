"""`faqbot import` and `faqbot export`: the FAQ a team already has, in and out."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import KbOption, check_lang, fail, settings_for

app = typer.Typer()


@app.command("import")
def import_command(
    source: Annotated[
        Path,
        typer.Argument(
            help="A file (CSV, TSV, XLSX, JSON, JSONL, a help-center export) or a folder of pages."
        ),
    ],
    fmt: Annotated[
        str, typer.Option("--format", help="auto|csv|xlsx|json|jsonl|zendesk|freshdesk|intercom|folder")
    ] = "auto",
    lang: Annotated[
        str | None, typer.Option(help="Every entry's language (it|en); else the source's, else detected.")
    ] = None,
    kb: KbOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would change; write nothing.")
    ] = False,
    status: Annotated[
        str | None,
        typer.Option(
            help="draft|published for every article written (default: the source's; new ones published)."
        ),
    ] = None,
    prune: Annotated[
        bool, typer.Option(help="Archive (set as draft) the articles this source no longer holds.")
    ] = False,
    origin: Annotated[
        str | None,
        typer.Option(
            help="The source's name, which a re-import matches by "
            "(default: the file's name, or the help center's)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON.")] = False,
) -> None:
    """Import an FAQ: each entry becomes kb_articles/<lang>/<id>.md. Importing the same source again
    updates the same articles and keeps the questions staff added; nothing is deleted."""
    from bot.exchange.apply import import_faq
    from bot.exchange.plan import Options

    check_lang(lang)
    if status not in (None, "draft", "published"):
        fail(f"--status must be draft or published, got {status!r}", 2)
    settings = settings_for(kb)
    with _bar(sys.stderr.isatty() and not as_json) as progress:
        try:
            report = import_faq(
                source,
                settings.kb_path,
                fmt,
                Options(lang=lang, status=status, prune=prune),
                dry_run,
                origin,
                progress,
            )
        except ValueError as exc:
            fail(f"import failed: {exc}", 2)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
        return
    for finding in report.findings:
        typer.echo(str(finding), err=True)
    would = "would be " if dry_run else ""
    typer.echo(
        f"{report.source} ({report.format}, source {report.origin!r}) into {settings.kb_path}: "
        f"{len(report.created)} {would}created, {len(report.updated)} {would}updated, "
        f"{report.unchanged} unchanged, {report.skipped} skipped"
        + (f", {len(report.archived)} {would}archived" if report.archived else "")
    )
    if report.gone:
        shown = ", ".join(report.gone[:10]) + (" …" if len(report.gone) > 10 else "")
        typer.echo(
            f"{len(report.gone)} articles of this source are gone from it "
            f"(kept; --prune archives them): {shown}"
        )
    if not dry_run and (report.created or report.updated or report.archived):
        typer.echo("Next: faqbot build (or wait for the nightly rebuild) to serve them.")


@app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="The file to write.")],
    fmt: Annotated[str, typer.Option("--format", help="csv|xlsx|json")] = "csv",
    kb: KbOption = None,
) -> None:
    """Every article with its questions, tags, language, status and answer; `faqbot import` reads
    the file back into the same articles."""
    from bot.exchange.export import export_kb
    from bot.kb.articles import InvalidKnowledgeBase

    settings = settings_for(kb)
    try:
        count = export_kb(settings.kb_path, fmt, out)
    except (ValueError, InvalidKnowledgeBase) as exc:
        fail(f"export failed: {exc}", 2)
    typer.echo(f"{count} articles written to {out}")


class _bar:
    """A progress bar over the articles written, on a terminal; nothing otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar = None
        self.task = None

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.progress import Progress

        self.bar = Progress(transient=True)
        self.bar.__enter__()
        return self.advance

    def advance(self, done: int, total: int) -> None:
        if self.task is None:
            self.task = self.bar.add_task("writing articles", total=total)
        self.bar.update(self.task, completed=done)

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

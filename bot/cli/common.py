"""What the `faqbot` commands share: their options, settings, failing with a message, the bot."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.config import Settings
from bot.index.artefacts import IndexError_

KbOption = Annotated[Path | None, typer.Option("--kb", help="Knowledge-base folder (default: kb_articles).")]
IndexOption = Annotated[Path | None, typer.Option("--index", help="Index folder (default: index).")]
RetuneOption = Annotated[
    bool, typer.Option("--retune", help="Tune the model on the KB afresh, even if a tuned one fits.")
]
LangOption = Annotated[
    str | None, typer.Option("--lang", help="Customer's language (it|en); detected if omitted.")
]


def settings_for(kb: Path | None = None, index: Path | None = None) -> Settings:
    overrides = {k: v for k, v in {"kb_dir": kb, "index_dir": index}.items() if v is not None}
    return Settings(**overrides)


def fail(message: str, code: int = 1) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def check_lang(lang: str | None) -> str | None:
    if lang is not None and lang not in ("it", "en"):
        fail(f"--lang must be it or en, got {lang!r}", 2)
    return lang


def load_bot(index: Path | None):
    from bot.compose import load_bot as load

    try:
        return load(settings_for(index=index))
    except IndexError_ as exc:
        fail(str(exc), 2)


def open_store():
    """The configured store, opened (the caller closes it)."""
    from bot.compose import open_store as open_configured

    return open_configured(settings_for().storage)

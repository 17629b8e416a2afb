"""`faqbot spool …`: what waits in this machine's spool, and replaying it by hand.

Running servers replay their own spool; these commands are for what stopped servers left behind
(or spool files copied from a machine that is gone), e.g. before retiring a machine."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    help="Turns taken while the database was unreachable, waiting to be stored.", no_args_is_help=True
)

DirOption = Annotated[
    str | None, typer.Option("--dir", help="Spool directory (default: FAQBOT_SPOOL_DIR, or var/spool).")
]


def _open(directory: str | None):
    from pathlib import Path

    from bot.config import Settings
    from bot.durability.spool import Spool

    settings = Settings()
    spool = Spool(Path(directory) if directory else settings.spool_path).open()
    spool.adopt()
    return settings, spool


@app.command()
def status(directory: DirOption = None) -> None:
    """How many records wait (those of running servers are theirs, and not counted)."""
    settings, spool = _open(directory)
    try:
        typer.echo(f"{spool.pending()} records wait in {spool.directory} (left by servers that stopped)")
    finally:
        spool.close()
    if directory is None and settings.inbox_path.is_dir():
        from bot.durability.spool import Spool

        inbox = Spool(settings.inbox_path, key="user").open()
        try:
            inbox.adopt()
            typer.echo(
                f"{inbox.pending()} channel events wait in {inbox.directory} "
                "(handled by the next server started with that channel configured)"
            )
        finally:
            inbox.close()


@app.command()
def drain(directory: DirOption = None) -> None:
    """Replay what stopped servers left into the database now; exit 1 if some could not be."""
    from bot.compose import open_store
    from bot.durability.replay import Replayer
    from bot.storage.store import StoreUnavailable

    settings, spool = _open(directory)
    try:
        try:
            store = open_store(settings.storage)
        except StoreUnavailable as exc:
            typer.echo(f"database unreachable, {spool.pending()} records still wait: {exc}", err=True)
            raise typer.Exit(1) from exc
        try:
            done = Replayer(store, spool).drain()
        finally:
            store.close()
        typer.echo(
            f"replayed {done.applied} records ({done.duplicates} were stored already, "
            f"{done.rejected} set aside in rejected.jsonl); {done.left} still wait"
        )
        if done.left:
            raise typer.Exit(1)
    finally:
        spool.close()

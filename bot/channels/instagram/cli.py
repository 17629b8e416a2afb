"""`faqbot instagram …`: check the Instagram set-up (the linked Page, the account, the app's
subscription) against the Graph API."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="The Instagram Direct channel.", no_args_is_help=True)


@app.command()
def setup(
    apply: Annotated[
        bool, typer.Option("--apply", help="Subscribe the app to the Page's messages field if it is not.")
    ] = False,
) -> None:
    """Check with FAQBOT_INSTAGRAM_PAGE_TOKEN: the Page, the Instagram account linked to it
    (FAQBOT_INSTAGRAM_ACCOUNT_ID) and the app's subscription to the Page (with --apply, add it)."""
    from bot.channels.graph.errors import GraphError
    from bot.channels.instagram.setup import check
    from bot.channels.messenger.graph import GraphClient
    from bot.config import Settings

    settings = Settings().instagram
    if settings.page_token is None:
        typer.echo("set FAQBOT_INSTAGRAM_PAGE_TOKEN to the linked Page's access token first", err=True)
        raise typer.Exit(2)
    if settings.app_secret is None:
        typer.echo(
            "warning: FAQBOT_INSTAGRAM_APP_SECRET is not set: the webhook refuses every delivery", err=True
        )
    graph = GraphClient.for_settings(settings)
    try:
        report = check(graph, settings, apply)
    except GraphError as exc:
        typer.echo(f"failed: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        graph.close()
    for line in report.lines:
        typer.echo(line)
    for problem in report.problems:
        typer.echo(f"problem: {problem}", err=True)
    if report.problems:
        raise typer.Exit(1)

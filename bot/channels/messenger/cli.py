"""`faqbot messenger …`: set a Facebook Page up for the bot."""

from __future__ import annotations

import json
from typing import Annotated

import typer

app = typer.Typer(help="The Facebook Messenger channel.", no_args_is_help=True)


@app.command()
def setup(
    apply: Annotated[
        bool, typer.Option("--apply", help="Make the calls (default: only print them).")
    ] = False,
) -> None:
    """Print the Page settings calls (webhook fields, greeting, Get started, menu in it/en); with
    --apply, make them with FAQBOT_MESSENGER_PAGE_TOKEN."""
    from bot.channels.messenger.graph import GraphClient, GraphError
    from bot.channels.messenger.profile import setup_calls
    from bot.config import Settings

    settings = Settings()
    base = f"{settings.messenger_graph_url.rstrip('/')}/{settings.messenger_graph_version}"
    calls = setup_calls(settings.default_lang, settings.languages)
    if not apply:
        for call in calls:
            typer.echo(f"# {call.purpose}")
            typer.echo(f"POST {base}/{call.path}?access_token=$FAQBOT_MESSENGER_PAGE_TOKEN")
            typer.echo(json.dumps(call.body, indent=2, ensure_ascii=False) + "\n")
        typer.echo("Run again with --apply to make these calls.")
        return
    if settings.messenger_page_token is None:
        typer.echo("set FAQBOT_MESSENGER_PAGE_TOKEN to the Page access token first", err=True)
        raise typer.Exit(2)
    graph = GraphClient.for_settings(settings.messenger)
    try:
        for call in calls:
            graph.post(call.path, call.body)
            typer.echo(f"done: {call.purpose}")
    except GraphError as exc:
        typer.echo(f"failed: {call.purpose}: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        graph.close()

"""`faqbot agents add|list|password|disable`: the people who sign in to the console."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.config import Settings

app = typer.Typer(help="Agent accounts for the staff console.", no_args_is_help=True)


def _open():
    from bot.compose import open_store  # imported when used: `faqbot --help` stays quick

    return open_store(Settings().storage)


def _password(given: str | None) -> str:
    if given is not None:
        return given
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The agent's name, as customers and colleagues see it.")],
    lang: Annotated[str, typer.Option(help="The console's language for this agent: it or en.")] = "it",
    password: Annotated[
        str | None, typer.Option(help="The password (asked for, hidden, when not given).")
    ] = None,
) -> None:
    """Create an agent, who signs in to the console with their name and password."""
    from bot.service.agents import add_agent

    store = _open()
    try:
        agent = add_agent(store, name, lang, _password(password))
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        store.close()
    typer.echo(f"agent {agent.name!r} created ({agent.lang}): they sign in at /admin with this password")


@app.command("list")
def list_agents() -> None:
    """The agents, and whether each may sign in."""
    store = _open()
    try:
        for agent in store.agents():
            state = "disabled" if agent.disabled_at else "active"
            typer.echo(f"{agent.name}\t{agent.lang}\t{state}")
    finally:
        store.close()


@app.command("password")
def password(
    name: str, new: Annotated[str | None, typer.Option("--password", help="The new password.")] = None
) -> None:
    """Set an agent's password."""
    from bot.service.agents import set_password

    store = _open()
    try:
        set_password(store, name, _password(new))
    except (ValueError, LookupError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        store.close()
    typer.echo(f"password of {name!r} changed")


@app.command("disable")
def disable(name: str) -> None:
    """Stop an agent from signing in (what they wrote stays, with their name)."""
    store = _open()
    try:
        store.disable_agent(name)
    except LookupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        store.close()
    typer.echo(f"agent {name!r} disabled")

"""`faqbot agents add|list|password|disable`: the people who sign in to the console."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from bot.cli.common import fail, open_store

app = typer.Typer(help="Agent accounts for the staff console.", no_args_is_help=True)


@contextmanager
def _agents() -> Iterator:
    """The store, closed afterwards; a refused change (a taken name, a short password, an unknown
    agent) exits with code 1 and says why."""
    store = open_store()
    try:
        yield store
    except (ValueError, LookupError) as exc:
        fail(f"error: {exc.args[0] if exc.args else exc}")
    finally:
        store.close()


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

    with _agents() as store:
        agent = add_agent(store, name, lang, _password(password))
    typer.echo(f"agent {agent.name!r} created ({agent.lang}): they sign in at /admin with this password")


@app.command("list")
def list_agents() -> None:
    """The agents, and whether each may sign in."""
    with _agents() as store:
        for agent in store.agents():
            typer.echo(f"{agent.name}\t{agent.lang}\t{'disabled' if agent.disabled_at else 'active'}")


@app.command("password")
def password(
    name: str, new: Annotated[str | None, typer.Option("--password", help="The new password.")] = None
) -> None:
    """Set an agent's password."""
    from bot.service.agents import set_password

    with _agents() as store:
        set_password(store, name, _password(new))
    typer.echo(f"password of {name!r} changed")


@app.command("disable")
def disable(name: str) -> None:
    """Stop an agent from signing in (what they wrote stays, with their name)."""
    with _agents() as store:
        store.disable_agent(name)
    typer.echo(f"agent {name!r} disabled")

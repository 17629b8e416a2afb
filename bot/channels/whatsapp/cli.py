"""`faqbot whatsapp …`: check a WhatsApp business number's set-up against the Graph API."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="The WhatsApp Business channel.", no_args_is_help=True)


@app.command()
def setup(
    apply: Annotated[
        bool,
        typer.Option("--apply", help="Subscribe the app to the business account's webhooks if it is not."),
    ] = False,
) -> None:
    """Check the configuration: the phone number (display number, verified name, quality rating)
    and, with FAQBOT_WHATSAPP_BUSINESS_ACCOUNT_ID, the app's subscription to the account's
    webhooks (with --apply, subscribe it)."""
    from bot.channels.graph.errors import GraphError
    from bot.channels.whatsapp.graph import WhatsAppGraph
    from bot.config import Settings

    settings = Settings().whatsapp
    needed = [n for n in settings.missing() if n != "FAQBOT_WHATSAPP_APP_SECRET"]
    if needed:
        typer.echo(f"set {' and '.join(needed)} first", err=True)
        raise typer.Exit(2)
    if settings.app_secret is None:
        typer.echo(
            "warning: FAQBOT_WHATSAPP_APP_SECRET is not set: the webhook refuses every delivery", err=True
        )
    graph = WhatsAppGraph(settings, attempts=2)
    try:
        _check_number(graph, settings.phone_number_id or "")
        if settings.business_account_id:
            _check_subscription(graph, settings.business_account_id, apply)
        else:
            typer.echo(
                "business account: FAQBOT_WHATSAPP_BUSINESS_ACCOUNT_ID not set, subscription not checked"
            )
    except GraphError as exc:
        typer.echo(f"failed: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        graph.close()
    if settings.agent_template:
        language = settings.agent_template_lang or "the conversation's language"
        typer.echo(f"late agent replies: template {settings.agent_template!r} in {language}")
    else:
        typer.echo("late agent replies: no template (FAQBOT_WHATSAPP_AGENT_TEMPLATE): refused after 24 hours")


def _check_number(graph, phone_number_id: str) -> None:
    from bot.channels.graph.errors import GraphError

    try:
        number = graph.phone_number()
    except GraphError as exc:
        hint = {190: "the access token is not valid", 100: f"no phone number with id {phone_number_id}"}
        raise GraphError(
            exc.status, exc.code, exc.subcode, hint.get(exc.code or 0, exc.detail), exc.trace
        ) from None
    shown, name = number.get("display_phone_number", "?"), number.get("verified_name", "?")
    quality = number.get("quality_rating", "?")
    typer.echo(f"phone number {phone_number_id}: {shown}, verified name {name!r}, quality rating {quality}")
    if str(number.get("quality_rating", "")).upper() == "RED":
        typer.echo("warning: quality rating RED: WhatsApp may limit what this number sends", err=True)


def _check_subscription(graph, business_account_id: str, apply: bool) -> None:
    apps = graph.subscribed_apps(business_account_id)
    if apps:
        names = ", ".join(str((a.get("whatsapp_business_api_data") or {}).get("name") or "?") for a in apps)
        typer.echo(f"business account {business_account_id}: webhooks go to {names}")
        return
    if not apply:
        typer.echo(f"business account {business_account_id}: no app subscribed to its webhooks; "
                   "run again with --apply to subscribe this one", err=True)  # fmt: skip
        raise typer.Exit(1)
    graph.subscribe(business_account_id)
    typer.echo(f"business account {business_account_id}: this app subscribed to its webhooks")

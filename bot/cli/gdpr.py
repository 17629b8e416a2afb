"""`faqbot gdpr export|erase`: answer a customer's access or erasure request from the terminal."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from bot.config import Settings

app = typer.Typer(
    help="Data-protection requests: export or erase a customer's conversations.", no_args_is_help=True
)

ConversationOption = Annotated[
    list[str] | None,
    typer.Option("--conversation", help="A conversation id (c_…); repeat for several."),
]
MessengerOption = Annotated[
    str | None, typer.Option("--messenger-user", help="A Messenger user's page-scoped id (PSID).")
]
InstagramOption = Annotated[
    str | None, typer.Option("--instagram-user", help="An Instagram user's scoped id (IGSID).")
]
WhatsAppOption = Annotated[
    str | None,
    typer.Option("--whatsapp-user", help="A WhatsApp user's id (wa_id: the phone number, digits only)."),
]


def _open():
    from bot.compose import open_store  # imported when used: `faqbot --help` stays quick

    return open_store(Settings().storage)


def _spools() -> list[Path]:
    """This machine's spool directories: turns, and channel events (Messenger's, and each other
    channel's in its own directory; see `faqbot spool`)."""
    settings = Settings()
    inbox = settings.inbox_path
    channels = sorted(p for p in inbox.iterdir() if p.is_dir()) if inbox.is_dir() else []
    return [settings.spool_path, inbox, *channels]


def _subject(
    store,
    conversation: list[str] | None,
    messenger_user: str | None,
    whatsapp_user: str | None = None,
    instagram_user: str | None = None,
) -> list[str]:
    """The conversation ids the request is about; exactly one way of naming the customer."""
    from bot.service.gdpr import MessengerLookupUnavailable, channel_conversations, messenger_conversations

    if sum(map(bool, (conversation, messenger_user, whatsapp_user, instagram_user))) != 1:
        typer.echo(
            "give one of --conversation ID (repeatable), --messenger-user PSID, --whatsapp-user WA_ID "
            "or --instagram-user IGSID",
            err=True,
        )
        raise typer.Exit(2)
    if conversation:
        return conversation
    try:
        if whatsapp_user:
            return channel_conversations(store, "whatsapp", whatsapp_user)
        if instagram_user:
            return channel_conversations(store, "instagram", instagram_user)
        return messenger_conversations(store, messenger_user or "")
    except MessengerLookupUnavailable as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc


@app.command("export")
def export_command(
    conversation: ConversationOption = None,
    messenger_user: MessengerOption = None,
    whatsapp_user: WhatsAppOption = None,
    instagram_user: InstagramOption = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write the JSON here instead of stdout.")] = None,
) -> None:
    """Everything stored about the customer's conversations, as one JSON object: messages,
    feedback, hand-off tickets and missed questions; and, under "spooled", what this machine's
    spool still holds for the database (turns and Messenger events taken during an outage)."""
    from bot.service.gdpr import export, export_spooled

    store = _open()
    try:
        ids = _subject(store, conversation, messenger_user, whatsapp_user, instagram_user)
        request = {
            "conversation_ids": ids, "messenger_user": messenger_user, "whatsapp_user": whatsapp_user,
            "instagram_user": instagram_user,
        }  # fmt: skip
        data = {"request": request, **export(store, ids)}
    finally:
        store.close()
    users = [u for u in (messenger_user, whatsapp_user, instagram_user) if u]
    data["spooled"] = export_spooled(_spools(), ids, users)
    if data["spooled"]:
        typer.echo(
            f"{len(data['spooled'])} records are still in this machine's spool, not yet in the database: "
            'they are under "spooled"; other machines\' spools are not searched',
            err=True,
        )
    text = json.dumps(data, ensure_ascii=False, indent=2)
    if out is None:
        typer.echo(text)
        return
    # a customer's personal data: readable by whoever ran the export only
    with os.fdopen(
        os.open(out, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600), "w", encoding="utf-8"
    ) as handle:
        handle.write(text + "\n")
    out.chmod(0o600)
    typer.echo(f"{len(data['conversations'])} conversations written to {out}", err=True)


@app.command("erase")
def erase_command(
    conversation: ConversationOption = None,
    messenger_user: MessengerOption = None,
    whatsapp_user: WhatsAppOption = None,
    instagram_user: InstagramOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete the customer's conversations with their messages, feedback, tickets and missed
    questions, in one transaction, and their records waiting in this machine's spool; prints how
    many of each went, as JSON."""
    from bot.service.gdpr import erase_everywhere

    store = _open()
    try:
        ids = _subject(store, conversation, messenger_user, whatsapp_user, instagram_user)
        if not yes:
            typer.confirm(f"Erase {len(ids)} conversation(s) and everything attached?", abort=True)
        users = [u for u in (messenger_user, whatsapp_user, instagram_user) if u]
        counts = erase_everywhere(store, _spools(), ids, users)
    finally:
        store.close()
    if counts["spooled_held"]:
        typer.echo(
            f"{counts['spooled_held']} spooled records are in files of running servers: they will "
            "never be replayed, and go at those servers' next replay",
            err=True,
        )
    typer.echo(json.dumps(counts))

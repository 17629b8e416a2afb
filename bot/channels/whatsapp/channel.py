"""The WhatsApp channel assembled from settings and started with the app: Graph client, event
handler, background workers with their durable inbox, the outbox, and agents' replies."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.channels.graph.channel import RunningChannel, configured
from bot.channels.graph.deliveries import Deliveries
from bot.channels.whatsapp.agents import AgentReplies
from bot.channels.whatsapp.events import CHANNEL, CODEC
from bot.channels.whatsapp.graph import WhatsAppGraph
from bot.channels.whatsapp.handler import Handler
from bot.channels.whatsapp.sender import Sender
from bot.config import Settings
from bot.durability.spool import Spool
from bot.service.chat import ChatService, Turn
from bot.service.outbound import ChannelOutbound, Outbound
from bot.storage.channel_threads import Threads

log = logging.getLogger("faqbot.whatsapp")


class WhatsApp(RunningChannel):
    """A running WhatsApp channel."""

    def __init__(
        self,
        settings: Settings,
        chat: ChatService,
        observe: Callable[[Turn], None] | None = None,
        on_send_failure: Callable[[str], None] | None = None,
    ) -> None:
        whatsapp = settings.whatsapp
        if not whatsapp.configured:
            raise ValueError(f"WhatsApp needs {' and '.join(whatsapp.missing())}")
        self.settings, self.config = settings, whatsapp
        self.name, self.interval = CHANNEL, settings.replay_interval
        self.phone_number_id = whatsapp.phone_number_id
        self.graph = WhatsAppGraph(whatsapp)
        self.threads = Threads(chat.store, CHANNEL)
        self.sender = Sender(
            self.graph, chat.store, echo_grace=whatsapp.echo_grace, backoff=whatsapp.send_backoff,
            on_failure=on_send_failure,
        )  # fmt: skip
        self.agents = AgentReplies(
            self.threads, self.sender, whatsapp.agent_template, whatsapp.agent_template_lang,
            settings.default_lang,
        )  # fmt: skip
        handler = Handler(
            chat, self.threads, self.graph, self.sender, settings.default_lang, settings.max_text_chars,
            observe, on_send_failure,
        )  # fmt: skip
        inbox = None
        if settings.spool:  # deliveries are kept on disk before Meta gets its 200
            directory = settings.inbox_path / CHANNEL  # its own spool: Messenger's replays only its own
            inbox = Spool(directory, settings.spool_max_mb * 2**20, key="user").open()
        self.deliveries = Deliveries(handler, CODEC, whatsapp.workers, inbox, settings.replay_interval)
        self.dispatcher = self.deliveries.dispatcher

    def outbound_of(self) -> ChannelOutbound:
        return self.agents


def start_whatsapp(
    settings: Settings,
    chat: ChatService,
    outbound: Outbound,
    observe: Callable[[Turn], None] | None = None,
    on_send_failure: Callable[[str], None] | None = None,
) -> WhatsApp | None:
    """The running channel, or None when WhatsApp is not configured (its webhook then answers 404).
    Half a configuration (some settings given, others missing or empty) is said in the log."""
    whatsapp = settings.whatsapp
    if not configured("WhatsApp", whatsapp.missing(), 3, whatsapp.verify_token, log):
        return None
    log.info("WhatsApp channel on, Graph API at %s", whatsapp.graph_url)
    return WhatsApp(settings, chat, observe, on_send_failure).start(outbound)

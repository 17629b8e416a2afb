"""The Messenger channel assembled from settings and started with the app: Graph client, event
handler, background workers with their durable inbox, and delivery of staff replies. Instagram
Direct is a second instance of it (bot.channels.instagram), with its own platform and settings."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.channels.graph.channel import RunningChannel, configured
from bot.channels.graph.deliveries import Deliveries
from bot.channels.messenger.events import codec
from bot.channels.messenger.graph import GraphClient
from bot.channels.messenger.handler import Handler
from bot.channels.messenger.handover import Handover
from bot.channels.messenger.platform import MESSENGER, Platform
from bot.channels.messenger.sender import Sender
from bot.config import MessengerSettings, Settings
from bot.durability.spool import Spool
from bot.service.chat import ChatService, Turn
from bot.service.outbound import ChannelOutbound, Outbound
from bot.storage.channel_threads import Threads

log = logging.getLogger("faqbot.messenger")


class Messenger(RunningChannel):
    """A running Messenger channel (or, with `platform` INSTAGRAM and its settings, Instagram's)."""

    def __init__(
        self,
        settings: Settings,
        chat: ChatService,
        observe: Callable[[Turn], None] | None = None,
        on_send_failure: Callable[[str], None] | None = None,
        platform: Platform = MESSENGER,
        config: MessengerSettings | None = None,
    ) -> None:
        messenger = config if config is not None else settings.messenger
        if not messenger.configured:
            raise ValueError(f"{platform.name} needs {' and '.join(messenger.missing())}")
        self.settings, self.config, self.platform = settings, messenger, platform
        self.name, self.interval = platform.channel, settings.replay_interval
        self.graph = GraphClient.for_settings(messenger)
        self.threads = Threads(chat.store, platform.channel)
        self.sender = Sender(
            self.graph,
            chat.store,
            echo_grace=messenger.echo_grace,
            backoff=messenger.send_backoff,
            on_failure=on_send_failure,
            platform=platform,
        )
        self.handover = Handover(
            self.graph, self.threads, messenger.inbox_app_id, messenger.app_id, messenger.human_agent_tag,
            sender=self.sender, inbox=chat.inbox, platform=platform,
        )  # fmt: skip
        handler = Handler(
            chat,
            self.threads,
            self.graph,
            self.handover,
            settings.default_lang,
            settings.max_text_chars,
            messenger.typing_after,
            observe,
            platform=platform,
        )
        inbox = None
        if settings.spool:  # deliveries are kept on disk before Meta gets its 200
            directory = settings.inbox_path
            if platform.inbox_dir:  # its own spool: each channel replays only its own events
                directory = directory / platform.inbox_dir
            inbox = Spool(directory, settings.spool_max_mb * 2**20, key="user").open()
        events = codec(platform)
        self.deliveries = Deliveries(handler, events, messenger.workers, inbox, settings.replay_interval)
        self.dispatcher = self.deliveries.dispatcher

    def outbound_of(self) -> ChannelOutbound:
        return self.handover


def start_messenger(
    settings: Settings,
    chat: ChatService,
    outbound: Outbound,
    observe: Callable[[Turn], None] | None = None,
    on_send_failure: Callable[[str], None] | None = None,
) -> Messenger | None:
    """The running channel, or None when Messenger is not configured (its webhook then answers 404).
    Half a configuration (one secret set, another missing or empty) is said in the log."""
    messenger = settings.messenger
    if not configured("Messenger", messenger.missing(), 2, messenger.verify_token, log):
        return None
    log.info("Messenger channel on, Graph API at %s", settings.messenger_graph_url)
    return Messenger(settings, chat, observe, on_send_failure).start(outbound)

"""The Instagram channel: the Messenger channel (bot.channels.messenger) run with Instagram's
platform (webhook object, 1000-character texts, no profile locale) and FAQBOT_INSTAGRAM_* settings,
replying through the Send API of the Page linked to the Instagram account."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.channels.graph.channel import configured
from bot.channels.messenger.channel import Messenger
from bot.channels.messenger.platform import INSTAGRAM
from bot.config import Settings
from bot.service.chat import ChatService, Turn
from bot.service.outbound import Outbound

log = logging.getLogger("faqbot.instagram")


def start_instagram(
    settings: Settings,
    chat: ChatService,
    outbound: Outbound,
    observe: Callable[[Turn], None] | None = None,
    on_send_failure: Callable[[str], None] | None = None,
) -> Messenger | None:
    """The running channel, or None when Instagram is not configured (its webhook then answers 404).
    Half a configuration (one secret set, another missing or empty) is said in the log."""
    instagram = settings.instagram
    if not configured("Instagram", instagram.missing(), 2, instagram.verify_token, log):
        return None
    log.info("Instagram channel on, Graph API at %s", instagram.graph_url)
    channel = Messenger(settings, chat, observe, on_send_failure, platform=INSTAGRAM, config=instagram)
    return channel.start(outbound)

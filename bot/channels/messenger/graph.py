"""The Messenger Graph API calls: Send API, Handover Protocol and Page settings, over the shared
Graph client (bot.channels.graph: retries, errors, the token kept out of logs).

The names this module has always offered (GraphError, TRANSIENT_CODES, KNOWN_FINAL_CODES…) are
re-exported from there.
"""

from __future__ import annotations

import json
from typing import Any

from bot.channels.graph.client import TOKEN_IN_URL as _TOKEN
from bot.channels.graph.client import Graph
from bot.channels.graph.client import HideToken as _HideToken
from bot.channels.graph.errors import KNOWN_FINAL_CODES, TRANSIENT_CODES, GraphError
from bot.channels.graph.errors import answer as _answer
from bot.channels.graph.errors import regain_minutes as _regain_minutes
from bot.channels.graph.errors import wait_named as _wait_named
from bot.config import MessengerSettings

__all__ = [
    "KNOWN_FINAL_CODES", "METADATA_LIMIT", "TRANSIENT_CODES", "GraphClient", "GraphError",
    "_HideToken", "_TOKEN", "_answer", "_regain_minutes", "_wait_named", "bounded_metadata",
    "message_body",
]  # fmt: skip

METADATA_LIMIT = 1000  # characters of a message's or a thread-control call's metadata


class GraphClient(Graph):
    """Calls `{base_url}/{version}/me/...` with the Page access token."""

    def __init__(
        self,
        base_url: str,
        version: str,
        token: str,
        timeout: float = 10.0,
        attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
    ) -> None:
        if not token:
            raise ValueError("the Page access token must not be empty")
        super().__init__(
            base_url, version, token, timeout, attempts, backoff, max_backoff, logger="faqbot.messenger"
        )

    @classmethod
    def for_settings(cls, settings: MessengerSettings) -> GraphClient:
        """The client of the configured Page; the channel and `faqbot messenger setup` both use it.

        (Not in bot.compose, which sits under the channels and may not import them.)"""
        if settings.page_token is None:
            raise ValueError("set FAQBOT_MESSENGER_PAGE_TOKEN to the Page access token")
        token = settings.page_token.get_secret_value()
        return cls(
            settings.graph_url,
            settings.graph_version,
            token,
            timeout=settings.send_timeout,
            backoff=settings.send_backoff,
        )

    def send(
        self,
        psid: str,
        message: dict,
        messaging_type: str = "RESPONSE",
        tag: str | None = None,
        attempts: int | None = None,
    ) -> dict:
        """Send one message (`{"text": …, "quick_replies": […]}`) to the user `psid`. A send that
        is `unsure` is not sent again here: the Send API has no idempotency key, so whoever
        called decides (see bot.channels.messenger.sender)."""
        return self.post("me/messages", message_body(psid, message, messaging_type, tag), attempts, False)

    def sender_action(self, psid: str, action: str) -> None:
        """typing_on, typing_off or mark_seen: tried once, since a late indicator is worse than none."""
        self.post("me/messages", {"recipient": {"id": psid}, "sender_action": action}, attempts=1)

    def pass_thread_control(self, psid: str, target_app_id: str, metadata: str) -> dict:
        """Metadata over Meta's 1000 characters is refused: build it with `bounded_metadata`."""
        body = {"recipient": {"id": psid}, "target_app_id": target_app_id, "metadata": metadata}
        return self.post("me/pass_thread_control", body)

    def take_thread_control(self, psid: str, metadata: str) -> dict:
        return self.post("me/take_thread_control", {"recipient": {"id": psid}, "metadata": metadata})


def message_body(psid: str, message: dict, messaging_type: str = "RESPONSE", tag: str | None = None) -> dict:
    """The Send API request for one message to `psid`."""
    body: dict[str, Any] = {"recipient": {"id": psid}, "messaging_type": messaging_type, "message": message}
    if tag is not None:
        body["tag"] = tag
    return body


def bounded_metadata(fields: dict[str, str], shorten: str, limit: int = METADATA_LIMIT) -> str:
    """`fields` as JSON of at most `limit` characters, shortening the field `shorten` (with "…")
    until it fits: cutting the JSON itself would leave it unreadable."""
    text = fields.get(shorten, "")
    encoded = json.dumps(fields, ensure_ascii=False)
    while len(encoded) > limit and text:
        over = len(encoded) - limit
        text = text[: max(0, len(text) - over - 1)].rstrip()
        encoded = json.dumps({**fields, shorten: f"{text}…" if text else ""}, ensure_ascii=False)
    if len(encoded) > limit:
        raise ValueError(f"metadata over {limit} characters even without {shorten!r}")
    return encoded

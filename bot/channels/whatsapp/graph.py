"""The WhatsApp Cloud API calls (over the shared Graph client): messages from the business
number, "read" with the typing indicator, and what `faqbot whatsapp setup` checks."""

from __future__ import annotations

import contextlib

from bot.channels.graph.client import Graph
from bot.channels.graph.errors import GraphError
from bot.config import WhatsAppSettings

PRODUCT = {"messaging_product": "whatsapp"}


class WhatsAppGraph(Graph):
    """Calls `{graph}/{version}/{phone-number-id}/…` with a bearer token."""

    def __init__(self, settings: WhatsAppSettings, attempts: int = 4) -> None:
        if settings.access_token is None or not settings.phone_number_id:
            raise ValueError("set FAQBOT_WHATSAPP_ACCESS_TOKEN and FAQBOT_WHATSAPP_PHONE_NUMBER_ID")
        super().__init__(
            settings.graph_url, settings.graph_version, settings.access_token.get_secret_value(),
            timeout=settings.send_timeout, attempts=attempts, backoff=settings.send_backoff, bearer=True,
            logger="faqbot.whatsapp",
        )  # fmt: skip
        self.phone_number_id = settings.phone_number_id
        self.messages_path = f"{settings.phone_number_id}/messages"

    def read(self, message_id: str) -> None:
        """Mark the customer's message read (blue ticks) and show "typing…" until our reply, or
        25 seconds: tried once, since a late indicator is worse than none (failures are logged)."""
        body = {**PRODUCT, "status": "read", "message_id": message_id, "typing_indicator": {"type": "text"}}
        with contextlib.suppress(GraphError):
            self.post(self.messages_path, body, attempts=1)

    def phone_number(self) -> dict:
        """The business number as WhatsApp shows it: display number, verified name, quality rating."""
        fields = "display_phone_number,verified_name,quality_rating,code_verification_status"
        return self.get(self.phone_number_id, {"fields": fields})

    def subscribed_apps(self, business_account_id: str) -> list[dict]:
        """The apps subscribed to the business account's webhooks."""
        data = self.get(f"{business_account_id}/subscribed_apps").get("data")
        return [app for app in data if isinstance(app, dict)] if isinstance(data, list) else []

    def subscribe(self, business_account_id: str) -> dict:
        """Subscribe this app (the token's) to the business account's webhooks."""
        return self.post(f"{business_account_id}/subscribed_apps", {})

"""What differs between the channels of the Messenger Platform that share this package: Facebook
Messenger itself and Instagram Direct (its webhook `object`, its text limit, whether the User
Profile API gives a locale, where its inbox spool lives, what logs and metrics call it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Platform:
    channel: str  # conversations, outbox rows and inbox records are kept under this name
    name: str  # how logs and staff-facing details name it
    webhook_object: str  # a delivery's `object`: anything else is not for this channel
    max_text: int  # characters of one message's text
    locale_lookup: bool  # the User Profile API returns the customer's `locale`
    inbox_dir: str | None  # the inbox spool's folder under FAQBOT_SPOOL_DIR/inbox (None: that folder)


MESSENGER = Platform("messenger", "Messenger", "page", 2000, True, None)
# Instagram's Send API takes at most 1000 characters, and its User Profile API has no locale. The
# inbox has a folder of its own, so each channel's replay reads only its own events.
INSTAGRAM = Platform("instagram", "Instagram", "instagram", 1000, False, "instagram")

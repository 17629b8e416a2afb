"""The Page's Messenger settings: greeting, "Get started" button, persistent menu (it/en), and the
webhook fields the app subscribes the Page to. `faqbot messenger setup` prints or applies them."""

from __future__ import annotations

from dataclasses import dataclass

from bot.channels.messenger import payloads
from bot.dialogue.messages import message

LOCALES = {"it": ("it_IT",), "en": ("en_US", "en_GB")}  # Facebook locales per language
# What the webhook must receive: messages and quick replies, button clicks, m.me link and ad
# referrals, thread control, messages that arrive while the Page Inbox holds a thread, and the
# echoes of our own messages (which prove a send whose answer was lost went through).
FIELDS = [
    "messages", "messaging_postbacks", "messaging_referrals", "messaging_handovers", "standby",
    "message_echoes",
]  # fmt: skip


@dataclass(frozen=True)
class Call:
    """One Graph API call: POST {graph}/{version}/{path} with `body`."""

    path: str
    body: dict
    purpose: str


def _menu(lang: str) -> list[dict]:
    return [
        {"type": "postback", "title": message("menu_person", lang), "payload": payloads.PERSON},
        {"type": "postback", "title": message("menu_start_over", lang), "payload": payloads.START_OVER},
    ]


def setup_calls(default_lang: str, languages: list[str]) -> list[Call]:
    """The calls that set the Page up; `default_lang` is what customers with other locales see."""
    langs = [lang for lang in languages if lang in LOCALES]
    greeting = [{"locale": "default", "text": message("page_greeting", default_lang)}]
    greeting += [
        {"locale": locale, "text": message("page_greeting", lang)}
        for lang in langs
        for locale in LOCALES[lang]
    ]
    menu = [{"locale": "default", "composer_input_disabled": False, "call_to_actions": _menu(default_lang)}]
    menu += [
        {"locale": locale, "composer_input_disabled": False, "call_to_actions": _menu(lang)}
        for lang in langs
        for locale in LOCALES[lang]
    ]
    profile = {
        "get_started": {"payload": payloads.GET_STARTED},
        "greeting": greeting,
        "persistent_menu": menu,
    }
    return [
        Call(
            "me/subscribed_apps", {"subscribed_fields": ",".join(FIELDS)}, "subscribe the Page to the webhook"
        ),
        Call("me/messenger_profile", profile, "greeting, Get started button and persistent menu"),
    ]

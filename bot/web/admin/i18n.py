"""The staff console in the staff member's language (Italian or English) and time zone.

Messages are gettext catalogs (Babel): `locale/console.pot` is extracted from the templates and
the console's Python code (`make messages`), `locale/<lang>/LC_MESSAGES/console.po` holds the
translations, compiled in memory when first used. The language is the console switch's cookie,
else FAQBOT_CONSOLE_LANG (Italian by default); dates and times are shown in FAQBOT_TIMEZONE.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext as stdlib_gettext
from contextvars import ContextVar
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.storage.schema import aware

LOCALE = Path(__file__).resolve().parent / "locale"
LANGS = ("it", "en")
COOKIE = "faqbot_console_lang"
_lang: ContextVar[str] = ContextVar("faqbot_console_lang", default="it")
_zone: ContextVar[str] = ContextVar("faqbot_console_zone", default="UTC")


@functools.cache
def catalog(lang: str) -> stdlib_gettext.NullTranslations:
    """The compiled catalog of `lang` (English is the source language: no catalog needed)."""
    path = LOCALE / lang / "LC_MESSAGES" / "console.po"
    if lang == "en" or not path.exists():
        return stdlib_gettext.NullTranslations()
    with path.open("rb") as source:
        messages = read_po(source, locale=lang)
    compiled = BytesIO()
    write_mo(compiled, messages)
    compiled.seek(0)
    return Translations(compiled)


def use(lang: str, zone: str) -> None:
    """The language and time zone of what this request renders and says."""
    _lang.set(lang if lang in LANGS else LANGS[0])
    _zone.set(zone)


def current() -> str:
    return _lang.get()


def gettext(message: str) -> str:
    return catalog(_lang.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return catalog(_lang.get()).ngettext(singular, plural, n)


def _(message: str, **values: object) -> str:
    """A console message in the current language, with `%(name)s` placeholders filled in."""
    text = gettext(message)
    return text % values if values else text


def when(value: dt.datetime | None) -> str:
    """A moment in the configured time zone (the store keeps UTC)."""
    if value is None:
        return ""
    return aware(value).astimezone(ZoneInfo(_zone.get())).strftime("%Y-%m-%d %H:%M")


def translated(item) -> str:
    """A knowledge-base problem or an import finding in the current language: its template
    translated and its values filled in (its message as it is, when it has no template)."""
    template = getattr(item, "template", "")
    if not template:
        return str(item.message)
    return gettext(template).format(**dict(item.params))

"""The composition root: the `Bot`, the `Store` and the `ChatService`, assembled from settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import Settings, StorageSettings
from bot.retrieval.embedder import Embedder, load_embedder
from bot.storage.database import Limits
from bot.storage.store import Store

log = logging.getLogger("faqbot.index")

# The search and the service are imported where they are built: commands that only open the
# store (`faqbot gdpr`, `missed`, `spool drain`) then start about a second sooner.
if TYPE_CHECKING:
    from bot.dialogue.bot import Bot
    from bot.retrieval.search import Retriever
    from bot.service.chat import ChatService


def load_retriever(settings: Settings) -> Retriever:
    """The retriever over the live index version or, when that one does not load or verify (a
    corrupt file, another model), over the newest one that does: a restart never crash-loops on a
    bad version while a good one is on disk. IndexError_ when none loads (or none is built).

    Its queries go through a `QueryEncoder`: cached and micro-batched."""
    from bot.retrieval.language import LanguageDetector
    from bot.retrieval.model_switch import ModelSwitch
    from bot.retrieval.query_encoder import QueryEncoder
    from bot.retrieval.search import Retriever

    encoding = settings.encoder

    def serving(model: Embedder, previous: Embedder | None = None) -> QueryEncoder:
        encoder = QueryEncoder(
            model,
            cache_size=encoding.query_cache_size,
            max_batch=encoding.encode_max_batch,
            window_ms=encoding.encode_window_ms,
        )
        if isinstance(previous, QueryEncoder):  # metrics observers carry over to the new model
            encoder.on_batch, encoder.on_hit = previous.on_batch, previous.on_hit
        return encoder

    base = serving(load_embedder(encoding.model, encoding.embed_batch_size))
    detector = LanguageDetector(settings.languages, settings.default_lang)
    switch = ModelSwitch(base, serving, encoding.embed_batch_size)
    return _newest_that_loads(
        settings.index_path, lambda folder: Retriever(folder, base, detector, switch=switch)
    )


def _newest_that_loads(root: Path, make: Callable[[Path], Retriever]) -> Retriever:
    from bot.index.artefacts import IndexError_
    from bot.index.versions import current_version, resolve, versions_newest_first

    live = current_version(root)
    if live is None:
        resolve(root)  # raises: nothing published
    refused: list[str] = []
    for version in dict.fromkeys([live, *versions_newest_first(root)]):
        try:
            retriever = make(resolve(root, version)).load()
        except (IndexError_, ValueError, OSError) as exc:
            refused.append(f"{version}: {exc}")
            log.error("index version %s does not load: %s", version, exc)
            continue
        if version != live:
            log.warning("serving index version %s: the live one, %s, does not load", version, live)
        return retriever
    raise IndexError_(f"no index version under {root} loads ({'; '.join(refused)}); run `faqbot build`")


def load_bot(settings: Settings) -> Bot:
    """A ready `Bot` over the live index."""
    from bot.dialogue.bot import Bot
    from bot.dialogue.policy import Thresholds

    dialogue = settings.dialogue
    return Bot(load_retriever(settings), Thresholds.from_settings(dialogue), dialogue.misses_before_handoff)


def open_store(settings: StorageSettings) -> Store:
    """The configured store, opened and migrated (the caller closes it)."""
    limits = Limits(settings.connect_timeout, settings.lock_timeout, settings.idle_timeout)
    return Store.for_settings(settings.database_url, settings.var_path, limits).open()


def load_chat(settings: Settings) -> ChatService:
    """The chat service of a server process: the bot, the store and, when on, the spool that keeps
    turns while the database is out of reach."""
    from bot.dialogue.business_hours import BusinessHours
    from bot.durability.offline import Offline
    from bot.durability.spool import Spool
    from bot.service.chat import ChatService

    bot = load_bot(settings)  # first: an index that does not load leaves nothing open
    store = open_store(settings.storage)
    hours = BusinessHours.parse(settings.business_hours, settings.timezone)
    offline = None
    if settings.spool:
        spool = Spool(settings.spool_path, settings.spool_max_mb * 2**20).open()
        offline = Offline(spool, settings.offline_memory, settings.db_retry_interval)
    from bot.live.bus import bus_for

    live = bus_for(store.url)  # across replicas on PostgreSQL (LISTEN/NOTIFY), in-process on SQLite
    return ChatService(bot, store, settings.minutes_per_ticket, hours, offline=offline, live=live)

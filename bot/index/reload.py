"""Hot reload: notice a newly published index version, load it fully aside, then swap it in.

Requests in flight keep the retriever they started with (the Bot reads it once per turn); the old
one is freed when the last of them finishes. A version that fails to load (corrupt, half-written,
other model) is never served: the old one stays and the reason is logged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from bot.dialogue.bot import Bot
from bot.index.versions import current_version
from bot.retrieval.search import Retriever

log = logging.getLogger("faqbot.reload")


class IndexWatcher:
    """Polls `index/current` every `interval` seconds, or at once when `trigger()` is called."""

    def __init__(
        self,
        bot: Bot,
        root: Path,
        interval: float = 5.0,
        on_swap: Callable[[str, str], None] = lambda old, new: None,
        on_failure: Callable[[str, str], None] = lambda version, why: None,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval}")
        self.bot, self.root, self.interval, self.on_swap = bot, root, interval, on_swap
        self.on_failure = on_failure  # a version refused, or a check that failed (metrics count them)
        self.refused: dict[str, str] = {}  # version -> why it was not loaded
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> IndexWatcher:
        self._thread = threading.Thread(target=self._loop, name="faqbot-index-watcher", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def trigger(self) -> None:
        """Check for a new version now (admin endpoint, SIGHUP)."""
        self._wake.set()

    def check(self) -> str | None:
        """Load and swap in the published version if it is new; returns the version now served."""
        with self._lock:
            serving = self.bot.retriever.version
            target = current_version(self.root)
            if target is None or target == serving or target in self.refused:
                return serving
            old = self.bot.retriever
            try:
                fresh = Retriever(
                    self.root / target, old.embedder, old.detector, old.per_signal, old.switch
                ).load()
            except Exception as exc:  # noqa: BLE001 - any failure keeps the old index serving
                self.refused[target] = f"{type(exc).__name__}: {exc}"
                log.error("not loading index %s, still serving %s: %s", target, serving, self.refused[target])
                self.on_failure(target, self.refused[target])
                return serving
            self.bot.retriever = fresh  # one reference assignment: atomic for every reader
            if fresh.embedder is not old.embedder and old.embedder is not old.switch.base:
                close = getattr(old.embedder, "close", None)  # another tuned model: free the old one
                if close is not None:
                    close()
            log.info("now serving index %s (was %s)", target, serving)
            self.on_swap(serving, target)
            return target

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if not self._stop.is_set():
                try:
                    self.check()
                except Exception as exc:  # noqa: BLE001 - the watcher must outlive any single failure
                    log.exception("index check failed")
                    self.on_failure("", f"{type(exc).__name__}: {exc}")

"""A background thread that does one job every few seconds, survives the job failing, and does it
one last time when stopped (the spool replayer and the channel inbox drain this way)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("faqbot")


class Periodic:
    """Calls `job()` every `interval` seconds on a daemon thread named `name`."""

    def __init__(self, name: str, interval: float, job: Callable[[], object]) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval}")
        self.name, self.interval, self.job = name, interval, job
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, then run the job one last time in the caller's thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.job()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.job()
            except Exception:  # noqa: BLE001 - the thread must outlive any one bad moment
                log.exception("%s failed; trying again in %.1fs", self.name, self.interval)

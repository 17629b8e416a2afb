"""A rebuild started from the admin API: bot.index.rebuild in a background thread, never two at once.

It takes the lock file the nightly job takes (scripts/nightly_rebuild.sh), so an API rebuild and a
nightly one do not overlap either.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

from bot.config import BuildSettings, DialogueSettings
from bot.index.rebuild import RebuildReport, rebuild
from bot.retrieval.embedder import Embedder

log = logging.getLogger("faqbot.rebuild")


def start_rebuild(
    settings: BuildSettings,
    dialogue: DialogueSettings,
    embedder: Embedder,
    then: Callable[[], None],
    progress: Callable[[str], None] | None = None,
    finished: Callable[[RebuildReport | None, str | None], None] | None = None,
) -> bool:
    """Rebuild in a thread under the nightly job's lock, then call `then`; False if a rebuild holds it.
    `progress` gets each line of the rebuild's log; `finished` its report (None and the error if it
    failed), before `then`."""
    lock = _try_lock(settings.index_path)
    if lock is None:
        return False

    def line(text: str) -> None:
        log.info("%s", text)
        if progress is not None:
            progress(text)

    def work() -> None:
        report, error = None, None
        try:
            report = rebuild(settings, dialogue, embedder, log=line)
            log.info("rebuild %s: %s", report.status, report.candidate)
        except Exception as exc:  # noqa: BLE001 - reported in index/reports; the live index is untouched
            error = f"{type(exc).__name__}: {exc}"
            log.exception("rebuild failed")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()
            if finished is not None:
                try:
                    finished(report, error)
                except Exception:  # noqa: BLE001 - the reload must still happen
                    log.exception("recording the rebuild's outcome failed")
            then()

    threading.Thread(target=work, name="faqbot-rebuild", daemon=True).start()
    return True


def _try_lock(index_path: Path) -> IO[str] | None:
    """The open, exclusively locked `.rebuild.lock` of the index, or None if another holds it."""
    index_path.mkdir(parents=True, exist_ok=True)
    lock = open(index_path / ".rebuild.lock", "w")  # noqa: SIM115 - the rebuild thread releases it
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        return None
    return lock

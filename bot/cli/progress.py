"""Build progress: a progress bar on a terminal, plain timestamped log lines otherwise (cron)."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Any


class LogProgress:
    """One line per step on stderr, for cron and CI logs."""

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def step(self, message: str) -> None:
        stamp = dt.datetime.now().isoformat(timespec="seconds")
        print(f"{stamp} faqbot build: {message}", file=sys.stderr, flush=True)

    def start_embedding(self, total: int) -> None:
        self.step(f"embedding {total} texts (cached ones are skipped)")

    def advance(self, n: int) -> None:
        pass


class BarProgress(LogProgress):
    """A rich progress bar for the embedding step, on an interactive terminal."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self.console = Console(stderr=True)
        self.bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        self.task = None

    def __enter__(self) -> BarProgress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.bar.__exit__(*exc)

    def step(self, message: str) -> None:
        self.console.print(f"• {message}")

    def start_embedding(self, total: int) -> None:
        self.task = self.bar.add_task("embedding new texts", total=total)

    def advance(self, n: int) -> None:
        if self.task is not None:
            self.bar.advance(self.task, n)


def make_progress(interactive: bool) -> LogProgress:
    return BarProgress() if interactive else LogProgress()

"""Slots for live streams: each open event stream holds a connection for as long as it lasts, so
a process serves at most FAQBOT_MAX_STREAMS of them, and one address at most
FAQBOT_MAX_STREAMS_PER_ADDRESS; beyond, a 503 with Retry-After (the widget and the console fall
back to polling). The count is taken when a stream opens and given back when it ends."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import HTTPException, Request


class StreamSlots:
    def __init__(self, total: int, per_address: int) -> None:
        self.total, self.per_address = total, per_address
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return sum(self._open.values())

    @contextmanager
    def held(self, request: Request) -> Iterator[None]:
        """A slot for the stream of `request` while the block runs; HTTPException 503 if none is free
        (raise it before the stream's first byte)."""
        address = request.client.host if request.client else "?"
        with self._lock:
            if len(self) >= self.total:
                raise HTTPException(503, "too many live streams here; poll instead", {"Retry-After": "30"})
            if self._open.get(address, 0) >= self.per_address:
                detail = "too many live streams from this address; poll instead"
                raise HTTPException(503, detail, {"Retry-After": "30"})
            self._open[address] = self._open.get(address, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._open.get(address, 1) - 1
                if left:
                    self._open[address] = left
                else:
                    self._open.pop(address, None)

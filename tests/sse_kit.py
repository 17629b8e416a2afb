"""A server-sent event stream read on a thread, for the tests of the live hand-off."""

from __future__ import annotations

import json
import threading
import time

import httpx


class Stream:
    """A server-sent event stream read on a thread: `next(kind)` waits for the next event of `kind`."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.events: list[tuple[str, dict]] = []
        self.status: int | None = None
        self._ready = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._read, args=(url, headers or {}), daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "the stream did not open"

    def _read(self, url: str, headers: dict[str, str]) -> None:
        self._client = httpx.Client(timeout=30)
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                self.status = response.status_code
                self.content_type = response.headers.get("content-type", "")
                self._ready.set()
                kind = None
                for line in response.iter_lines():
                    if self._stop:
                        return
                    if line.startswith("event:"):
                        kind = line.split(":", 1)[1].strip()
                    elif line.startswith("data:") and kind:
                        self.events.append((kind, json.loads(line.split(":", 1)[1])))
                        kind = None
        except (httpx.HTTPError, RuntimeError):
            if not self._stop:
                raise

    def next(self, kind: str, seen: int = 0, timeout: float = 3.0) -> dict:
        """The `seen`-th (from 0) event of `kind`, waiting up to `timeout` seconds for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            of_kind = [data for k, data in self.events if k == kind]
            if len(of_kind) > seen:
                return of_kind[seen]
            time.sleep(0.02)
        raise AssertionError(f"no {kind!r} event #{seen} in {self.events}")

    def close(self) -> None:
        """Hang up: the connection closes now, as a browser's does when its page goes away."""
        self._stop = True
        self._client.close()
        self._thread.join(5)

"""uvicorn's HTTP protocol (httptools) with a cap on a request's head: the request line and headers
beyond `max_head` bytes get a 431 and the connection closes, before more of them is buffered (an
8 MiB header line was accepted; 40 unfinished ones held 320 MB)."""

from __future__ import annotations

import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class BoundedHeadProtocol(HttpToolsProtocol):
    """HttpToolsProtocol, refusing a head over `max_head` bytes with 431."""

    max_head = 64 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head, self._head_bytes = True, 0

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes = True, 0

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_bytes = True, 0  # the next request's head, if any, counts afresh

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head:
                self._refuse()

    def _refuse(self) -> None:
        body = json.dumps({"detail": f"request head over {self.max_head} bytes"}).encode()
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body
        )
        self.transport.close()


def bounded(max_head: int) -> type[BoundedHeadProtocol]:
    """The protocol class `faqbot serve` gives uvicorn, with the configured cap."""
    return type("BoundedHeadProtocol", (BoundedHeadProtocol,), {"max_head": max_head})

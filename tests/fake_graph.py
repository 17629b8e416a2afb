"""A fake Graph API for Messenger tests: a real HTTP server on 127.0.0.1 (ephemeral port) that
records every request and answers with scripted statuses, so retries and errors are real HTTP."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Call:
    path: str  # e.g. /v21.0/me/messages
    query: dict[str, str]
    body: dict
    status: int = 0  # what the fake answered


@dataclass
class Scripted:
    path: str  # answered for the first request whose path ends with this
    status: int
    body: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (to provoke client timeouts)


class FakeGraph:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.script: list[Scripted] = []
        self._changed = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                url = urlsplit(self.path)
                call = Call(
                    url.path, {k: v[0] for k, v in parse_qs(url.query).items()}, json.loads(raw or b"{}")
                )
                status, body, delay = fake._answer(call)
                time.sleep(delay)
                call.status = status
                with fake._changed:  # recorded before answering, so the client never runs ahead of it
                    fake.calls.append(call)
                    fake._changed.notify_all()
                payload = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> FakeGraph:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def then(self, path: str, status: int, body: dict | None = None, delay: float = 0.0) -> None:
        """Answer the next request to `path` with `status` (and `body`), after `delay` seconds."""
        with self._changed:
            self.script.append(Scripted(path, status, body or {}, delay))

    def _answer(self, call: Call) -> tuple[int, dict, float]:
        with self._changed:
            for i, scripted in enumerate(self.script):
                if call.path.endswith(scripted.path):
                    del self.script[i]
                    return scripted.status, scripted.body, scripted.delay
        if call.path.endswith("/me/messages"):
            recipient = call.body.get("recipient", {}).get("id")
            return 200, {"recipient_id": recipient, "message_id": f"mid.{len(self.calls)}"}, 0.0
        return 200, {"success": True}, 0.0

    def wait(self, predicate, timeout: float = 10.0) -> list[Call]:
        """Block until `predicate(calls)` holds; fail the test if it does not in time."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.calls):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"fake Graph API: condition not met; calls: {self.calls}")
                self._changed.wait(left)
            return list(self.calls)

    def sent(self, psid: str | None = None) -> list[dict]:
        """Messages the fake accepted (2xx), in order: the `message` objects of /me/messages."""
        return [
            c.body["message"]
            for c in self.calls
            if c.path.endswith("/me/messages") and "message" in c.body and 200 <= c.status < 300
            if psid is None or c.body["recipient"]["id"] == psid
        ]

    def paths(self) -> list[str]:
        return [c.path.rsplit("/", 1)[-1] if "sender_action" not in c.body else "typing" for c in self.calls]

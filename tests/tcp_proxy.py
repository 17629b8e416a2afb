"""A TCP proxy between the app and the real PostgreSQL that a test can cut and restore: a real
network outage from the app's point of view, without touching the shared database server.

`cut()` resets every open connection (as a database restart or a dropped link does) and resets
new ones at once; `hang()` accepts new connections but never answers (a black-holed network);
`restore()` forwards again."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading

FORWARD, CUT, HANG = "forward", "cut", "hang"


def _reset(sock: socket.socket) -> None:
    """End the connection at once, as a crashed peer or a dropped link does (RST where it can).

    shutdown() first: close() alone does not wake a thread blocked in recv() on the socket, and the
    connection would live on behind the test's back."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


class TcpProxy:
    def __init__(self, upstream_host: str = "127.0.0.1", upstream_port: int = 5432) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.mode = FORWARD
        self.accepted = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)

    def start(self) -> TcpProxy:
        self._thread.start()
        return self

    def cut(self) -> None:
        """The database is gone: every connection is reset, and new ones are reset at once."""
        self._switch(CUT)

    def hang(self) -> None:
        """The network black-holes: connections are taken but nothing ever comes back."""
        self._switch(HANG)

    def restore(self) -> None:
        self._switch(FORWARD)

    def stop(self) -> None:
        self._stopped.set()
        self._switch(CUT)
        self._thread.join(timeout=5)
        self._listener.close()

    def _switch(self, mode: str) -> None:
        with self._lock:
            self.mode = mode
            if mode != FORWARD:
                doomed, self._open = self._open, set()
            else:
                doomed = set()
        for sock in doomed:
            _reset(sock)

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            with self._lock:
                mode = self.mode
                if mode == HANG:
                    self._open.add(client)  # held open, never answered, reset at the next switch
                    continue
            if mode == CUT:
                _reset(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                continue
            server.settimeout(None)
            for sock in (client, server):  # as libpq and PostgreSQL do: no Nagle delay on small messages
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._open.update((client, server))
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except OSError:
            pass
        with self._lock:
            closing = [s for s in (source, target) if s in self._open]
            self._open.difference_update(closing)
        for sock in closing:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

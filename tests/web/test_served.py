"""A real `faqbot serve` behind a (simulated) trusted proxy: 429s over HTTP, slow and idle clients
cut off, and its log stream: JSON lines with request ids and no customer text unredacted."""

from __future__ import annotations

import json
import os
import shutil
import socket
import time

import httpx
import pytest

from tests.conftest import REPO
from tests.serve_kit import serving

pytestmark = pytest.mark.model
EMAIL = "anna.verdi@example.com"
PHONE = "347 765 4321"


@pytest.fixture(scope="module")
def served(sample_home, tmp_path_factory):
    """The server with low limits, a 1 s body deadline and keep-alive, 127.0.0.1 as trusted proxy
    (so X-Forwarded-For picks the client); its stderr goes to a file the tests read."""
    home = tmp_path_factory.mktemp("served")
    shutil.copytree(sample_home / "index", home / "index", symlinks=True)
    env = {
        **os.environ,
        "FAQBOT_HOME": str(home),
        "FAQBOT_KB_DIR": str(REPO / "kb_articles"),
        "FAQBOT_RELOAD_INTERVAL": "0",
        "FAQBOT_TRUSTED_PROXIES": '["127.0.0.1"]',
        "FAQBOT_RATE_LIMIT_IP": "6",
        "FAQBOT_RATE_LIMIT_IP_BURST": "3",
        "FAQBOT_BODY_TIMEOUT": "1",
        "FAQBOT_KEEPALIVE_TIMEOUT": "1",
        "FAQBOT_MAX_HEADER_BYTES": "8192",
    }
    log = home / "server.log"
    with serving(env, log, only_stderr=True) as (base, port):
        yield base, port, log


def test_a_client_over_its_rate_gets_429_with_retry_after(served):
    base, _, _ = served
    first = {"X-Forwarded-For": "192.0.2.10"}
    codes = [httpx.get(f"{base}/api/v1/articles/order-status", headers=first).status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    refused = httpx.post(f"{base}/api/v1/chat", json={"text": "ciao"}, headers=first)
    assert refused.status_code == 429 and 1 <= int(refused.headers["retry-after"]) <= 10
    other = httpx.get(f"{base}/api/v1/articles/order-status", headers={"X-Forwarded-For": "192.0.2.11"})
    assert other.status_code == 200, "another client behind the proxy is unaffected"


def read_response(sock: socket.socket) -> bytes:
    """One whole HTTP response (headers, then Content-Length bytes of body), however it is split
    into packets, without waiting for the connection to close."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, f"connection closed mid-response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = sock.recv(4096)
        assert chunk, f"connection closed mid-body: {data!r}"
        body += chunk
    return head + b"\r\n\r\n" + body


def test_a_body_that_trickles_in_is_cut_off_with_408(served):
    _, port, _ = served
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(
            b"POST /api/v1/chat HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\nX-Forwarded-For: 192.0.2.20\r\n\r\n" + b'{"text": "ci'
        )
        answer = read_response(s)
    elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert b"not received within 1 s" in answer
    assert 0.9 <= elapsed < 5


def test_a_request_head_over_the_limit_gets_431_and_the_connection_closes(served):
    """Found by a red-team pass: an 8 MiB header line got a 200, and unfinished ones held memory."""
    base, port, _ = served
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Big: " + b"a" * 65536)  # never finished
        answer = read_response(s)
        assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
        assert s.recv(4096) == b"", "the server closed the connection"
    assert httpx.get(f"{base}/healthz", headers={"X-Small": "a" * 4000}).status_code == 200


def test_an_idle_keep_alive_connection_is_closed(served):
    _, port, _ = served
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        received = read_response(s)
        assert received.startswith(b"HTTP/1.1 200") and received.endswith(b'{"status":"ok"}')
        started = time.monotonic()
        assert s.recv(4096) == b"", "the server closed the idle connection"
        assert time.monotonic() - started < 5


def test_logs_are_json_lines_with_request_ids_and_redacted_text(served):
    base, _, log = served
    text = f"voglio parlare con un operatore, sono {EMAIL}, tel {PHONE}"
    headers = {"X-Request-ID": "served-req-1", "X-Forwarded-For": "192.0.2.30"}
    r = httpx.post(f"{base}/api/v1/chat", json={"text": text}, headers=headers)
    assert r.status_code == 200 and r.headers["x-request-id"] == "served-req-1"
    generated = httpx.get(f"{base}/healthz").headers["x-request-id"]
    time.sleep(0.5)  # let the server flush the lines
    raw = log.read_text(encoding="utf-8")
    entries = [json.loads(line) for line in raw.splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(e) for e in entries)
    assert any(e["logger"] == "uvicorn.error" for e in entries), "uvicorn's own lines are JSON too"
    mine = [e for e in entries if e.get("request_id") == "served-req-1"]
    assert {e["logger"] for e in mine} == {"faqbot.access", "faqbot.chat"}
    turn = next(e for e in mine if e["logger"] == "faqbot.chat")
    assert "[EMAIL]" in turn["text"] and "[PHONE]" in turn["text"] and turn["decision"] == "handoff"
    assert EMAIL not in raw and PHONE not in raw
    assert len(generated) == 32 and "uvicorn.access" not in {e["logger"] for e in entries}

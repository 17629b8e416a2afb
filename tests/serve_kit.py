"""`faqbot serve` started as a user starts it, for the tests that need a real server process: a free
port, output to a file (a pipe nobody reads fills up and blocks the server's logging), and ready
once /readyz answers 200."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

FAQBOT = str(Path(sys.executable).with_name("faqbot"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_serve(env: dict, log: Path, port: int, only_stderr: bool = False) -> subprocess.Popen:
    """`faqbot serve --port PORT`, its output appended to `log` (stdout dropped with `only_stderr`)."""
    with log.open("a") as out:
        return subprocess.Popen(
            [FAQBOT, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL if only_stderr else out,
            stderr=out if only_stderr else subprocess.STDOUT,
        )


def wait_ready(base: str, process: subprocess.Popen, timeout: float = 120, log: Path | None = None) -> dict:
    """/readyz once the server is up; fails with its output (from `log`) if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log.read_text(encoding="utf-8", errors="replace") if log else ""
            pytest.fail(f"faqbot serve exited: {output}")
        try:
            r = httpx.get(f"{base}/readyz", timeout=1)
            if r.status_code == 200:
                return r.json()
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.kill()
    pytest.fail("faqbot serve did not become ready")


@contextmanager
def serving(env: dict, log: Path, only_stderr: bool = False) -> Iterator[tuple[str, int]]:
    """A ready server on a free port, (base URL, port) while the block runs, stopped afterwards."""
    port = free_port()
    process = start_serve(env, log, port, only_stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(base, process, log=log)
        yield base, port
    finally:
        process.terminate()
        process.wait(timeout=30)


def own_home(sample_home: Path, home: Path, **settings: str) -> dict:
    """The environment of a server with a home of its own: the sample index and a copy of the
    sample KB (its edits and publishes touch no other module's server), staffed around the clock,
    with the tests' admin token and `settings` (FAQBOT_* names) on top."""
    import os
    import shutil

    from tests.conftest import REPO

    shutil.copytree(sample_home / "index", home / "index", symlinks=True)
    shutil.copytree(REPO / "kb_articles", home / "kb_articles")
    return {
        **os.environ,
        "FAQBOT_HOME": str(home),
        "FAQBOT_KB_DIR": str(home / "kb_articles"),
        "FAQBOT_BUSINESS_HOURS": '["mon-sun 00:00-24:00"]',
        "HF_HUB_OFFLINE": "1",
        **settings,
    }

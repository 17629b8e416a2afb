"""A rebuild under continuous traffic: a real `faqbot serve`, several client threads, zero errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time

import httpx
import pytest

from bot.config import Settings
from bot.index.build import build_index
from bot.retrieval.embedder import load_embedder
from tests.conftest import REPO
from tests.serve_kit import free_port, start_serve, wait_ready

pytestmark = pytest.mark.model
QUESTIONS = ["dove è il mio ordine?", "how much is shipping", "voglio fare un reso", "password dimenticata"]


def test_rebuild_under_traffic_swaps_with_zero_failed_requests(sample_home, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(sample_home / "index", home / "index", symlinks=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "FAQBOT_HOME": str(home),
        "FAQBOT_KB_DIR": str(REPO / "kb_articles"),
        "FAQBOT_RELOAD_INTERVAL": "0.5",
        "FAQBOT_RATE_LIMIT_IP": "0",  # four busy clients from one address: not what this test is about
    }
    log = tmp_path / "server.log"
    process = start_serve(env, log, port)
    try:
        before = wait_ready(base, process, log=log)["index_version"]
        stop = threading.Event()
        results: list[int | str] = []

        def customer(n: int) -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                i = 0
                while not stop.is_set():
                    try:
                        text = QUESTIONS[(n + i) % len(QUESTIONS)]
                        results.append(client.post("/api/v1/chat", json={"text": text}).status_code)
                    except httpx.HTTPError as exc:
                        results.append(type(exc).__name__)
                    i += 1

        threads = [threading.Thread(target=customer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        settings = Settings(home=home, kb_dir=REPO / "kb_articles")
        after = build_index(settings.build, load_embedder(settings.model)).version
        deadline = time.monotonic() + 60
        while httpx.get(f"{base}/readyz", timeout=5).json()["index_version"] != after:
            assert time.monotonic() < deadline, "the server never swapped in the new version"
            time.sleep(0.2)
        time.sleep(1.0)  # keep the traffic going on the new version
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        assert before != after
        assert len(results) > 20
        assert [r for r in results if r != 200] == []
        metrics = httpx.get(f"{base}/metrics").text
        assert f'faqbot_index_info{{version="{after}"}} 1.0' in metrics
        assert f'version="{before}"' not in metrics
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_nightly_script_end_to_end_with_the_real_model(sample_home, tmp_path):
    from tests.index.test_rebuild import SCRIPT

    home = tmp_path / "home"
    shutil.copytree(sample_home / "index", home / "index", symlinks=True)
    live = os.readlink(home / "index" / "current")
    env = {
        **os.environ,
        "FAQBOT_HOME": str(home),
        "FAQBOT_KB_DIR": str(REPO / "kb_articles"),
        "HF_HUB_OFFLINE": "1",
    }
    result = subprocess.run([str(SCRIPT)], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    for step in ("step validate", "step build", "done: published"):
        assert step in result.stdout
    import json

    report = json.loads((home / "index" / "reports" / "latest.json").read_text())
    assert report["status"] == "published" and report["live_before"] == live
    assert report["live_after"] == report["candidate"] != live
    assert report["regressions"] == []
    assert {s["step"] for s in report["steps"]} >= {"build", "evaluate", "evaluate live", "publish"}

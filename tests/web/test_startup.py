"""A server process starting while no index version loads stays up: /readyz 503, then serving as
soon as a build publishes one (it used to crash-loop)."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from bot.config import Settings
from bot.index.build import build_index
from bot.web.app import create_app


def test_with_no_version_that_loads_the_server_stays_up_and_serves_the_first_that_does(
    small_kb, fake_embedder, monkeypatch
):
    monkeypatch.setenv("FAQBOT_RELOAD_INTERVAL", "0.2")
    settings = Settings()
    bad = build_index(settings.build, fake_embedder).version
    (settings.index_path / bad / "articles.json").write_text("[]", encoding="utf-8")  # corrupt
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").status_code == 503
        refused = client.post("/api/v1/chat", json={"text": "Ho dimenticato la password"})
        assert refused.status_code == 503 and "faqbot build" in refused.json()["detail"]
        assert refused.headers["retry-after"] == "5"
        good = build_index(settings.build, fake_embedder).version
        deadline = time.monotonic() + 10
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        ready = client.get("/readyz").json()
        assert ready["status"] == "ready" and ready["index_version"] == good
        answer = client.post("/api/v1/chat", json={"text": "Ho dimenticato la password"}).json()
        assert answer["decision"] == "answer"

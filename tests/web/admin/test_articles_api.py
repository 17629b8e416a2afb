"""The admin API's knowledge-base contract: articles listed, read, created (201, 422 naming the
field, 409 for a taken id), edited from their version (409 when stale), deleted, published with
a job to follow; two replicas sharing the articles, the index and the database."""

from __future__ import annotations

import fcntl
import threading
import time

import pytest
from fastapi.testclient import TestClient

from bot.config import Settings
from bot.dialogue.bot import Bot
from bot.dialogue.policy import Thresholds
from bot.index.build import build_index
from bot.retrieval.language import LanguageDetector
from bot.retrieval.search import Retriever
from bot.service.chat import ChatService
from bot.storage.store import Store
from bot.web.app import create_app
from tests.conftest import FakeEmbedder

AUTH = {"Authorization": "Bearer staff-token", "X-Faqbot-User": "giulia"}
API = "/api/v1/admin"
GIFT = {
    "id": "gift-cards",
    "lang": "it",
    "title": "Buoni regalo",
    "questions": ["come uso un buono regalo", "dove inserisco il codice del buono"],
    "body": "Inserisci il codice del buono regalo nel carrello, prima di pagare.",
    "tags": ["pagamenti"],
}


@pytest.fixture
def replicas(small_kb, isolated_home, monkeypatch, database_url):
    """Start apps (replicas) over one KB folder, one index folder and one database."""
    monkeypatch.setenv("FAQBOT_ADMIN_TOKEN", "staff-token")
    monkeypatch.setenv("FAQBOT_RELOAD_INTERVAL", "0.2")
    settings = Settings()
    embedder = FakeEmbedder()
    build_index(settings.build, embedder)
    opened = []

    def start() -> TestClient:
        retriever = Retriever.from_root(settings.index_path, embedder, LanguageDetector()).load()
        store = Store(database_url).open()
        client = TestClient(create_app(Settings(), ChatService(Bot(retriever, Thresholds()), store)))
        client.__enter__()
        opened.append((client, store))
        return client

    yield start
    for client, store in opened:
        client.__exit__(None, None, None)
        store.close()


@pytest.fixture
def api(replicas) -> TestClient:
    return replicas()


def created(api, **changes) -> dict:
    answer = api.post(f"{API}/articles", json={**GIFT, **changes}, headers=AUTH)
    assert answer.status_code == 201, answer.text
    return answer.json()


def published(api, timeout: float = 60) -> dict:
    """POST /publish, then follow the job until it ends."""
    started = api.post(f"{API}/publish", headers=AUTH)
    assert started.status_code == 202, started.text
    job = started.json()["job"]
    deadline = time.monotonic() + timeout
    while True:
        state = api.get(f"{API}/publish/{job}", headers=AUTH).json()
        if state["status"] != "running":
            return state
        assert time.monotonic() < deadline, "the publish never ended"
        time.sleep(0.2)


def served(api, version_before: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while api.get("/readyz").json()["index_version"] == version_before:
        assert time.monotonic() < deadline, "the published index never went live"
        time.sleep(0.1)


def test_every_route_needs_the_admin_token(api):
    assert api.get(f"{API}/articles").status_code == 401
    assert api.post(f"{API}/articles", json=GIFT).status_code == 401
    assert api.post(f"{API}/publish").status_code == 401


def test_list_and_read_articles(api):
    listed = api.get(f"{API}/articles", headers=AUTH).json()
    assert listed["total"] == len(listed["items"]) >= 6
    english = api.get(f"{API}/articles", params={"lang": "en"}, headers=AUTH).json()
    assert {a["lang"] for a in english["items"]} == {"en"} and english["total"] == 2
    found = api.get(f"{API}/articles", params={"q": "spedizione"}, headers=AUTH).json()["items"]
    assert "shipping-costs" in [a["id"] for a in found] and "returns-how" not in [a["id"] for a in found]
    article = api.get(f"{API}/articles/returns-how", headers=AUTH).json()
    assert set(article) == {
        "id", "lang", "title", "questions", "tags", "status", "follow_ups", "translation_of", "handoff",
        "body", "version",
    }  # fmt: skip
    assert (
        article["title"] == "Come fare un reso" and article["questions"][0] == "come restituisco un prodotto"
    )
    assert api.get(f"{API}/articles/no-such-article", headers=AUTH).status_code == 404
    assert api.get(f"{API}/articles/Bad..id", headers=AUTH).status_code == 422


def test_create_answers_201_422_naming_the_field_and_409_for_a_taken_id(api, small_kb):
    article = created(api)
    assert article["id"] == "gift-cards" and article["version"] and article["warnings"] == []
    assert (small_kb / "it" / "gift-cards.md").exists()
    again = api.post(f"{API}/articles", json=GIFT, headers=AUTH)
    assert again.status_code == 409 and "already exists" in again.json()["detail"]
    missing = api.post(f"{API}/articles", json={**GIFT, "id": "other", "title": None}, headers=AUTH)
    assert missing.status_code == 422 and "title" in missing.json()["detail"]
    other = {**GIFT, "id": "other", "questions": ["una domanda diversa"], "follow_ups": ["nope"]}
    dangling = api.post(f"{API}/articles", json=other, headers=AUTH)
    assert dangling.status_code == 422
    assert dangling.json()["errors"] == [{"field": "follow_ups[0]", "message": "unknown article 'nope'"}]
    assert not (small_kb / "it" / "other.md").exists()


def test_a_near_duplicate_question_is_saved_with_a_warning(api):
    article = created(api, questions=["le spese di spedizione"])
    assert [w["field"] for w in article["warnings"]] == ["questions[0]"]
    assert article["warnings"][0]["severity"] == "warning"
    assert "it/shipping-costs.md" in article["warnings"][0]["message"]
    assert str(Settings().kb_path) not in article["warnings"][0]["message"]  # no server paths


def test_update_from_a_stale_version_is_a_409_and_loses_nothing(api):
    first = created(api)
    edit = {k: v for k, v in first.items() if k not in ("id", "warnings")}
    saved = api.put(f"{API}/articles/gift-cards", json={**edit, "title": "Carte regalo"}, headers=AUTH)
    assert saved.status_code == 200 and saved.json()["version"] != first["version"]
    stale = api.put(f"{API}/articles/gift-cards", json={**edit, "title": "Buoni e carte"}, headers=AUTH)
    assert stale.status_code == 409 and "changed since" in stale.json()["detail"]
    assert api.get(f"{API}/articles/gift-cards", headers=AUTH).json()["title"] == "Carte regalo"
    gone = api.put(f"{API}/articles/no-such-article", json=edit, headers=AUTH)
    assert gone.status_code == 404
    bad = api.put(
        f"{API}/articles/gift-cards",
        json={**saved.json() | {"follow_ups": ["x-y"]}} | {"id": None},
        headers=AUTH,
    )
    assert bad.status_code == 422


def test_delete_from_its_version_and_not_while_linked(api):
    article = created(api)
    assert api.delete(f"{API}/articles/gift-cards", params={"version": "0"}, headers=AUTH).status_code == 409
    linked = api.get(f"{API}/articles/shipping-costs", headers=AUTH).json()
    refused = api.delete(
        f"{API}/articles/shipping-costs", params={"version": linked["version"]}, headers=AUTH
    )
    assert refused.status_code == 409 and "links to" in refused.json()["detail"]
    done = api.delete(f"{API}/articles/gift-cards", params={"version": article["version"]}, headers=AUTH)
    assert done.status_code == 204
    assert api.get(f"{API}/articles/gift-cards", headers=AUTH).status_code == 404


def test_publish_makes_a_new_article_and_an_edit_live(api):
    question = "come uso un buono regalo"
    before = api.post("/api/v1/chat", json={"text": question}).json()
    assert before["decision"] != "answer" or before["answer"]["article_id"] != "gift-cards"
    article = created(api)
    version = api.get("/readyz").json()["index_version"]
    job = published(api)
    assert job["status"] == "published" and job["who"] == "giulia"
    report = job["report"]
    assert report["candidate"] and report["live_before"] == version and report["log"]
    served(api, version)
    now = api.post("/api/v1/chat", json={"text": question}).json()
    assert now["decision"] == "answer" and now["answer"]["article_id"] == "gift-cards"
    edit = {k: v for k, v in article.items() if k not in ("id", "warnings")}
    body = "Il codice del buono va nel carrello: lo trovi nella mail del regalo."
    assert api.put(f"{API}/articles/gift-cards", json={**edit, "body": body}, headers=AUTH).status_code == 200
    version = api.get("/readyz").json()["index_version"]
    assert published(api)["status"] == "published"
    served(api, version)
    again = api.post("/api/v1/chat", json={"text": question}).json()
    assert "nella mail del regalo" in again["answer"]["text"]


def test_a_publish_while_a_rebuild_runs_is_a_409(api):
    index = Settings().index_path
    with open(index / ".rebuild.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        busy = api.post(f"{API}/publish", headers=AUTH)
        fcntl.flock(lock, fcntl.LOCK_UN)
    assert busy.status_code == 409 and "already running" in busy.json()["detail"]
    assert api.get(f"{API}/publish/pub_nope", headers=AUTH).status_code == 404


def test_two_replicas_share_edits_publishes_and_lose_no_concurrent_edit(replicas):
    a, b = replicas(), replicas()
    article = created(a)
    seen = b.get(f"{API}/articles/gift-cards", headers=AUTH).json()
    assert seen["version"] == article["version"]
    edit = {k: v for k, v in seen.items() if k != "id"}
    answers: list[int] = []

    def save(client, title: str) -> None:
        answers.append(
            client.put(f"{API}/articles/gift-cards", json={**edit, "title": title}, headers=AUTH).status_code
        )

    threads = [threading.Thread(target=save, args=(c, t)) for c, t in ((a, "Da A"), (b, "Da B"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200, 409]  # one saved; the other told, not silently overwritten
    title = a.get(f"{API}/articles/gift-cards", headers=AUTH).json()["title"]
    assert (
        title in ("Da A", "Da B")
        and b.get(f"{API}/articles/gift-cards", headers=AUTH).json()["title"] == title
    )
    version = b.get("/readyz").json()["index_version"]
    started = a.post(f"{API}/publish", headers=AUTH).json()["job"]
    deadline = time.monotonic() + 60
    while b.get(f"{API}/publish/{started}", headers=AUTH).json()["status"] == "running":  # B follows A's job
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert b.get(f"{API}/publish/{started}", headers=AUTH).json()["status"] == "published"
    served(b, version)
    answer = b.post("/api/v1/chat", json={"text": "come uso un buono regalo"}).json()
    assert answer["decision"] == "answer" and answer["answer"]["article_id"] == "gift-cards"

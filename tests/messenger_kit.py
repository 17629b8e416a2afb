"""Shared set-up for the Messenger tests: a small KB indexed once (fake embedder), the app with the
channel configured against a fake Graph API, and signed webhook deliveries."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.channels.messenger.webhook import signature
from bot.config import Settings
from bot.dialogue.bot import Bot
from bot.dialogue.policy import Thresholds
from bot.index.build import build_index
from bot.retrieval.language import LanguageDetector
from bot.retrieval.search import Retriever
from bot.service.chat import ChatService
from bot.storage.store import Store
from bot.web.app import create_app
from tests.conftest import SMALL_KB, FakeEmbedder, write_article
from tests.fake_graph import FakeGraph

SECRET = "app-s3cret"
PAGE_TOKEN = "page-t0ken"
VERIFY = "verify-me"
INBOX = "263902037430900"
PAGE_ID = "page-1"
_mids = itertools.count(1)

# Five paragraphs of about 900 characters: the answer needs three messages of at most 2000.
LONG_BODY = "\n\n".join(
    " ".join(
        f"Paragrafo {p}, frase {s}: il reso si chiede dal tuo account entro trenta giorni." for s in range(11)
    )
    for p in range(1, 6)
)


@pytest.fixture(scope="session")
def messenger_home(tmp_path_factory) -> tuple[Path, FakeEmbedder]:
    """The small KB plus a long article and one with links, indexed once for all Messenger tests."""
    home = tmp_path_factory.mktemp("messenger")
    root = home / "kb_articles"
    for (lang, article_id), (front, body) in SMALL_KB.items():
        write_article(root, lang, article_id, front, body)
    front = (
        "title: Politica dei resi completa\nquestions: [politica completa dei resi, regole complete sul reso]"
    )
    write_article(root, "it", "returns-policy-long", front, LONG_BODY)
    embedder = FakeEmbedder()
    build_index(Settings(home=home).build, embedder)
    return home, embedder


@pytest.fixture(scope="session")
def messenger_retriever(messenger_home) -> Retriever:
    home, embedder = messenger_home
    return Retriever.from_root(Settings(home=home).index_path, embedder, LanguageDetector()).load()


@pytest.fixture
def graph():
    fake = FakeGraph().start()
    yield fake
    fake.stop()


def messenger_settings(home: Path, graph: FakeGraph, **overrides) -> Settings:
    values = {
        "home": home,
        "messenger_app_secret": SECRET,
        "messenger_page_token": PAGE_TOKEN,
        "messenger_verify_token": VERIFY,
        "messenger_graph_url": graph.url,
        "messenger_send_backoff": 0.01,
        "messenger_typing_after": 30.0,  # no typing indicator unless a test asks for one
        "reload_interval": 0,
        "admin_token": "staff-token",
        **overrides,
    }
    return Settings(**values)


class ChannelApp:
    """A test client for one app, speaking as Meta's webhook for the channel whose running object
    is `app.state.<CHANNEL>`."""

    CHANNEL = "messenger"

    def __init__(self, client: TestClient, store: Store) -> None:
        self.client = client
        self.store = store
        self.closed = False

    def close(self) -> None:
        """Stop this app (as a server process shuts down), before the test ends."""
        if not self.closed:
            self.client.__exit__(None, None, None)
            self.closed = True

    def settle(self) -> None:
        """Wait until the background workers handled everything delivered."""
        assert getattr(self.client.app.state, self.CHANNEL).dispatcher.idle(10)

    def admin(self, method: str, path: str, **kwargs):
        headers = {"Authorization": "Bearer staff-token"}
        return self.client.request(method, f"/api/v1/admin{path}", headers=headers, **kwargs)

    def metric(self, name: str) -> float:
        """A sample's value in /metrics, `name` with its labels as exported (0 when absent)."""
        for line in self.client.get("/metrics").text.splitlines():
            if line.startswith(name + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0


class Page(ChannelApp):
    """A test client for one app, speaking as Meta's Messenger webhook."""

    def deliver(self, *events: dict, standby: bool = False, secret: str = SECRET) -> int:
        """POST one signed delivery of `events`; the HTTP status."""
        body = json.dumps(page(*events, standby=standby)).encode()
        headers = {
            "X-Hub-Signature-256": signature(secret.encode(), body),
            "Content-Type": "application/json",
        }
        return self.client.post("/webhooks/messenger", content=body, headers=headers).status_code


@pytest.fixture
def open_page(messenger_home, messenger_retriever, graph, tmp_path):
    """Start an app (as many as a test wants, e.g. two server processes over one store)."""
    home, _ = messenger_home
    pages = []

    def start(
        database_url: str | None = None,
        thresholds: Thresholds | None = None,
        store: Store | None = None,
        **overrides,
    ) -> Page:
        """An app on `store` (else one opened from `database_url`, else a SQLite file of the test);
        its spool (turns and the Messenger inbox) is the test's own, shared by every app it starts."""
        owned = store is None
        store = store or Store(database_url or f"sqlite:///{tmp_path / 'store.db'}").open()
        chat = ChatService(Bot(messenger_retriever, thresholds or Thresholds()), store)
        overrides = {"spool_dir": tmp_path / "spool", **overrides}
        client = TestClient(create_app(messenger_settings(home, graph, **overrides), chat))
        client.__enter__()
        opened = Page(client, store)
        pages.append((opened, owned))
        return opened

    yield start
    for opened, owned in pages:
        opened.close()
        if owned:
            opened.store.close()


def page(*events: dict, standby: bool = False) -> dict:
    """A webhook delivery: one entry holding `events`."""
    field = "standby" if standby else "messaging"
    return {"object": "page", "entry": [{"id": PAGE_ID, "time": now_ms(), field: list(events)}]}


def now_ms(hours_ago: float = 0.0) -> int:
    return int((time.time() - hours_ago * 3600) * 1000)


def text(psid: str, body: str, mid: str | None = None, quick_reply: str | None = None, **extra) -> dict:
    message: dict = {"mid": mid or f"m_{next(_mids)}", "text": body}
    if quick_reply is not None:
        message["quick_reply"] = {"payload": quick_reply}
    return {
        "sender": {"id": psid},
        "recipient": {"id": PAGE_ID},
        "timestamp": now_ms(),
        "message": message,
        **extra,
    }


def postback(psid: str, payload: str, title: str) -> dict:
    return {
        "sender": {"id": psid},
        "recipient": {"id": PAGE_ID},
        "timestamp": now_ms(),
        "postback": {"mid": f"m_{next(_mids)}", "payload": payload, "title": title},
    }


def control(psid: str, kind: str, new_owner: str | None, previous_owner: str | None = None) -> dict:
    data = {"metadata": "", "previous_owner_app_id": previous_owner}
    if new_owner is not None:
        data["new_owner_app_id"] = new_owner
    return {
        "sender": {"id": psid},
        "recipient": {"id": PAGE_ID},
        "timestamp": now_ms(),
        f"{kind}_thread_control": data,
    }

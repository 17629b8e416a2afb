"""Shared set-up for the Instagram tests: the Messenger tests' small KB (indexed once), the app with
the Instagram channel configured against the fake Graph API in Instagram mode (a Page linked to an
Instagram professional account), and signed `object: "instagram"` deliveries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.channels.graph.signature import signature
from bot.config import Settings
from bot.dialogue.bot import Bot
from bot.dialogue.policy import Thresholds
from bot.service.chat import ChatService
from bot.storage.store import Store
from bot.web.app import create_app
from tests.fake_graph import FakeGraph
from tests.messenger_kit import ChannelApp, now_ms

SECRET = "ig-app-s3cret"
PAGE_TOKEN = "ig-page-t0ken"
VERIFY = "ig-verify-me"
IG_ACCOUNT = "17841400000000001"  # the Instagram professional account (entry.id, recipient.id)
OUR_APP = "1234567890"


@pytest.fixture
def ig_graph():
    fake = FakeGraph(PAGE_TOKEN, instagram=True).start()
    fake.instagram_account = IG_ACCOUNT
    yield fake
    fake.stop()


def instagram_settings(home: Path, graph: FakeGraph, **overrides) -> Settings:
    values = {
        "home": home,
        "instagram_app_secret": SECRET,
        "instagram_page_token": PAGE_TOKEN,
        "instagram_verify_token": VERIFY,
        "instagram_account_id": IG_ACCOUNT,
        "instagram_app_id": OUR_APP,
        "instagram_graph_url": graph.url,
        "instagram_send_backoff": 0.01,
        "instagram_typing_after": 30.0,  # no typing indicator unless a test asks for one
        "reload_interval": 0,
        "admin_token": "staff-token",
        **overrides,
    }
    return Settings(**values)


def delivery(*events: dict, standby: bool = False, account: str = IG_ACCOUNT) -> dict:
    """An Instagram webhook delivery: one entry of the account holding `events`."""
    field = "standby" if standby else "messaging"
    return {"object": "instagram", "entry": [{"id": account, "time": now_ms(), field: list(events)}]}


class Account(ChannelApp):
    """A test client for one app, speaking as Meta's Instagram webhook."""

    CHANNEL = "instagram"

    def post(self, body: dict, secret: str = SECRET) -> int:
        raw = json.dumps(body).encode()
        headers = {"X-Hub-Signature-256": signature(secret.encode(), raw), "Content-Type": "application/json"}
        return self.client.post("/webhooks/instagram", content=raw, headers=headers).status_code

    def deliver(self, *events: dict, standby: bool = False, secret: str = SECRET) -> int:
        """POST one signed delivery of `events`; the HTTP status."""
        return self.post(delivery(*events, standby=standby), secret)


@pytest.fixture
def open_account(messenger_home, messenger_retriever, ig_graph, tmp_path):
    """Start an app (as many as a test wants, e.g. two server processes over one store)."""
    home, _ = messenger_home
    accounts = []

    def start(database_url: str | None = None, thresholds: Thresholds | None = None, **overrides) -> Account:
        store = Store(database_url or f"sqlite:///{tmp_path / 'store.db'}").open()
        chat = ChatService(Bot(messenger_retriever, thresholds or Thresholds()), store)
        overrides = {"spool_dir": tmp_path / "spool", **overrides}
        client = TestClient(create_app(instagram_settings(home, ig_graph, **overrides), chat))
        client.__enter__()
        account = Account(client, store)
        accounts.append(account)
        return account

    yield start
    for account in accounts:
        account.close()
        account.store.close()

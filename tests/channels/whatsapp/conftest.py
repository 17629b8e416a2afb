"""Shared set-up for the WhatsApp tests: the Messenger tests' small KB (indexed once), the app with
the WhatsApp channel configured against the fake Cloud API, and signed webhook deliveries."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import time
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
from tests.fake_whatsapp import BUSINESS_ACCOUNT_ID, PHONE_NUMBER_ID, FakeWhatsApp, webhook
from tests.messenger_kit import ChannelApp

SECRET = "wa-app-s3cret"
TOKEN = "wa-t0ken"
VERIFY = "wa-verify-me"
_ids = itertools.count(1)


@pytest.fixture
def cloud():
    fake = FakeWhatsApp(TOKEN).start()
    yield fake
    fake.stop()


def whatsapp_settings(home: Path, cloud: FakeWhatsApp, **overrides) -> Settings:
    values = {
        "home": home,
        "whatsapp_app_secret": SECRET,
        "whatsapp_access_token": TOKEN,
        "whatsapp_verify_token": VERIFY,
        "whatsapp_phone_number_id": PHONE_NUMBER_ID,
        "whatsapp_business_account_id": BUSINESS_ACCOUNT_ID,
        "whatsapp_graph_url": cloud.url,
        "whatsapp_send_backoff": 0.01,
        "reload_interval": 0,
        "admin_token": "staff-token",
        **overrides,
    }
    return Settings(**values)


class Phone(ChannelApp):
    """A test client for one app, speaking as Meta's WhatsApp webhook."""

    CHANNEL = "whatsapp"

    def __init__(self, client: TestClient, store: Store, cloud: FakeWhatsApp) -> None:
        super().__init__(client, store)
        self.cloud = cloud

    def deliver(self, *messages: dict, secret: str = SECRET, payload: dict | None = None) -> int:
        """POST one signed delivery of customer `messages` (or of `payload`); the HTTP status. The
        fake Cloud API learns that these customers wrote (their 24-hour window opens)."""
        for item in messages:
            self.cloud.customer_wrote(item["from"], dt.datetime.fromtimestamp(int(item["timestamp"]), dt.UTC))
        body = json.dumps(payload if payload is not None else webhook({"messages": list(messages)})).encode()
        headers = {
            "X-Hub-Signature-256": signature(secret.encode(), body),
            "Content-Type": "application/json",
        }
        return self.client.post("/webhooks/whatsapp", content=body, headers=headers).status_code


@pytest.fixture
def open_app(messenger_home, messenger_retriever, cloud, tmp_path):
    """Start an app (as many as a test wants, e.g. two server processes over one store)."""
    home, _ = messenger_home
    phones = []

    def start(store: Store | None = None, thresholds: Thresholds | None = None, **overrides) -> Phone:
        owned = store is None
        store = store or Store(f"sqlite:///{tmp_path / 'store.db'}").open()
        chat = ChatService(Bot(messenger_retriever, thresholds or Thresholds()), store)
        overrides = {"spool_dir": tmp_path / "spool", **overrides}
        client = TestClient(create_app(whatsapp_settings(home, cloud, **overrides), chat))
        client.__enter__()
        phone = Phone(client, store, cloud)
        phones.append((phone, owned))
        return phone

    yield start
    for phone, owned in phones:
        phone.close()
        if owned:
            phone.store.close()


def message(wa_id: str, kind: str, content: dict, hours_ago: float = 0.0, wamid: str | None = None) -> dict:
    """One customer message of the `messages` webhook."""
    stamp = str(int(time.time() - hours_ago * 3600))
    return {
        "from": wa_id,
        "id": wamid or f"wamid.IN{next(_ids)}",
        "timestamp": stamp,
        "type": kind,
        kind: content,
    }


def text(wa_id: str, body: str, **kwargs) -> dict:
    return message(wa_id, "text", {"body": body}, **kwargs)


def button_reply(wa_id: str, reply_id: str, title: str) -> dict:
    return message(
        wa_id, "interactive", {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}}
    )


def list_reply(wa_id: str, row_id: str, title: str) -> dict:
    content = {"type": "list_reply", "list_reply": {"id": row_id, "title": title, "description": ""}}
    return message(wa_id, "interactive", content)

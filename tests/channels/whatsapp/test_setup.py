"""`faqbot whatsapp setup`: the business number and the webhook subscription checked against the
(fake) Graph API, with clear errors."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from tests.channels.whatsapp.conftest import TOKEN
from tests.fake_whatsapp import BUSINESS_ACCOUNT_ID, PHONE_NUMBER_ID

runner = CliRunner()


@pytest.fixture
def configured(monkeypatch, cloud):
    for name, value in {
        "FAQBOT_WHATSAPP_ACCESS_TOKEN": TOKEN, "FAQBOT_WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "FAQBOT_WHATSAPP_APP_SECRET": "s3cret", "FAQBOT_WHATSAPP_GRAPH_URL": cloud.url,
        "FAQBOT_WHATSAPP_BUSINESS_ACCOUNT_ID": BUSINESS_ACCOUNT_ID, "FAQBOT_WHATSAPP_SEND_BACKOFF": "0.01",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    return cloud


def test_setup_shows_the_number_and_subscribes_with_apply(configured):
    unsubscribed = runner.invoke(app, ["whatsapp", "setup"])
    assert unsubscribed.exit_code == 1
    assert "+1 555-078-3881" in unsubscribed.output and "'Faqbot Shop'" in unsubscribed.output
    assert "quality rating GREEN" in unsubscribed.output and "--apply" in unsubscribed.output
    applied = runner.invoke(app, ["whatsapp", "setup", "--apply"])
    assert applied.exit_code == 0, applied.output
    assert "this app subscribed" in applied.output
    again = runner.invoke(app, ["whatsapp", "setup"])
    assert again.exit_code == 0 and "webhooks go to faqbot" in again.output
    assert TOKEN not in again.output + applied.output


def test_a_wrong_token_is_said_plainly(configured, monkeypatch):
    monkeypatch.setenv("FAQBOT_WHATSAPP_ACCESS_TOKEN", "wrong")
    result = runner.invoke(app, ["whatsapp", "setup"])
    assert result.exit_code == 1 and "the access token is not valid" in result.output


def test_a_wrong_phone_number_id_is_said_plainly(configured, monkeypatch):
    monkeypatch.setenv("FAQBOT_WHATSAPP_PHONE_NUMBER_ID", "123")
    result = runner.invoke(app, ["whatsapp", "setup"])
    assert result.exit_code == 1 and "no phone number with id 123" in result.output


def test_missing_settings_are_named(monkeypatch):
    monkeypatch.delenv("FAQBOT_WHATSAPP_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("FAQBOT_WHATSAPP_PHONE_NUMBER_ID", raising=False)
    result = runner.invoke(app, ["whatsapp", "setup"])
    assert result.exit_code == 2
    assert (
        "FAQBOT_WHATSAPP_ACCESS_TOKEN" in result.output and "FAQBOT_WHATSAPP_PHONE_NUMBER_ID" in result.output
    )

"""`faqbot instagram setup`: the linked Page, the Instagram account and the app's subscription,
checked against the fake Graph API."""

from __future__ import annotations

from typer.testing import CliRunner

from bot.cli.main import app
from tests.channels.instagram.conftest import IG_ACCOUNT, PAGE_TOKEN
from tests.fake_graph import APP_ID


def run(monkeypatch, graph, *args: str, **env: str):
    values = {
        "FAQBOT_INSTAGRAM_PAGE_TOKEN": PAGE_TOKEN,
        "FAQBOT_INSTAGRAM_APP_SECRET": "s",
        "FAQBOT_INSTAGRAM_ACCOUNT_ID": IG_ACCOUNT,
        "FAQBOT_INSTAGRAM_GRAPH_URL": graph.url,
        **env,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return CliRunner().invoke(app, ["instagram", "setup", *args])


def test_setup_checks_the_page_the_account_and_subscribes_with_apply(monkeypatch, ig_graph):
    unsubscribed = run(monkeypatch, ig_graph)
    assert unsubscribed.exit_code == 1, unsubscribed.output
    assert f"Instagram account {IG_ACCOUNT} linked" in unsubscribed.output
    assert "not subscribed to the Page's messages field" in unsubscribed.output
    ig_graph.subscriptions[APP_ID] = ["messaging_postbacks"]  # e.g. Messenger's, on the same Page
    applied = run(monkeypatch, ig_graph, "--apply")
    assert applied.exit_code == 0, applied.output
    assert ig_graph.subscriptions[APP_ID] == ["messages", "messaging_postbacks"]  # kept, not replaced
    again = run(monkeypatch, ig_graph)
    assert again.exit_code == 0 and "app subscribed to the Page's messages" in again.output
    assert PAGE_TOKEN not in again.output


def test_setup_reports_a_wrong_or_missing_account(monkeypatch, ig_graph):
    ig_graph.subscriptions[APP_ID] = ["messages"]
    wrong = run(monkeypatch, ig_graph, FAQBOT_INSTAGRAM_ACCOUNT_ID="178414999")
    assert wrong.exit_code == 1 and "not to FAQBOT_INSTAGRAM_ACCOUNT_ID's 178414999" in wrong.output
    ig_graph.instagram_account = None
    unlinked = run(monkeypatch, ig_graph)
    assert unlinked.exit_code == 1 and "no Instagram professional account is linked" in unlinked.output


def test_setup_needs_the_token_and_reports_a_wrong_one(monkeypatch, ig_graph):
    monkeypatch.delenv("FAQBOT_INSTAGRAM_PAGE_TOKEN", raising=False)
    missing = CliRunner().invoke(app, ["instagram", "setup"])
    assert missing.exit_code == 2 and "FAQBOT_INSTAGRAM_PAGE_TOKEN" in missing.output
    wrong = run(monkeypatch, ig_graph, FAQBOT_INSTAGRAM_PAGE_TOKEN="not-it")
    assert wrong.exit_code == 1 and "190" in wrong.output

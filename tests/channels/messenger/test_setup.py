"""`faqbot messenger setup`: the Page settings calls, printed, or made against the (fake) Graph API."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from bot.channels.messenger.profile import setup_calls
from bot.cli.main import app
from bot.dialogue.escalation import asks_for_person

runner = CliRunner()


def test_setup_prints_the_calls_without_the_token(monkeypatch):
    monkeypatch.setenv("FAQBOT_MESSENGER_PAGE_TOKEN", "real-page-token")
    result = runner.invoke(app, ["messenger", "setup"])
    assert result.exit_code == 0, result.output
    assert (
        "POST https://graph.facebook.com/v21.0/me/messenger_profile?access_token=$FAQBOT_MESSENGER_PAGE_TOKEN"
        in (result.output)
    )
    assert "me/subscribed_apps" in result.output and "--apply" in result.output
    assert "real-page-token" not in result.output


def test_the_profile_greets_and_offers_a_person_and_a_fresh_start_in_each_language():
    subscribe, profile = setup_calls("it", ["it", "en"])
    fields = "messages,messaging_postbacks,messaging_referrals,messaging_handovers,standby,message_echoes"
    assert subscribe.body == {"subscribed_fields": fields}
    body = profile.body
    assert body["get_started"] == {"payload": "GET_STARTED"}
    greetings = {g["locale"]: g["text"] for g in body["greeting"]}
    assert (
        set(greetings) == {"default", "it_IT", "en_US", "en_GB"}
        and greetings["default"] == greetings["it_IT"]
    )
    assert all(len(text) <= 160 for text in greetings.values())  # Meta's limit
    menus = {m["locale"]: m["call_to_actions"] for m in body["persistent_menu"]}
    assert [a["payload"] for a in menus["en_US"]] == ["PERSON", "START_OVER"]
    assert all(len(a["title"]) <= 30 for actions in menus.values() for a in actions)
    assert all(asks_for_person(actions[0]["title"]) for actions in menus.values())


def test_setup_apply_makes_the_calls(monkeypatch, graph):
    monkeypatch.setenv("FAQBOT_MESSENGER_PAGE_TOKEN", "real-page-token")
    monkeypatch.setenv("FAQBOT_MESSENGER_GRAPH_URL", graph.url)
    result = runner.invoke(app, ["messenger", "setup", "--apply"])
    assert result.exit_code == 0, result.output
    assert [c.path for c in graph.calls] == ["/v21.0/me/subscribed_apps", "/v21.0/me/messenger_profile"]
    assert all(c.query == {"access_token": "real-page-token"} for c in graph.calls)
    assert graph.calls[1].body == json.loads(json.dumps(setup_calls("it", ["it", "en"])[1].body))
    assert "real-page-token" not in result.output


def test_setup_apply_needs_the_token_and_reports_a_refusal(monkeypatch, graph):
    monkeypatch.delenv("FAQBOT_MESSENGER_PAGE_TOKEN", raising=False)
    assert runner.invoke(app, ["messenger", "setup", "--apply"]).exit_code == 2
    monkeypatch.setenv("FAQBOT_MESSENGER_PAGE_TOKEN", "real-page-token")
    monkeypatch.setenv("FAQBOT_MESSENGER_GRAPH_URL", graph.url)
    graph.then("/me/subscribed_apps", 403, {"error": {"message": "(#200) Permissions error", "code": 200}})
    result = runner.invoke(app, ["messenger", "setup", "--apply"])
    assert result.exit_code == 1 and "Graph error code 200" in result.output
    assert len(graph.calls) == 1  # stops at the first refusal
